"""Draw the history run 1995-2023 against the facts (``docs/figures/history.png``).

Usage: ``python scripts/history_figure.py [--out docs/figures/history.png]``

One engine run of ``scenarios/history/history.toml``; facts from
``../shared/calibration/history_facts.csv``; the measures are those of
:mod:`sdmodel.model.history` (the tests and the README table use the same). Panels: the labour
income share; the change of each group's hours share since 1998; the cumulative task
effects since 1995 (displacement, reinstatement and the net change of tasks); the wage
decomposition 1998-2016. Error bars are the tests' tolerances.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sdmodel.experiments.runner import run_scenarios  # noqa: E402
from sdmodel.io.atomic import atomic_path  # noqa: E402
from sdmodel.io.paths import PROJECT_ROOT  # noqa: E402
from sdmodel.model.history import (  # noqa: E402
    COMPARISONS,
    HISTORY_SCENARIO,
    history_facts,
    history_measures,
    hours_shares,
)

GROUPS = {"low": "#4393c3", "middle": "#d6604d", "high": "#1b7837"}
FACT_STYLE = {"marker": "D", "ms": 7, "capsize": 4, "ls": "none"}


def _tolerance(measure: str) -> float:
    return COMPARISONS[measure][1][1]


def draw(out: Path) -> None:
    """Run the history scenario and write the figure to ``out``."""
    ds = run_scenarios([HISTORY_SCENARIO]).isel(scenario=0, drop=True)
    facts = history_facts()
    measures = history_measures(ds)
    t = ds["time"].values
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
    ax_lis, ax_hours, ax_tasks, ax_wage = axes.ravel()

    ax_lis.plot(t, ds["labour_income_share"], color="k", lw=2, label="model")
    for year in ("1995", "2023"):
        fact = facts[("labour_income_share_market_sector_cbs", year)]
        tol = _tolerance(f"labour_income_share_{year}")
        ax_lis.errorbar(
            [float(year)], [fact], yerr=[tol], color="#b2182b", **FACT_STYLE, label=None
        )
    ax_lis.plot([], [], "D", color="#b2182b", label="CBS AIQ market sector")
    ax_lis.set(title="Labour income share", xlabel="year")

    shares = hours_shares(ds)
    since = 100 * (shares - shares.sel(time=1998.0))
    for group, colour in GROUPS.items():
        ax_hours.plot(t, since.sel(skill=group), color=colour, lw=2, label=f"{group} (model)")
        fact = facts[(f"hours_share_change_{group}_paid_occupations", "1998-2018")]
        ax_hours.errorbar(
            [2018.0], [100 * fact], yerr=[100 * _tolerance(f"hours_share_change_{group}")],
            color=colour, **FACT_STYLE,
        )  # fmt: skip
    ax_hours.axhline(0, color="k", lw=0.8)
    ax_hours.axvline(1998, color="k", ls=":", lw=0.8)
    ax_hours.set(title="Hours share since 1998 (pp; diamonds: 1998-2018 facts)", xlabel="year")

    weights = ds["labour_demand"].sel(time=1995.0)

    def since_1995(name: str) -> np.ndarray:
        change = ds[name] - ds[name].sel(time=1995.0)
        return ((change * weights).sum("skill") / weights.sum("skill")).values

    displaced = since_1995("displacement_effect_on_labour_demand")
    reinstated = since_1995("reinstatement_effect_on_labour_demand")
    net = since_1995("labour_demand_change") - since_1995("productivity_effect_on_labour_demand")
    for values, label, colour, measure, sign in (
        (displaced, "tasks replaced", "#b2182b", "tasks_replaced", -1),
        (reinstated, "new tasks", "#1b7837", "new_tasks", 1),
        (net, "net change", "k", "net_task_change", 1),
    ):
        ax_tasks.plot(t, values, color=colour, lw=2, label=label)
        ax_tasks.errorbar(
            [2017.0], [sign * facts[COMPARISONS[measure][0]]], yerr=[_tolerance(measure)],
            color=colour, **FACT_STYLE,
        )  # fmt: skip
    ax_tasks.axhline(0, color="k", lw=0.8)
    ax_tasks.set(
        title="Task effects since 1995 (log points; diamonds: CPB 1995-2017)", xlabel="year"
    )

    effects = ("displacement", "reinstatement", "productivity")
    x = np.arange(len(effects))
    model = [100 * measures[f"wage_effect_{e}"] for e in effects]
    fact = [100 * facts[(f"wage_effect_{e}", "1998-2016")] for e in effects]
    ax_wage.bar(x - 0.2, model, 0.4, color="#878787", label="model (constant prices)")
    ax_wage.bar(x + 0.2, fact, 0.4, color="#b2182b", label="CPB (Kerkemezos and Tyros)")
    ax_wage.set_xticks(x, effects)
    ax_wage.axhline(0, color="k", lw=0.8)
    ax_wage.set(title="Wage bill decomposition 1998-2016 (%)")

    for ax in axes.ravel():
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("History run 1995-2023: routine-task automation, no generative AI")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    print(f"wrote {out}")


def main() -> None:
    """Command line: ``--out`` the figure file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "docs" / "figures" / "history.png"
    )
    draw(parser.parse_args().out)


if __name__ == "__main__":
    main()
