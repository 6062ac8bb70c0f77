"""URL query <-> state, refused exactly as ``sdmodel run --set`` refuses."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from sdmodel.errors import SdmodelError
from sdmodel.model.scenarios import load_scenario, merge_settings
from sdmodel.serve.state import BadRequest, State, parse_query


def _parse(sim, text: str) -> State:
    return parse_query(
        parse_qs(text, keep_blank_values=True),
        sim.controls,
        sim.info,
        sim.scenarios,
        sim.default_scenario,
    )


def test_the_query_round_trips(sim) -> None:
    state = State(
        "explosive", {"WW maximum duration": 12.0, "Shock job loss share[low]": 0.1}, True
    )
    assert _parse(sim, state.query()) == state
    assert _parse(sim, "") == State("central")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("WW+maximum+duration=99", "above the maximum 24"),
        ("WW+maximum+duration=abc", "is not a number"),
        ("WW+maximum+duration=nan", "is not finite"),
        ("WW+maximum+duration=5&WW+maximum+duration=6", "given 2 times"),
        ("Nonsense=1", "not a policy lever or shock input"),
        ("Employment=1", "not a policy lever or shock input"),
        ("scenario=history", "unknown scenario 'history'"),
        ("bands=yes", "must be 0 or 1"),
        ("Shock+job+loss+share[low]=1.5", "above the maximum 0.99"),
    ],
)
def test_bad_queries_are_refused_with_one_line(sim, query: str, words: str) -> None:
    with pytest.raises(BadRequest, match=r"^URL parameter '") as caught:
        _parse(sim, query)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_range_message_is_the_command_lines(sim) -> None:
    with pytest.raises(SdmodelError) as cli:
        merge_settings(load_scenario("central"), [("AWf premium adjustment time", 0.01)], sim.info)
    with pytest.raises(BadRequest) as web:
        _parse(sim, "AWf+premium+adjustment+time=0.01")
    assert str(cli.value).replace("--set", "URL parameter") == str(web.value)
