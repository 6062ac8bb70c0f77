"""Model v2, part 1: bounded AI capability, automation curves and a price mechanism that acts.

Checks the limits of the three compute components (in every scenario and in Monte Carlo
draws of the default uncertainty specification), the selectable automation curves, the
exposure pattern of the sources, adoption that can complete, and that wages act on
adoption throughout the horizon.
"""

from __future__ import annotations

import numpy as np
import pytest
from modelruns import constant, engine_run, per_run, run, spec_ensemble

FORWARD = ("conservative", "central", "explosive")
#: Monte Carlo draws per scenario for the limit checks (LHS, fixed seed).
N_DRAWS = 200
SEED = 20261201
LIMIT_VARS = (
    "AI training spending share of world GDP",
    "Maximum AI training spending share",
    "Hardware efficiency OOM",
    "Hardware efficiency bound OOM",
    "Effective compute OOM",
)


#: Relative rounding tolerance at a smooth limit: the logistic spending path closes its gap
#: to the cap with an e-folding time of about 0.6 years, so by the 2040s the share equals
#: the cap to within float64 rounding (a few 1e-15); 1e-12 is a thousand times that.
ROUNDING = 1e-12


def _draws(scenario: str) -> dict:
    return spec_ensemble(scenario, N_DRAWS, SEED, LIMIT_VARS)


# --- bounded compute -----------------------------------------------------------------


@pytest.mark.parametrize("scenario", FORWARD)
def test_spending_share_never_above_cap(scenario):
    ds = run(scenario)
    share = ds["ai_training_spending_share_of_world_gdp"]
    cap = constant(ds["maximum_ai_training_spending_share"])
    assert float(share.max()) <= cap * (1 + ROUNDING)


@pytest.mark.parametrize("scenario", FORWARD)
def test_spending_share_below_cap_in_every_draw(scenario):
    out = _draws(scenario)
    share = out["ai_training_spending_share_of_world_gdp"]  # (run, time)
    cap = per_run(out["maximum_ai_training_spending_share"])
    assert bool(np.all(share <= cap * (1 + ROUNDING))), f"max share/cap {(share / cap).max():.15f}"


def test_spending_approaches_cap_smoothly():
    """Central: the share nears the cap (logistic) while spending growth slows to world GDP
    growth; the growth rate falls monotonically once the cap is felt."""
    ds = run("central")
    cap = constant(ds["maximum_ai_training_spending_share"])
    share = ds["ai_training_spending_share_of_world_gdp"]
    assert float(share.sel(time=2050.0)) > 0.99 * cap
    rate = ds["spending_growth_rate"].values
    assert bool(np.all(np.diff(rate) <= 0))
    world = constant(ds["world_gdp_growth_oom_rate"])
    assert rate[-1] == pytest.approx(world, rel=0.02)


@pytest.mark.parametrize("scenario", FORWARD)
def test_hardware_never_above_bound(scenario):
    ds = run(scenario)
    assert float(ds["hardware_efficiency_oom"].max()) < constant(
        ds["hardware_efficiency_bound_oom"]
    )
    out = _draws(scenario)
    bound = per_run(out["hardware_efficiency_bound_oom"])
    assert bool(np.all(out["hardware_efficiency_oom"] < bound))


@pytest.mark.parametrize("scenario", FORWARD)
def test_effective_compute_2050_below_1e30(scenario):
    assert run(scenario)["effective_compute_oom"].sel(time=2050.0).item() < 30.0
    assert float(_draws(scenario)["effective_compute_oom"][:, -1].max()) < 30.0


def test_explosive_accelerates_then_slows():
    """The AI-research feedback raises algorithmic growth above its 2024 rate; diminishing
    returns bring it down again once spending stops growing (no runaway)."""
    rate = engine_run("explosive")["algorithmic_growth_rate"]
    no_feedback = engine_run("explosive", (("AI research feedback strength", 0.0),))
    gain = rate - no_feedback["algorithmic_growth_rate"]
    assert float(gain.max()) > 0.2  # OOM/year added by AI doing AI research
    peak_time = float(rate.idxmax())
    assert 2026 <= peak_time <= 2035
    assert rate.sel(time=2050.0).item() < 0.25 * float(rate.max())


# --- automation curves ---------------------------------------------------------------


def test_high_group_gains_most_middle_stays_most_exposed():
    """SER request (McKinsey 2023, OECD): generative AI adds the most risk for the best
    paid, while middle incomes remain the most exposed in total (central, 2024-2030)."""
    share = run("central")["automatable_task_share"].sel(time=slice(2024, 2030))
    rise = share.isel(time=-1) - share.isel(time=0)
    assert rise.sel(skill="high") > rise.sel(skill="middle")
    assert bool((share.sel(skill="middle") > share.sel(skill="high")).all())
    assert bool((share.sel(skill="middle") > share.sel(skill="low")).all())


@pytest.mark.parametrize("family", [1.0, 2.0, 3.0])
def test_curve_families_share_the_2024_calibration(family):
    share = engine_run("central", (("Automation curve family", family),))["automatable_task_share"]
    np.testing.assert_allclose(share.sel(time=2024.0), [0.47, 0.65, 0.55], rtol=1e-12)
    assert bool((share.diff("time") >= -1e-15).all())  # never falls as compute grows


def test_curve_families_differ():
    values = [
        engine_run("central", (("Automation curve family", f),))["automatable_task_share"]
        .sel(time=2027.0)
        .values
        for f in (1.0, 2.0, 3.0)
    ]
    assert not np.allclose(values[0], values[1]) and not np.allclose(values[1], values[2])


def test_ceilings_of_one_reach_full_automation():
    """GATE-shaped curve, ceilings 1: every task automatable in the explosive scenario."""
    ceilings = tuple((f"Automation ceiling[{g}]", 1.0) for g in ("low", "middle", "high"))
    ds = engine_run("explosive", (("Automation curve family", 2.0), *ceilings))
    np.testing.assert_allclose(ds["automatable_task_share"].sel(time=2050.0), 1.0, rtol=1e-12)


def test_near_full_adoption_is_reachable():
    """Ceilings 1 and fast-closing barriers (erosion 0.25 a year, the top of its range):
    the explosive scenario automates more than 90% of middle and high tasks by 2050."""
    overrides = (
        *((f"Automation ceiling[{g}]", 1.0) for g in ("low", "middle", "high")),
        ("Adoption barrier erosion rate", 0.25),
    )
    adopted = engine_run("explosive", overrides)["adopted_automation_share"].sel(time=2050.0)
    assert adopted.sel(skill="middle") > 0.9
    assert adopted.sel(skill="high") > 0.9


def test_barriers_that_never_fall_hold_adoption_back():
    never = engine_run("central", (("Adoption barrier erosion rate", 0.0),))
    base = engine_run("central")
    a_never = never["adopted_automation_share"].sel(time=2050.0)
    a_base = base["adopted_automation_share"].sel(time=2050.0)
    assert bool((a_never < a_base - 0.1).all())
    assert bool((never["adoption_barrier_share"] == base["adoption_barrier_share"][0]).all())


# --- the price mechanism ---------------------------------------------------------------


def test_falling_wages_slow_adoption():
    """Central with sticky wages (slow, strongly downward-rigid agreements) against flexible
    wages (fast, symmetric): flexible wages fall further as automation lowers labour
    demand, which makes AI relatively dearer, so fewer tasks are profitable and adoption
    is slower."""
    rigid = engine_run("central", (("Wage adjustment time", 4.0), ("Downward wage rigidity", 5.0)))
    flexible = engine_run(
        "central", (("Wage adjustment time", 1.0), ("Downward wage rigidity", 1.0))
    )
    t = slice(2026.0, 2035.0)
    wage_gap = flexible["wage"].sel(time=t) / rigid["wage"].sel(time=t)
    assert float(wage_gap.max()) < 1.0 and float(wage_gap.min()) < 0.9  # wages do fall
    ratio = flexible["ai_cost_ratio"].sel(time=t) > rigid["ai_cost_ratio"].sel(time=t)
    assert bool(ratio.all())
    slower = flexible["adopted_automation_share"].sel(time=2030.0) < rigid[
        "adopted_automation_share"
    ].sel(time=2030.0)
    assert bool(slower.all())


def test_price_mechanism_has_no_limiter():
    """No cap carries the price mechanism. The adoption speed effect is (2024 cost ratio /
    cost ratio) ^ elasticity with no MIN, so its wage elasticity equals the adoption cost
    elasticity at every time; and the profitable share never saturates: its semi-elasticity
    to the wage, P (1 - P) / dispersion, stays above 0.05 over 2026-2050 (a 10% wage fall
    moves at least 0.5% of the automatable tasks) in every group and forward scenario. In
    2024-2025 the low group's AI is still far dearer than labour (P = 0.02)."""
    for scenario in FORWARD:
        ds = run(scenario)
        effect = ds["cost_effect_on_adoption"]
        ratio = ds["ai_cost_ratio_in_2024"] / ds["ai_cost_ratio"]
        expected = ratio ** constant(ds["adoption_cost_elasticity"])
        np.testing.assert_allclose(effect, expected.transpose(*effect.dims), rtol=1e-12)
        p = ds["profitable_automation_share"].sel(time=slice(2026.0, 2050.0))
        semi = p * (1 - p) / constant(ds["ai_cost_dispersion"])
        assert float(semi.min()) > 0.05, f"{scenario}: {float(semi.min()):.3f}"
