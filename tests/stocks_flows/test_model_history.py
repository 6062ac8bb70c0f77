"""The history run 1995-2023 against ../shared/calibration/history_facts.csv (issue 12 item 3).

The history scenario (``scenarios/history/history.toml``) starts the model in 1995 with AI
capability held at its 2024 state (no generative AI), the 1995 labour income share and the
1995-2023 productivity trend, and drives it with pre-generative-AI automation
(``Routine automation rate``, which acts only before 2024). Engine runs only; the engine is
compared with pysd on this scenario in ``test_engine_model.py``. The measures are defined
in :mod:`sdmodel.model.history`. One test per fact, each with its tolerance and why; a fact the
model misses with sourced parameters is a strict expected failure with the measured figure,
not a tuned knob or a wider tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
from modelruns import engine_run

from sdmodel.io.paths import PROJECT_ROOT
from sdmodel.model.history import (
    COMPARISONS,
    HISTORY_FACTS,
    HISTORY_SCENARIO,
    history_facts,
    history_measures,
    history_table,
    within,
)
from sdmodel.shocks.report import PERSON_STOCKS, POPULATION_COUNTER

HISTORY = str(HISTORY_SCENARIO)


def check(measures: dict[str, float], facts: dict, measure: str) -> None:
    """The measure meets its fact within the tolerance of ``sdmodel.model.history.COMPARISONS``
    (the one the README table shows; each test below says why it is that size)."""
    key, tolerance = COMPARISONS[measure]
    model, fact = measures[measure], facts[key]
    assert within(measure, model, fact), f"{measure}: model {model:.4f}, fact {fact}, {tolerance}"


@pytest.fixture(scope="module")
def run():
    return engine_run(HISTORY)


@pytest.fixture(scope="module")
def measures(run) -> dict[str, float]:
    return history_measures(run)


@pytest.fixture(scope="module")
def facts() -> dict[tuple[str, str], float]:
    assert HISTORY_FACTS.is_file(), f"facts missing: {HISTORY_FACTS}"
    return history_facts()


def test_history_run_covers_1995_to_2023_without_generative_ai(run) -> None:
    assert float(run["time"][0]) == 1995.0 and float(run["time"][-1]) == 2023.0
    # no generative AI: the AI-adopted shares stay at their calibration values, so every
    # task moved to capital is routine automation
    adopted = run["adopted_automation_share"]
    np.testing.assert_allclose(adopted, adopted.isel(time=0).broadcast_like(adopted), atol=2e-3)
    assert float(run["routine_automated_task_share"].sel(time=2023).min()) > 0


def test_history_run_conserves_persons(run) -> None:
    """From a 1995 start too: person stocks sum to their initial total plus net entries."""
    total = sum(run[name].sum("skill") for name in PERSON_STOCKS) - run[POPULATION_COUNTER]
    assert float(np.abs(total / total.isel(time=0) - 1).max()) < 1e-9


# --- tasks 1995-2017 (CPB 2023) --------------------------------------------------------


def test_one_in_five_tasks_replaced_1995_2017(measures, facts) -> None:
    # tolerance 0.05: "about one in five" spans one in six to one in four (0.17-0.25)
    check(measures, facts, "tasks_replaced")


def test_one_in_ten_new_tasks_1995_2017(measures, facts) -> None:
    # tolerance 0.025: "about one in ten" spans one in twelve to one in eight (0.08-0.125);
    # the model's default Reinstatement strength (0.5) gives it, no history-only value
    check(measures, facts, "new_tasks")


@pytest.mark.xfail(
    strict=True,
    reason="net change in tasks 1995-2017 is -0.10 log points (tasks replaced -0.20, new "
    "+0.10, spending shifts between the three groups -0.01), not about 0: CPB's balance comes "
    "from spending shifts towards labour-intensive industries (care, education, business "
    "services) within the groups, and the model has skill groups, not industries",
)
def test_net_task_count_roughly_unchanged_1995_2017(measures, facts) -> None:
    # tolerance 0.05: "roughly unchanged" read as smaller than half the new tasks (0.10)
    check(measures, facts, "net_task_change")


# --- hours shares 1998-2018 (advice request to the SER 2023) ----------------------------
# tolerance 1 pp for each group: the facts are rounded to about half a point ("almost 4",
# "about 1", "about 2.5") and the model's groups are wage/education terciles of persons,
# not occupations ranked by pay, which adds a mapping error of the same order.


@pytest.mark.xfail(
    strict=True,
    reason="middle group's hours share 1998-2018 falls by 0.8 pp, not about 4: the wage "
    "absorbs most of the routine displacement (1995-2017: middle wage bill net of trend -0.086, "
    "labour demand -0.035 log points) and employment follows labour supply, which moves only "
    "through mobility and entrants",
)
def test_middle_hours_share_down_about_4_pp_1998_2018(measures, facts) -> None:
    check(measures, facts, "hours_share_change_middle")


def test_low_hours_share_up_about_1_pp_1998_2018(measures, facts) -> None:
    check(measures, facts, "hours_share_change_low")


@pytest.mark.xfail(
    strict=True,
    reason="high group's hours share 1998-2018 rises by 0.5 pp, not about 2.5 (the default "
    "Entrant skill tilt 0.03; with the full CBS education trend, 0.15, +1.4 pp, but the low "
    "group's share then falls by 0.7 pp instead of rising by 1)",
)
def test_high_hours_share_up_about_2_5_pp_1998_2018(measures, facts) -> None:
    check(measures, facts, "hours_share_change_high")


# --- labour income share (CBS AIQ marktsector) ------------------------------------------


def test_labour_income_share_1995(measures, facts) -> None:
    # tolerance 0.001: the 1995 share is the calibration target (Base labour income share)
    check(measures, facts, "labour_income_share_1995")


@pytest.mark.xfail(
    strict=True,
    reason="labour income share 2023 is 0.731, not 0.698: routine automation alone lowers it "
    "by 8.3 of the 11.6 points; the rest (other capital deepening, markups, globalisation) "
    "is not in the model",
)
def test_labour_income_share_2023(measures, facts) -> None:
    # tolerance 0.02: about the deviation of one year's AIQ from its trend over the business
    # cycle, which the history run (no cycles) does not reproduce
    check(measures, facts, "labour_income_share_2023")


# --- wage decomposition 1998-2016 (Kerkemezos and Tyros, CPB) ---------------------------


@pytest.mark.parametrize("effect", ["displacement", "reinstatement", "productivity"])
def test_wage_effect_sign_and_order_of_magnitude_1998_2016(measures, facts, effect) -> None:
    # the issue asks for sign and order of magnitude: the same sign, and model and fact
    # within a factor 10^0.5 = 3.2 of each other (half a decade on a log scale, so that both
    # round to the same power of ten)
    check(measures, facts, f"wage_effect_{effect}")


def test_wage_effects_in_the_facts_order_1998_2016(measures) -> None:
    # productivity > |displacement| > reinstatement, as in the facts (+80%, -12%, +8%)
    sizes = [abs(measures[f"wage_effect_{e}"]) for e in ("productivity", "displacement")]
    assert sizes[0] > sizes[1] > measures["wage_effect_reinstatement"] > 0


@pytest.mark.xfail(
    strict=True,
    reason="productivity effect 1998-2016 is +32% in constant prices (1.1% a year trend and "
    "output above trend), below the fact's lower bound of +80%; the source does not say "
    "whether it is in constant prices (with about 2% a year of inflation it would be about +90%)",
)
def test_wage_effect_productivity_above_its_lower_bound(measures, facts) -> None:
    assert measures["wage_effect_productivity"] > facts[("wage_effect_productivity", "1998-2016")]


# --- the bridge to 2024 and the forward scenarios ---------------------------------------


def test_history_ends_near_the_2024_calibration(run) -> None:
    # tolerance 0.5 pp: the forward runs start at the 2024 unemployment rate (3.6%); the
    # history run's end is within the year-to-year movement of the rate
    forward = engine_run("no_further_ai")
    start = float(forward["unemployment_rate"].isel(time=0))
    assert float(run["unemployment_rate"].sel(time=2023)) == pytest.approx(start, abs=0.005)


@pytest.mark.parametrize("rate", [0.0, 0.05])
def test_forward_scenarios_do_not_depend_on_routine_automation(rate) -> None:
    """The driver acts only before 2024: forward runs are identical bit for bit."""
    base = engine_run("central")
    other = engine_run("central", (("Routine automation rate", rate),))
    for name, var in base.data_vars.items():
        if name == "routine_automation_rate":
            continue
        np.testing.assert_array_equal(other[name].values, var.values, err_msg=str(name))


def test_readme_history_table_is_the_models(run) -> None:
    """The table in stocks_flows/README.md is this run's (scripts/model_tables.py writes it)."""
    text = (PROJECT_ROOT / "stocks_flows" / "README.md").read_text()
    block = text.split("<!-- table:history -->\n", 1)[1].split("\n<!-- /table -->", 1)[0]
    assert block == history_table(run)
