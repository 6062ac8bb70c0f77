"""The history run 1995-2023 (issue 12 item 3) and its comparison with the facts.

The history scenario (``scenarios/history/history.toml``) starts the model in 1995 without
generative AI and drives it with pre-generative-AI automation (``Routine automation rate``,
which acts only before 2024). :func:`history_measures` reduces a run to the quantities of
``../shared/calibration/history_facts.csv``, each defined as the tests, the README table and
the figure (``scripts/history_figure.py``) use it:

- task flows 1995-2017: the changes of the model's cumulative ``Displacement effect on
  labour demand`` and ``Reinstatement effect on labour demand`` (log points of labour
  demand, Acemoglu and Restrepo 2019, as CPB reports task change), averaged over the groups
  with their 1995 labour demand as weights; the net change in tasks is the change of labour
  demand less the productivity effect (tasks replaced, new tasks and the spending shifts
  between groups, without the growth of output);
- hours shares 1998-2018: each group's paid hours (employment x hours factor) over the
  total;
- the wage decomposition 1998-2016: the same two task effects and the productivity effect,
  averaged with the groups' 1998 wage bills as weights, as percentage changes of the wage
  bill (``exp(log points) - 1``). The model's productivity effect is output growth above
  its trend; the wage decomposition's includes the trend, so the productivity trend
  (``Non AI productivity growth`` x 18 years) is added. All in constant prices.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import xarray as xr

from sdmodel.io.paths import PROJECT_ROOT, SCENARIO_DIR

#: The history scenario's file (outside ``available_scenarios()``: another period).
HISTORY_SCENARIO = SCENARIO_DIR / "history" / "history.toml"
#: The facts the history run is compared with (read-only, beside the repository).
HISTORY_FACTS = PROJECT_ROOT.parent / "shared" / "calibration" / "history_facts.csv"


def history_facts(path: str | Path = HISTORY_FACTS) -> dict[tuple[str, str], float]:
    """The numeric facts of ``history_facts.csv`` as ``{(quantity, period): value}``.

    Rows whose value is not one number (lists, ranges, text) are left out.
    """
    facts: dict[tuple[str, str], float] = {}
    with Path(path).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            try:
                facts[(row["quantity"], row["period"])] = float(row["value"])
            except ValueError:
                continue
    return facts


def hours_shares(ds: xr.Dataset) -> xr.DataArray:
    """Each group's share of paid hours (employment x hours factor), over ``time``."""
    hours = ds["employment"] * ds["hours_factor"]
    return hours / hours.sum("skill")


def _weighted_change(
    ds: xr.Dataset, name: str, start: float, end: float, weights: xr.DataArray
) -> float:
    change = ds[name].sel(time=end) - ds[name].sel(time=start)
    return float((change * weights).sum("skill") / weights.sum("skill"))


def history_measures(ds: xr.Dataset) -> dict[str, float]:
    """The history run's counterparts of the facts (see the module docstring).

    Parameters
    ----------
    ds
        One run of the history scenario (dims ``time``, ``skill``; Python names), saved
        at least in whole years from 1995 to 2023.

    Returns
    -------
    dict
        ``tasks_replaced`` and ``new_tasks`` (positive log points) and
        ``net_task_change`` 1995-2017; ``hours_share_change_<group>`` 1998-2018;
        ``labour_income_share_1995`` and ``_2023``; ``wage_effect_displacement``,
        ``wage_effect_reinstatement`` and ``wage_effect_productivity`` 1998-2016
        (fractions of the wage bill).
    """
    demand_1995 = ds["labour_demand"].sel(time=1995.0)
    out = {
        "tasks_replaced": -_weighted_change(
            ds, "displacement_effect_on_labour_demand", 1995.0, 2017.0, demand_1995
        ),
        "new_tasks": _weighted_change(
            ds, "reinstatement_effect_on_labour_demand", 1995.0, 2017.0, demand_1995
        ),
    }
    demand_change = _weighted_change(ds, "labour_demand_change", 1995.0, 2017.0, demand_1995)
    productivity = _weighted_change(
        ds, "productivity_effect_on_labour_demand", 1995.0, 2017.0, demand_1995
    )
    out["net_task_change"] = demand_change - productivity
    shares = hours_shares(ds)
    for group in ("low", "middle", "high"):
        change = shares.sel(skill=group, time=2018.0) - shares.sel(skill=group, time=1998.0)
        out[f"hours_share_change_{group}"] = float(change)
    for year in (1995, 2023):
        out[f"labour_income_share_{year}"] = float(ds["labour_income_share"].sel(time=year))
    bill_1998 = ds["group_wage_bill"].sel(time=1998.0)
    growth = ds["non_ai_productivity_growth"]
    trend = float(growth.isel(time=0) if "time" in growth.dims else growth) * (2016 - 1998)
    for effect, name, extra in (
        ("displacement", "displacement_effect_on_labour_demand", 0.0),
        ("reinstatement", "reinstatement_effect_on_labour_demand", 0.0),
        ("productivity", "productivity_effect_on_labour_demand", trend),
    ):
        points = _weighted_change(ds, name, 1998.0, 2016.0, bill_1998) + extra
        out[f"wage_effect_{effect}"] = math.expm1(points)
    return out


#: Measure -> (fact key in history_facts.csv, what the tests allow: ``("abs", tolerance)``
#: or ``("order", factor)`` for sign and order of magnitude). The tests in
#: ``tests/stocks_flows/test_model_history.py`` state why each tolerance is what it is.
COMPARISONS: dict[str, tuple[tuple[str, str], tuple[str, float]]] = {
    "tasks_replaced": (("tasks_of_workers_replaced_by_technology", "1995-2017"), ("abs", 0.05)),
    "new_tasks": (("new_tasks_for_workers", "1995-2017"), ("abs", 0.025)),
    "net_task_change": (("net_change_in_tasks_for_workers", "1995-2017"), ("abs", 0.05)),
    "hours_share_change_low": (
        ("hours_share_change_low_paid_occupations", "1998-2018"),
        ("abs", 0.01),
    ),
    "hours_share_change_middle": (
        ("hours_share_change_middle_paid_occupations", "1998-2018"),
        ("abs", 0.01),
    ),
    "hours_share_change_high": (
        ("hours_share_change_high_paid_occupations", "1998-2018"),
        ("abs", 0.01),
    ),
    "labour_income_share_1995": (("labour_income_share_market_sector_cbs", "1995"), ("abs", 1e-3)),
    "labour_income_share_2023": (("labour_income_share_market_sector_cbs", "2023"), ("abs", 0.02)),
    "wage_effect_displacement": (("wage_effect_displacement", "1998-2016"), ("order", 10**0.5)),
    "wage_effect_reinstatement": (("wage_effect_reinstatement", "1998-2016"), ("order", 10**0.5)),
    "wage_effect_productivity": (("wage_effect_productivity", "1998-2016"), ("order", 10**0.5)),
}

_LABELS = {
    "tasks_replaced": "tasks replaced 1995-2017 (log points)",
    "new_tasks": "new tasks 1995-2017 (log points)",
    "net_task_change": "net change in tasks 1995-2017 (log points)",
    "hours_share_change_low": "hours share, low, 1998-2018 (pp)",
    "hours_share_change_middle": "hours share, middle, 1998-2018 (pp)",
    "hours_share_change_high": "hours share, high, 1998-2018 (pp)",
    "labour_income_share_1995": "labour income share 1995",
    "labour_income_share_2023": "labour income share 2023",
    "wage_effect_displacement": "wage bill: displacement 1998-2016",
    "wage_effect_reinstatement": "wage bill: reinstatement 1998-2016",
    "wage_effect_productivity": "wage bill: productivity 1998-2016",
}


def within(measure: str, model: float, fact: float) -> bool:
    """Whether ``model`` meets ``fact`` within the tolerance of :data:`COMPARISONS`."""
    kind, size = COMPARISONS[measure][1]
    if kind == "abs":
        return abs(model - fact) <= size
    return model * fact > 0 and 1 / size <= model / fact <= size


def history_table(ds: xr.Dataset, facts: dict[tuple[str, str], float] | None = None) -> str:
    """The README's table of the history run against the facts (Markdown).

    Parameters
    ----------
    ds
        One run of the history scenario.
    facts
        :func:`history_facts` (read from ``history_facts.csv`` when omitted).
    """
    facts = history_facts() if facts is None else facts
    measures = history_measures(ds)
    rows = ["| quantity | model | fact | tolerance | within |", "| --- | --- | --- | --- | --- |"]
    for measure, (key, (kind, size)) in COMPARISONS.items():
        model, fact = measures[measure], facts[key]
        if measure.startswith("hours"):
            cells = [f"{100 * model:+.1f}", f"{100 * fact:+.1f}", f"{100 * size:.1f} pp"]
        elif measure.startswith("wage"):
            cells = [f"{model:+.0%}", f"{fact:+.0%}", f"sign, factor {size:.1f}"]
        elif kind == "abs" and measure.startswith("labour"):
            cells = [f"{model:.3f}", f"{fact:.3f}", f"{size:g}"]
        else:
            cells = [f"{model:+.3f}", f"{fact:+.3f}", f"{size:g}"]
        flag = "yes" if within(measure, model, fact) else "no"
        rows.append(f"| {_LABELS[measure]} | " + " | ".join(cells) + f" | {flag} |")
    return "\n".join(rows)
