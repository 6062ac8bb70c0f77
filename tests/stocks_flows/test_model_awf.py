"""The AWf calibrated to its 2024 rates and accounts, and its premium as a labour cost
(model v2 part 3, item 2).

The 2024 income and outlays are checked in every Monte Carlo draw in
``test_model_baseyear.py``; here: the statutory rates, the default of fixed rates, and
that a premium change reaches the employer's labour cost and, through it, production.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from modelruns import constant, engine_run, shared_path

COST_COVERING = (("AWf premium rule switch", 1.0),)


def _fact(name: str) -> float:
    with shared_path("calibration", "nl_facts.csv").open(newline="") as handle:
        rows = [r for r in csv.reader(handle) if r and r[0] == name]
    assert len(rows) == 1, name
    return float(rows[0][1])


def test_2024_rate_is_an_average_of_the_statutory_rates():
    ds = engine_run("no_further_ai")
    low, high = _fact("awf_premium_low"), _fact("awf_premium_high")
    assert constant(ds["awf_low_premium_rate_2024"]) == low
    assert constant(ds["awf_high_premium_rate_2024"]) == high
    rate = ds["awf_premium_rate"].isel(time=0).item()
    share = constant(ds["high_awf_premium_share_of_premium_wages"])
    assert rate == pytest.approx(low + (high - low) * share, rel=1e-12)
    assert low < rate < high


@pytest.mark.parametrize("scenario", ["no_further_ai", "central", "explosive"])
def test_default_rates_stay_at_2024_and_leave_labour_cost_equal_to_the_wage(scenario):
    ds = engine_run(scenario)
    rate = ds["awf_premium_rate"].values
    assert np.all(rate == rate[0])
    assert np.array_equal(ds["labour_cost"].values, ds["wage"].values)


def test_fund_runs_its_2024_surplus_without_ai():
    """At fixed rates the 2024 surplus (EUR 10.4 - 5.9 bn) accumulates in the fund."""
    ds = engine_run("no_further_ai")
    balance = ds["awf_balance"]
    gain = (balance.sel(time=2030.0) - balance.sel(time=2024.0)).item()
    surplus = (ds["awf_premium_income"] - ds["awf_outlays"]).isel(time=0).item()
    # six years of a surplus that grows with the wage trend (1.5% a year): 6-7x the 2024 one
    assert 6 * surplus < gain < 7 * surplus


def test_cost_covering_premium_rises_in_the_downturn_and_is_a_labour_cost():
    fixed, rule = engine_run("central"), engine_run("central", COST_COVERING)
    y = 2030.0
    assert rule["awf_premium_rate"].sel(time=y).item() > fixed["awf_premium_rate"].sel(time=y)
    wedge = rule["employer_premium_wedge"].sel(time=y)
    assert bool((wedge > 0).all())
    # the employer pays it: labour cost above the wage by the wedge
    np.testing.assert_allclose(
        rule["labour_cost"].sel(time=y), rule["wage"].sel(time=y) * (1 + wedge), rtol=1e-12
    )
    # dearer labour: less labour per unit of output and more automation
    req = "labour_requirement_at_trend_output"
    assert bool((rule[req].sel(time=y) < fixed[req].sel(time=y)).all())
    assert bool(
        (
            rule["adopted_automation_share"].sel(time=2032.0)
            > fixed["adopted_automation_share"].sel(time=2032.0)
        ).all()
    )


@pytest.mark.parametrize("scenario", ["central", "explosive"])
def test_employers_extra_premium_cost_is_the_funds_extra_income(scenario):
    """The wedge in labour cost is exactly the premium change on the premium wage bill,
    and households consume out of wage income, which excludes it."""
    ds = engine_run(scenario, COST_COVERING)
    extra_cost = ((ds["labour_cost"] - ds["wage"]) * ds["employment"] * ds["hours_factor"]).sum(
        "skill"
    )
    change = ds["awf_premium_rate"] - constant(ds["statutory_awf_premium_rate_2024"])
    extra_income = change * ds["awf_premium_wage_bill"]
    # rounding of products of EUR 1e11 amounts: 1e-9 of the compensation bill
    scale = float(ds["labour_compensation"].max())
    assert float(np.abs(extra_cost - extra_income).max()) < 1e-9 * scale
    assert float(np.abs(change).max()) > 0.01  # the rule does move the premium
    np.testing.assert_allclose(
        ds["labour_compensation"] - ds["wage_income"], extra_cost, rtol=0, atol=1e-9 * scale
    )


def test_cost_covering_rule_lowers_the_premium_towards_cost_without_ai():
    """Without AI the 2024 rates raise more than outlays: the rule cuts the premium."""
    ds = engine_run("no_further_ai", COST_COVERING)
    rate = ds["awf_premium_rate"]
    assert rate.sel(time=2030.0).item() < 0.7 * rate.isel(time=0).item()
    assert bool((ds["employer_premium_wedge"].sel(time=2030.0) < 0).all())
