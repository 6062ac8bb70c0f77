"""The simulator's state as a URL query, and back, checked as ``sdmodel run --set`` is.

A query such as ``?scenario=central&bands=1&WW+maximum+duration=12`` holds the compute
scenario, whether uncertainty bands are drawn, and the controls that differ from the
model's value, keyed as ``--set`` keys them (``Shock job loss share[low]=0.05``). Values
go through :func:`sdmodel.model.scenarios.merge_settings`, the function behind
``--set``, so the page refuses exactly what the command line refuses; names must be
controls (:mod:`sdmodel.serve.controls`). Every problem raises :class:`BadRequest`, one
line naming the parameter, which the server answers with status 400.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sdmodel.errors import SdmodelError
from sdmodel.model.info import ModelInfo
from sdmodel.serve.controls import Control

#: Query keys that are not controls.
RESERVED = ("scenario", "bands")
#: How error messages name an override (the CLI says ``--set``).
ORIGIN = "URL parameter"


class BadRequest(SdmodelError):
    """A query the simulator cannot run (answered with HTTP status 400)."""


@dataclass(frozen=True)
class State:
    """What the page shows: a scenario, control overrides and the bands switch."""

    scenario: str
    overrides: dict[str, float] = field(default_factory=dict)
    bands: bool = False

    def query(self) -> str:
        """The URL query (without ``?``) that :func:`parse_query` reads back."""
        items: list[tuple[str, str]] = [("scenario", self.scenario)]
        if self.bands:
            items.append(("bands", "1"))
        items += [(k, repr(float(v))) for k, v in self.overrides.items()]
        return urlencode(items)


def _one(query: Mapping[str, Sequence[str]], key: str) -> str:
    values = list(query[key])
    if len(values) != 1:
        raise BadRequest(f"{ORIGIN} {key!r} is given {len(values)} times; give it once")
    return values[0]


def _number(key: str, text: str) -> float:
    try:
        number = float(text.strip())
    except ValueError:
        raise BadRequest(f"{ORIGIN} {key!r}: value {text!r} is not a number") from None
    if not math.isfinite(number):
        raise BadRequest(f"{ORIGIN} {key!r}: value {text!r} is not finite")
    return number


def parse_query(
    query: Mapping[str, Sequence[str]],
    controls: Sequence[Control],
    info: ModelInfo,
    scenarios: Sequence[str],
    default_scenario: str,
) -> State:
    """Read and check a parsed query (``urllib.parse.parse_qs(..., keep_blank_values=True)``).

    Raises
    ------
    BadRequest
        An unknown scenario or parameter name, a repeated parameter, a value that is not
        a finite number, outside the declared range or below the time step (the message
        of ``sdmodel run --set`` for the same value), or ``bands`` other than 0 or 1.
    """
    from sdmodel.model.scenarios import load_scenario, merge_settings

    by_key = {c.key: c for c in controls}
    scenario = _one(query, "scenario") if "scenario" in query else default_scenario
    if scenario not in scenarios:
        raise BadRequest(
            f"{ORIGIN} 'scenario': unknown scenario {scenario!r} (one of {', '.join(scenarios)})"
        )
    bands = False
    if "bands" in query:
        text = _one(query, "bands").strip()
        if text not in {"0", "1"}:
            raise BadRequest(f"{ORIGIN} 'bands': {text!r} must be 0 or 1")
        bands = text == "1"
    overrides: dict[str, float] = {}
    for key in query:
        if key in RESERVED:
            continue
        if key not in by_key:
            raise BadRequest(
                f"{ORIGIN} {key!r}: not a policy lever or shock input of the model "
                f"(known: {', '.join(by_key)})"
            )
        overrides[key] = _number(key, _one(query, key))
    try:
        merge_settings(load_scenario(scenario), overrides, info, override_origin=ORIGIN)
    except SdmodelError as exc:
        raise BadRequest(str(exc)) from None
    return State(scenario, overrides, bands)
