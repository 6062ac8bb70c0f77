"""Labour supply, mobility between groups and the task decomposition (sector 11, issue 12).

Behaviour tests on engine runs (the engine equals pysd to 1e-9, test_engine_model.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from modelruns import NO_DEMOGRAPHIC_DRIFT, engine_run, run

from sdmodel.shocks.report import PERSON_STOCKS, POPULATION_COUNTER


def _at(ds, name: str, year: float):
    return ds[name].sel(time=year)


def test_population_follows_the_cbs_projection():
    """Constant to 2040, then linear to 1.036 times 2023 in 2050 (CBS middle variant)."""
    ds = run("central")
    pop = ds["total_population"]
    start = pop.sel(time=2024.0).item()
    # CBS: 9.737 mln employed at a net participation of 0.731 (13.326 mln aged 15-75)
    assert start == pytest.approx(9.737e6 / 0.731, rel=1e-12)
    assert start == pytest.approx(1.3326e7, rel=1e-3)
    # tolerance: persons are summed over eight stocks, each integrated with rounding
    assert float(np.abs(pop.sel(time=slice(2024, 2040)) / start - 1).max()) < 1e-12
    assert pop.sel(time=2050.0).item() == pytest.approx(1.036 * start, rel=1e-12)
    assert pop.sel(time=2045.0).item() == pytest.approx(1.018 * start, rel=1e-12)


@pytest.mark.parametrize("scenario", ["no_further_ai", "conservative", "central", "explosive"])
def test_the_population_split_binds_only_while_the_projection_falls(scenario):
    """``MAX(0, growth)`` and ``MAX(0, -growth)`` (stocks_flows/README.md, sector 11): in
    every scenario file the population grows, so no person leaves through a decline and
    the inflow is the signed growth; with the low-migration variant (0.94) the fall is an
    exit from 2040 to the end of the projection (2050) and the inflow is zero."""
    ds = run(scenario)
    assert float(ds["population_decline_rate"].max()) == 0.0
    np.testing.assert_array_equal(ds["population_growth_inflow"], ds["population_growth"])
    low = engine_run(scenario, (("Working age population 2050 relative to 2023", 0.94),))
    falling = low["population_decline_rate"].sel(time=slice(2040.0, 2049.75))  # ends at 2050
    assert float(falling.min()) > 0
    assert float(low["population_decline_rate"].sel(time=slice(2024.0, 2039.75)).max()) == 0.0
    assert float(low["population_growth_inflow"].max()) == 0.0


def test_without_demographic_drift_no_further_ai_is_a_steady_state():
    """Entries replace exits group by group in 2024, and moves between groups balance."""
    ds = engine_run("no_further_ai", NO_DEMOGRAPHIC_DRIFT)
    for name in (*PERSON_STOCKS, "participation_rate", "employment_share_by_skill"):
        if name == POPULATION_COUNTER:
            continue
        x = ds[name]
        # tolerance: rounding accumulated over 416 Euler steps, far below one person
        np.testing.assert_allclose(x, x.isel(time=0).broadcast_like(x), rtol=1e-9, atol=1e-6)
    growth = ds["wage"].sel(time=2050.0) / ds["wage"].sel(time=2024.0)
    np.testing.assert_allclose(growth, np.exp(0.004 * 26), rtol=1e-9)


def test_participation_responds_to_wages():
    """Participation falls where the wage falls relative to its trend (central, 2040)."""
    base = engine_run("central")
    flat = engine_run(
        "central",
        (("Participation wage elasticity", 0.0), ("Participation benefit elasticity", 0.0)),
    )
    strong = engine_run("central", (("Participation wage elasticity", 0.5),))
    wage = _at(base, "negotiated_relative_wage", 2040.0)
    assert bool((wage < 0.95).all())  # AI lowers every group's wage relative to trend
    p = {k: _at(ds, "participation_rate", 2040.0) for k, ds in (("flat", flat), ("base", base))}
    p["strong"] = _at(strong, "participation_rate", 2040.0)
    assert bool((p["strong"] < p["base"]).all()) and bool((p["base"] < p["flat"]).all())


def test_a_larger_population_raises_employment():
    base = engine_run("no_further_ai")
    big = engine_run("no_further_ai", (("Working age population 2050 relative to 2023", 1.12),))
    gain = _at(big, "total_employment", 2050.0) / _at(base, "total_employment", 2050.0) - 1
    assert 0.02 < gain.item() < 0.09  # 8% more people; part still in school or inactive
    # demand follows supply through government spending per resident and the output-gap
    # closure, with a lag: 12% more people within ten years (2040-2050) leave unemployment
    # 0.7 pp above 3.6% in 2050 (tolerance 1 pp: the lag of a 5-year closure behind a ramp)
    assert abs(_at(big, "unemployment_rate", 2050.0).item() - 0.036) < 0.01


def test_displaced_workers_move_down_and_upgrading_follows_demand():
    base = engine_run("central")
    still = engine_run("central", (("Upgrading rate", 0.0),))
    assert float(np.abs(still["net_mobility_into_group"]).max()) == 0.0
    # in 2030 the middle and high groups hire less than the low group relative to 2024
    chance = _at(base, "relative_hiring_chance", 2030.0)
    assert chance.sel(skill="low") > chance.sel(skill="middle")
    share = base["downgrading_share"]
    assert _at(base, "downgrading_share", 2030.0).sel(skill="middle") > share.isel(time=0).sel(
        skill="middle"
    )
    # mobility moves employment towards the group that is hit least
    gain = _at(base, "employment_share_by_skill", 2040.0) - _at(
        still, "employment_share_by_skill", 2040.0
    )
    assert gain.sel(skill="low") > 0 > gain.sel(skill="high")


def test_task_decomposition_signs():
    """No AI: no displacement or reinstatement; central: displacement negative and
    largest in the groups with most automatable tasks, reinstatement positive."""
    none = engine_run("no_further_ai", NO_DEMOGRAPHIC_DRIFT)
    for name in ("displacement_effect_on_labour_demand", "reinstatement_effect_on_labour_demand"):
        assert float(np.abs(none[name]).max()) < 1e-9
    ds = run("central")
    d = _at(ds, "displacement_effect_on_labour_demand", 2040.0)
    r = _at(ds, "reinstatement_effect_on_labour_demand", 2040.0)
    assert bool((d < 0).all()) and bool((r > 0).all())
    assert d.sel(skill="middle") < d.sel(skill="low")
    change = _at(ds, "labour_demand_change", 2040.0)
    expected = np.log(_at(ds, "labour_demand", 2040.0) / _at(ds, "employment", 2024.0))
    np.testing.assert_allclose(change, expected, rtol=1e-12)


@pytest.mark.xfail(
    strict=True,
    reason="not an outcome of the model: in central the middle group's employment share "
    "is 33.5% in 2050 (+0.1 pp), the high group's falls by 1.2 pp and the low group's rises "
    "by 1.0 pp, because generative AI's automatable tasks are as much in the high group as "
    "in the middle (displacement effect on labour demand by 2040: -0.64, -1.00 and -0.92 "
    "log points); downgrading moves the middle group's displaced down and the high group's "
    "into the middle. Explained in stocks_flows/README.md",
)
def test_middle_group_employment_share_falls_by_2pp_in_central():
    ds = run("central")
    share = ds["employment_share_by_skill"].sel(skill="middle")
    assert share.sel(time=2050.0).item() < share.sel(time=2024.0).item() - 0.02
