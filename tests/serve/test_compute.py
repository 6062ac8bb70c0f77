"""The plotted numbers are the engine's numbers; the bands are reproducible."""

from __future__ import annotations

import numpy as np
from serveruns import engine_run

from sdmodel.experiments.runner import run_scenarios
from sdmodel.serve.compute import BAND_RUNS, CHARTS, State


def _series(payload: dict, chart: str, key: str) -> dict:
    charts = {c["key"]: c for c in payload["charts"]}
    return next(s for s in charts[chart]["series"] if s["key"] == key)


def test_the_variant_is_what_sdmodel_run_gives(sim) -> None:
    overrides = {"Shock job loss share[middle]": 0.05, "WW maximum duration": 12.0}
    payload = sim.payload(State("central", overrides))
    ds = engine_run(sim, "central", overrides)
    base = engine_run(sim, "central", {})
    assert payload["time"] == ds["time"].values.tolist()
    # exact: the same engine call, scaled to percent by the same multiplication
    got = _series(payload, "unemployment", "unemployment_rate")
    assert got["variant"] == (ds["unemployment_rate"].values * 100.0).tolist()
    assert got["baseline"] == (base["unemployment_rate"].values * 100.0).tolist()
    low = _series(payload, "wages", "wage[low]")
    assert low["variant"] == (ds["wage"].sel(skill="low").values * 1e-3).tolist()
    assert got["variant"] != got["baseline"]
    assert [c["key"] for c in payload["charts"]] == [c.key for c in CHARTS]
    # and the command's numbers (``sdmodel run --engine B --set ...``): with every variable
    # saved XLA compiles another program, so equal to rounding, to the engine tests'
    # tolerance between backends (1e-10; measured 1e-14 of scale over three settings and
    # every chart variable), while the lever moves unemployment by more than 1e-3
    command = run_scenarios(["central"], list(overrides.items()), engine=sim.backend)
    for chart, key, variable, scale in (
        ("unemployment", "unemployment_rate", "unemployment_rate", 100.0),
        ("ww_outlays", "ww_outlays", "ww_outlays", 1e-9),
        ("labour_share", "labour_income_share", "labour_income_share", 100.0),
    ):
        expected = command[variable].isel(scenario=0).values * scale
        plotted = _series(payload, chart, key)["variant"]
        np.testing.assert_allclose(plotted, expected, rtol=1e-10, atol=0, err_msg=key)
    expected = command["unemployment_rate"].isel(scenario=0).values * 100.0
    shift = np.abs(np.array(got["variant"]) - np.array(got["baseline"])) / expected
    assert shift.max() > 1e-3


def test_bands_span_the_variant_and_repeat_exactly(sim) -> None:
    state = State("central", {"WW maximum duration": 18.0}, bands=True)
    first = sim.payload(state)
    sim._bands.clear()  # recomputed from the same seeded design
    again = sim.payload(state)
    assert first["band_runs"] == BAND_RUNS
    series = _series(first, "unemployment", "unemployment_rate")
    assert series["band_low"] == _series(again, "unemployment", "unemployment_rate")["band_low"]
    low, high = np.array(series["band_low"]), np.array(series["band_high"])
    assert np.all(low <= high) and np.any(high - low > 0.5)  # at least half a point wide
    assert "band_low" not in _series(
        sim.payload(State("central")), "unemployment", "unemployment_rate"
    )


def test_the_bands_follow_the_lever(sim) -> None:
    runs = sim.band_runs("central", {"Shock job loss share[low]": 0.2})
    other = sim.band_runs("central", {})
    assert runs.sizes["run"] == BAND_RUNS
    # a 20% low-skill job loss (2027, over a year) raises unemployment in every draw at its end
    after = runs["unemployment_rate"].sel(time=2028.0) - other["unemployment_rate"].sel(time=2028.0)
    assert float(after.min()) > 0
