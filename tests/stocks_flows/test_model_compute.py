"""Sector 1: the three compute scenarios reach their 2030 factors; trend doubling times.

Figures come from ``../shared/calibration/compute_scenarios.csv`` (SER 2023), not from
constants repeated here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from modelruns import compute_scenario_facts, constant, run

OOM_TOLERANCE = 0.1  # issue 2: each scenario within 0.1 order of magnitude in 2030


@pytest.mark.parametrize("scenario", ["conservative", "central", "explosive"])
def test_effective_compute_reaches_2030_factor(scenario):
    target = math.log10(compute_scenario_facts()["effective_compute_factor_by_2030"][scenario])
    oom = run(scenario)["effective_compute_oom"].sel(time=2030.0).item()
    assert abs(oom - target) <= OOM_TOLERANCE, f"{scenario}: {oom:.3f} OOM in 2030, want {target}"


def test_scenarios_are_ordered_through_2050():
    ooms = [run(s)["effective_compute_oom"] for s in ("conservative", "central", "explosive")]
    assert bool((ooms[0] < ooms[1]).isel(time=slice(1, None)).all())
    assert bool((ooms[1] < ooms[2]).isel(time=slice(1, None)).all())


@pytest.mark.parametrize(
    ("variable", "quantity"),
    [
        ("algorithmic_growth_rate", "doubling_time_algorithmic_efficiency"),
        ("hardware_growth_rate", "doubling_time_hardware_efficiency"),
        ("spending_growth_rate", "doubling_time_compute_spending"),
    ],
)
def test_central_component_doubling_times(variable, quantity):
    """Doubling time implied by the model's 2024 growth rate equals the current trend.

    Tolerance 0.1%: in 2024 spending uses 3e-4 of its affordability cap, which slows its
    growth by 0.03%; the AI-research feedback and the hardware and algorithmic limits
    are normalised to act from their 2024 levels.
    """
    months = compute_scenario_facts()[quantity]["central"]
    rate = run("central")[variable].sel(time=2024.0).item()  # OOM per year
    implied_months = 12 * math.log10(2) / rate
    np.testing.assert_allclose(implied_months, months, rtol=1e-3)


def test_spending_growth_slows_only_near_the_cap():
    """Central: spending keeps its trend while far below the affordability cap (within 1%
    while the share is below 1% of the cap) and slows towards world GDP growth near it."""
    ds = run("central")
    rate = ds["spending_growth_rate"]
    trend = constant(ds["base_spending_growth_rate"])
    far = (
        ds["ai_training_spending_share_of_world_gdp"]
        < 0.01 * ds["maximum_ai_training_spending_share"]
    )
    assert bool(far.sel(time=2024.0))
    np.testing.assert_allclose(rate.where(far, drop=True), trend, rtol=0.01)
    assert rate.sel(time=2040.0).item() < 0.05 * trend


def test_no_further_ai_holds_compute_at_2024():
    oom = run("no_further_ai")["effective_compute_oom"]
    assert np.ptp(oom.values) == 0.0
