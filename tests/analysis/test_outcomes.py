"""Outcome expressions: parsing, and their values on a small ensemble-like Dataset."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sdmodel.analysis.outcomes import default_outcomes, evaluate, expand, parse_outcome
from sdmodel.errors import SdmodelError


def _ensemble() -> xr.Dataset:
    years = np.arange(2024.0, 2051.0)
    t = years - 2024
    # run r of scenario s: s + r * (t - 10)^2 / 100, lowest in 2034
    u = np.array([[s + r * (t - 10) ** 2 / 100 for r in range(3)] for s in range(2)])
    skill = np.stack([u, 2 * u], axis=-1)
    return xr.Dataset(
        {
            "unemployment_rate": (("time", "scenario", "run"), u.transpose(2, 0, 1)),
            "unemployment_rate_by_skill": (
                ("time", "scenario", "run", "skill"),
                skill.transpose(2, 0, 1, 3),
            ),
            "param_a": (("run",), np.arange(3.0)),
        },
        coords={
            "time": years,
            "decimal_year": ("time", years),
            "scenario": ["central", "explosive"],
            "skill": ["low", "high"],
        },
    )


def test_canonical_forms() -> None:
    assert parse_outcome(" Unemployment rate @ 2030 ").text == "Unemployment rate@2030"
    o = parse_outcome("MIN(awf_balance, 2024:2035)")
    assert (o.func, o.window, o.text) == ("min", (2024.0, 2035.0), "min(awf_balance, 2024:2035)")
    assert parse_outcome("argmax(x[low])").element == "low"


def test_values() -> None:
    ds = _ensemble()
    at = evaluate(ds, parse_outcome("Unemployment rate@2034"))  # a Vensim name
    np.testing.assert_array_equal(at, [[0, 0, 0], [1, 1, 1]])
    peak = evaluate(ds, parse_outcome("max(unemployment_rate)"))
    np.testing.assert_allclose(peak[1], 1 + np.arange(3) * 2.56)  # (2050 - 2034)^2 / 100
    assert evaluate(ds, parse_outcome("argmin(unemployment_rate)"))[0, 2] == 2034
    window = evaluate(ds, parse_outcome("max(unemployment_rate, 2030:2040)"))
    np.testing.assert_allclose(window[0], np.arange(3) * 0.36)  # 2040: (16 - 10)^2 / 100
    high = evaluate(ds, parse_outcome("unemployment_rate_by_skill[high]@2050"))
    np.testing.assert_allclose(high, 2 * evaluate(ds, parse_outcome("unemployment_rate@2050")))


def test_bare_names_and_defaults_expand() -> None:
    ds = _ensemble()
    texts = [o.text for o in expand(["unemployment_rate"], ds)]
    assert texts == [
        "unemployment_rate@2030",
        "unemployment_rate@2040",
        "unemployment_rate@2050",
        "max(unemployment_rate)",
    ]
    assert [o.text for o in default_outcomes(ds)] == texts  # the contract's, unsubscripted


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unemployment_rate@2060", "2060 is not a saved year of the run (2024 to 2050)"),
        ("nosuch@2030", "unknown variable 'nosuch'"),
        ("max(unemployment_rate, 2060:2070)", "no saved year of the run in 2060:2070"),
        ("unemployment_rate_by_skill@2030", "name one element"),
        ("unemployment_rate_by_skill[mid]@2030", "'mid' is not an element of skill"),
        ("median(unemployment_rate)", "unknown function 'median'"),
        ("unemployment_rate > 3", "not VAR@YEAR or FUNC(VAR)"),
    ],
)
def test_errors_name_the_expression(text: str, message: str) -> None:
    with pytest.raises(SdmodelError, match=".*".join(map(__import__("re").escape, [message]))):
        evaluate(_ensemble(), parse_outcome(text))
