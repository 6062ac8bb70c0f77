"""The public budget, sector 10 (issue 11, item 5): exact accounting, the 2024 facts and
balanced growth without AI."""

from __future__ import annotations

import numpy as np
import pytest
from modelruns import NO_DEMOGRAPHIC_DRIFT, engine_run

REVENUE = (
    "taxes_and_premiums_on_labour",
    "taxes_on_capital_income",
    "taxes_on_consumption",
    "ai_tax_revenue",
    "other_public_revenue",
)
OUTLAYS = (
    "government_consumption_and_investment_outlays",
    "ww_outlays",
    "awf_other_outlays",
    "bijstand_outlays",
    "retraining_outlays",
    "upskilling_outlays",
    "job_to_job_support_outlays",
    "mobility_team_outlays",
    "basic_income_outlays",
    "other_public_outlays",
)
#: Every lever of sector 9 on, so that every term is non-zero.
ALL_LEVERS = (
    ("AI tax rate", 0.1),
    ("Basic income per recipient", 3000.0),
    ("Budget neutral tax shift switch", 1.0),
    ("Employer charge cut", 0.02),
    ("Job to job service coverage", 0.5),
    ("Mobility team coverage", 0.5),
    ("Upskilling participation", 0.05),
)
#: CBS StatLine 84118ENG, 2024 (provisional): revenue, expenditure, EUR.
CBS_2024 = (487.910e9, 498.516e9)


def _close(got, expected, scale) -> None:
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9 * scale)


@pytest.mark.parametrize(
    ("scenario", "overrides"),
    [("central", ()), ("explosive", ALL_LEVERS), ("no_further_ai", ALL_LEVERS)],
)
def test_balance_is_revenue_minus_outlays_term_by_term(scenario, overrides):
    ds = engine_run(scenario, overrides)
    revenue = sum(ds[n].values for n in REVENUE)
    outlays = sum(ds[n].values for n in OUTLAYS)
    scale = float(np.abs(ds["public_revenue"].values).max())
    _close(ds["public_revenue"].values, revenue, scale)
    _close(ds["public_outlays"].values, outlays, scale)
    _close(ds["public_balance"].values, revenue - outlays, scale)
    _close(
        ds["public_balance_share_of_gdp"].values,
        ds["public_balance"].values / (ds["price_level"].values * ds["gdp"].values),
        1.0,
    )
    if overrides and scenario != "no_further_ai":  # without AI nobody is laid off
        late = ds["time"].values >= 2026.0
        for name in REVENUE + OUTLAYS:  # every term exercised
            assert np.abs(ds[name].values[late]).max() > 0, name


def test_2024_revenue_and_expenditure_are_cbs_figures():
    ds = engine_run("central").isel(time=0)
    revenue, expenditure = CBS_2024
    assert float(ds["public_revenue"]) == pytest.approx(revenue, rel=1e-12)
    assert float(ds["public_outlays"]) == pytest.approx(expenditure, rel=1e-12)
    assert float(ds["public_balance"]) == pytest.approx(revenue - expenditure, rel=1e-9)
    # -10.6 bn on the model's 2024 GDP of EUR 1,095 bn; CBS: -0.9% of its GDP
    assert float(ds["public_balance_share_of_gdp"]) == pytest.approx(-0.0097, abs=5e-4)
    # the implicit 2024 rates the sourced revenues give on the model's bases
    assert 0.28 < float(ds["labour_tax_rate_on_wages"]) < 0.36
    assert 0.2 < float(ds["capital_tax_rate_2024"]) < 0.3
    assert 0.2 < float(ds["consumption_tax_rate"]) < 0.3


def test_no_ai_budget_stays_at_its_2024_share():
    """Exactly without the demographic drift; within 0.3 pp of GDP with it."""
    share = engine_run("no_further_ai", NO_DEMOGRAPHIC_DRIFT)["public_balance_share_of_gdp"].values
    np.testing.assert_allclose(share, share[0], rtol=1e-9)
    share = engine_run("no_further_ai")["public_balance_share_of_gdp"].values
    assert float(np.abs(share - share[0]).max()) < 0.003
