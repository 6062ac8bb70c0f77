"""Standard system-dynamics validation of the model: conservation of persons, extreme
conditions, integration error and qualitative behaviour (DESIGN.md, issue 2)."""

from __future__ import annotations

import numpy as np
import pytest
from modelruns import (
    NO_DEMOGRAPHIC_DRIFT,
    SCENARIOS,
    SIGNED_STOCKS,
    engine_run,
    info,
    model_time_step,
    run,
)

from sdmodel.shocks.report import PERSON_STOCKS, POPULATION_COUNTER  # one list, guarded below

# --- conservation --------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_persons_conserved_at_every_saved_time(scenario):
    """Persons aged 15-75 sum to their 2024 total plus entries at 15 less exits at 75."""
    ds = run(scenario)
    total = sum(ds[name].sum("skill") for name in PERSON_STOCKS) - ds[POPULATION_COUNTER]
    rel = np.abs(total / total.isel(time=0) - 1)
    assert float(rel.max()) < 1e-9  # issue 2: relative error below 1e-9
    assert float(np.abs(ds[POPULATION_COUNTER]).max()) > 1e5  # the counter counts


def test_person_stocks_are_all_the_labour_market_stocks():
    """Guard for the conservation test: every stock in Person units is listed."""
    stocks = {e.py_name for e in info() if e.kind == "stock" and e.units == "Person"}
    co_flows = {  # benefit status of persons already counted in the unemployment stocks
        "ww_recipients_by_month",
        "bijstand_recipients_by_skill",
        POPULATION_COUNTER,  # a counter of persons, not a state they are in
    }
    assert stocks - co_flows == set(PERSON_STOCKS)


# --- extreme conditions --------------------------------------------------------------


def test_no_ai_growth_gives_no_ai_displacement():
    """Without AI growth and without the demographic drift nothing moves to AI.

    (With the drift, wages move relative to their trend and so does the profitable
    share of tasks: a price effect, not AI progress.)
    """
    ds = engine_run("no_further_ai", NO_DEMOGRAPHIC_DRIFT)
    # tolerance: rounding of INITIAL() against the running value, far below one person
    assert float(np.abs(ds["displacement"]).max()) < 1e-6
    assert float(np.abs(ds["adopted_automation_share"].diff("time")).max()) < 1e-12


def test_zero_replacement_rate_gives_zero_ww_outlays():
    ds = engine_run(
        "central", (("WW replacement rate higher", 0.0), ("WW replacement rate lower", 0.0))
    )
    assert float(np.abs(ds["ww_outlays"]).max()) == 0.0
    assert float(ds["ww_recipients"].max()) > 0  # people are still unemployed


def test_zero_retraining_capacity_gives_zero_enrolment():
    ds = engine_run("explosive", (("Initial retraining capacity", 0.0),))
    assert float(np.abs(ds["retraining_enrolment"]).max()) == 0.0
    assert float(ds["retraining_capacity"].max()) == 0.0
    assert float(ds["retraining_waiting_list"].max()) > ds["retraining_waiting_list"][0].item()


def test_explosive_stays_physical():
    ds = run("explosive")
    for name, var in ds.data_vars.items():
        assert not bool(np.isnan(var).any()), f"{name} has NaN"
    for element in info():
        # A fund balance may be negative (the AWf can borrow), and so may the demand
        # stabilisation and the cumulative effects of the task decomposition.
        if element.kind == "stock" and element.py_name not in SIGNED_STOCKS:
            assert float(ds[element.py_name].min()) >= 0, f"{element.name} < 0"
    shares = [
        "automatable_task_share",
        "adopted_automation_share",
        "adoptable_task_share",
        "ai_research_automation_share",
        "unemployment_rate",
        "unemployment_rate_by_skill",
        "labour_income_share",
        "ww_outlays_share_of_gdp",
        "public_outlays_share_of_gdp",
        "retraining_destination_share",
        "profitable_automation_share",
        "adoption_barrier_share",
        "ai_automation_curve",
        "ai_training_spending_share_of_world_gdp",
        "spending_affordability_headroom",
    ]
    # Tolerance 1e-12 for float64 rounding: the spending share converges onto its cap
    # (logistic), so its headroom is zero to within a few 1e-15 late in the run.
    for name in shares:
        assert -1e-12 <= float(ds[name].min()) and float(ds[name].max()) <= 1 + 1e-12, name


# --- integration error ---------------------------------------------------------------

KEY = ("Unemployment rate", "Wage", "Labour income share", "WW outlays")


@pytest.mark.parametrize(
    "scenario",
    [
        "central",
        pytest.param(
            "explosive",
            marks=pytest.mark.xfail(
                strict=True,
                reason=(
                    "model v2: Euler error in the explosive scenario in 2035, relative, "
                    "at half the step: unemployment 1.3% and WW outlays 2.2% (0.63% and 1.1% "
                    "at 1/32 against 1/64, first-order convergence) during the fast recovery "
                    "after the AI wave, when the monthly WW cohorts turn over within 1.3 time "
                    "steps; halving TIME STEP would double every pysd run of the test suite. "
                    "Not met; reported in stocks_flows/README.md"
                ),
            ),
        ),
    ],
)
def test_halving_time_step_changes_key_outputs_by_less_than_1_percent(scenario):
    """Euler error of the key outputs: the model's TIME STEP against half of it.

    Both runs by the ensemble engine, which reproduces pysd to 1e-9 at the model's
    TIME STEP and at another (test_engine_model.py): a pysd run at half the step would
    take two minutes, the engine's a second.
    """
    coarse = engine_run(scenario)  # at the model's own TIME STEP
    fine = engine_run(scenario, time_step=model_time_step() / 2)
    for year in (2035.0, 2050.0):
        for name in KEY:
            py = info().get(name).py_name
            elements = list(coarse["skill"].values) if "skill" in coarse[py].dims else [None]
            for element in elements:  # "Wage[low]" etc.
                column = f"{name}[{element}]" if element else name
                pick = {"time": year} | ({"skill": element} if element else {})
                a, b = coarse[py].sel(pick).item(), fine[py].sel(pick).item()
                assert abs(a / b - 1) < 0.01, f"{column} in {year}: {a:.6g} vs {b:.6g}"


# --- qualitative behaviour -----------------------------------------------------------


def test_explosive_displacement_exceeds_reinstatement_and_income_share_falls():
    ds = run("explosive")
    gap = (ds["displacement"] - ds["reinstatement"]).sum("skill")
    years_over = float((gap > 0).sum()) * 0.25  # SAVEPER is a quarter
    assert years_over >= 2, f"displacement exceeds reinstatement for {years_over} years only"
    lis = ds["labour_income_share"]
    assert float(lis.min()) < lis.sel(time=2024.0).item() - 0.1


@pytest.mark.xfail(
    strict=True,
    reason=(
        "not an outcome of model v2: the conservative scenario still gains 4 OOM of effective "
        "compute by 2030, so AI gets cheaper than labour for most automatable tasks and "
        "adopts 0.20 of middle tasks by 2030 and 0.63 by 2040; the closed economy of issue 10 "
        "absorbs it only gradually (unemployment 5.9% in 2030, 7.2% in 2040, 4.2% in 2050). "
        "The first model's claim that this scenario stays within 1 pp of the no-AI path had "
        "no source; kept as a strict expected failure so that a change that makes it true "
        "is noticed and argued"
    ),
)
def test_conservative_labour_market_stays_close_to_no_ai_path():
    cons, base = run("conservative"), run("no_further_ai")
    du = np.abs(cons["unemployment_rate"] - base["unemployment_rate"])
    assert float(du.max()) < 0.01  # within one percentage point throughout
    de = np.abs(cons["total_employment"] / base["total_employment"] - 1)
    assert float(de.max()) < 0.02  # employment within 2%


def test_explosive_hits_labour_market_harder_than_central():
    peak = {s: float(run(s)["unemployment_rate"].max()) for s in SCENARIOS}
    assert peak["no_further_ai"] < peak["conservative"] < peak["central"] < peak["explosive"]
