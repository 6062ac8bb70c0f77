"""Regenerate the tables in the READMEs from the model.

Each table sits between ``<!-- table:NAME -->`` and ``<!-- /table -->`` markers in a
README. ``python scripts/model_tables.py`` prints every table; ``--write`` replaces the
marked blocks in place; ``--check`` exits 1 if a committed table differs from the model
(the test suite runs the check, so the documentation never describes an older model).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable

import numpy as np
import xarray as xr

from sdmodel.experiments.runner import run_scenarios
from sdmodel.io.paths import PROJECT_ROOT

FORWARD = ("conservative", "central", "explosive")
YEARS = (2030.0, 2040.0, 2050.0)
FAMILIES = {1: "logistic (default)", 2: "GATE-shaped", 3: "FTM-shaped"}
#: Whole-economy automatable shares read from the published models for the 1e4 / 1e8 /
#: 1e12 scenarios (../shared/calibration/automation_references.md).
REFERENCES = {
    "GATE reference": {"conservative": 0.35, "central": 0.95, "explosive": 1.0},
    "FTM reference": {"conservative": 0.0, "central": 0.5, "explosive": 1.0},
}
READMES = (PROJECT_ROOT / "stocks_flows" / "README.md", PROJECT_ROOT / "README.md")
_BLOCK = re.compile(r"(<!-- table:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /table -->)", re.S)


def _runs(family: int = 1) -> xr.Dataset:
    return run_scenarios(list(FORWARD), {"Automation curve family": float(family)})


def _weighted(ds: xr.Dataset, name: str) -> xr.DataArray:
    weights = ds["employment"]
    return (ds[name] * weights).sum("skill") / weights.sum("skill")


def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(head: list[str], rows) -> str:
    """A Markdown table: header, rule and one line per row."""
    return "\n".join([_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows)])


def _by_year(ds: xr.Dataset, years_of: Callable[[str], tuple], cells: Callable) -> list:
    """One row per scenario and year: ``[scenario, year, *cells(values)]``."""
    return [
        [scenario, int(year), *cells(ds.sel(scenario=scenario, time=year))]
        for scenario in ds.scenario.values
        for year in years_of(str(scenario))
    ]


def _trio(values) -> str:
    return " / ".join(f"{x:.2f}" for x in np.asarray(values))


def automation_2030() -> str:
    by_family = {
        f: _weighted(_runs(f), "automatable_task_share").sel(time=2030.0) for f in FAMILIES
    }
    rows = []
    for scenario, factor in zip(FORWARD, ("1e4", "1e8", "1e12"), strict=True):
        model = [f"{float(by_family[f].sel(scenario=scenario)):.2f}" for f in FAMILIES]
        refs = [f"{ref[scenario]:.2f}" for ref in REFERENCES.values()]
        rows.append([f"{scenario} ({factor})", *model, *refs])
    return _table(["scenario (2030 factor)", *FAMILIES.values(), *REFERENCES], rows)


def capability() -> str:
    head = [
        "scenario",
        "year",
        "effective compute (OOM over 2022)",
        "algorithmic",
        "hardware",
        "spending",
        "spending share of world GDP",
        "algorithmic growth (OOM/yr)",
    ]

    def cells(v):
        ooms = ("effective_compute_oom", "algorithmic_efficiency_oom")
        ooms += ("hardware_efficiency_oom", "compute_spending_oom")
        return [
            *(f"{float(v[name]):.2f}" for name in ooms),
            f"{float(v['ai_training_spending_share_of_world_gdp']):.2%}",
            f"{float(v['algorithmic_growth_rate']):.2f}",
        ]

    return _table(head, _by_year(_runs(), lambda _: YEARS, cells))


def automation_by_group() -> str:
    head = [
        "scenario",
        "year",
        "automatable low / middle / high",
        "adopted low / middle / high",
        "AI cost ratio low / middle / high",
    ]
    ds = run_scenarios(["no_further_ai", *FORWARD])

    def cells(v):
        names = ("automatable_task_share", "adopted_automation_share", "ai_cost_ratio")
        return [_trio(v[name]) for name in names]

    def years(scenario: str) -> tuple:
        return (2024.0, *YEARS) if scenario == "central" else YEARS

    return _table(head, _by_year(ds, years, cells))


def indicators() -> str:
    head = [
        "scenario",
        "year",
        "unemployment",
        "labour income share",
        "wage low / middle / high (EUR k)",
        "WW recipients (k)",
        "WW outlays (EUR bn)",
        "GDP (EUR bn)",
    ]

    def cells(v):
        return [
            f"{float(v['unemployment_rate']):.1%}",
            f"{float(v['labour_income_share']):.3f}",
            " / ".join(f"{x / 1e3:.1f}" for x in v["wage"].values),
            f"{float(v['ww_recipients']) / 1e3:.0f}",
            f"{float(v['ww_outlays']) / 1e9:.2f}",
            f"{float(v['gdp']) / 1e9:,.0f}",
        ]

    return _table(
        head, _by_year(run_scenarios(["no_further_ai", *FORWARD]), lambda _: YEARS, cells)
    )


def economy() -> str:
    """Incomes and prices of the closed economy per scenario (issue 10's closing figures)."""
    head = [
        "scenario",
        "year",
        "unemployment",
        "real wage low / middle / high (EUR k, 2024 prices)",
        "labour income share",
        "GDP (EUR bn)",
        "labour compensation (EUR bn)",
        "capital income (EUR bn)",
        "price level",
    ]

    def cells(v):
        return [
            f"{float(v['unemployment_rate']):.1%}",
            " / ".join(f"{x / 1e3:.1f}" for x in v["real_wage"].values),
            f"{float(v['labour_income_share']):.3f}",
            f"{float(v['gdp']) / 1e9:,.0f}",
            f"{float(v['labour_compensation']) / 1e9:,.0f}",
            f"{float(v['capital_income']) / 1e9:,.0f}",
            f"{float(v['price_level']):.3f}",
        ]

    ds = run_scenarios(["no_further_ai", *FORWARD])
    return _table(head, _by_year(ds, lambda _: YEARS, cells))


def regime_table() -> str:
    """Shares, medians and deciding parameters of the two regimes (scripts/regimes.py)."""
    sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
    from regimes import deciding_parameters, regimes, sweep, year_index

    data = sweep()
    masks = regimes(data)
    t = data["time"]
    head = [
        "runs (central, 1,000 draws)",
        "share",
        "unemployment 2030 / 2040 / 2050 (median)",
        "middle real wage vs no-AI 2040 (median)",
    ]
    rows = []
    i2040 = year_index(t, 2040.0)
    for key, label in (
        ("absorbed", "absorbed: within 0.5 pp of no-AI in 2040"),
        ("lasting", "lasting displacement: above 6% in 2040"),
        ("between", "in between"),
    ):
        m = masks[key]
        u = data["central"]["Unemployment rate"][m]
        med = [np.median(u[:, year_index(t, y)]) for y in YEARS]
        central, base = data["central"]["Real wage"], data["no_further_ai"]["Real wage"]
        real = central[m, i2040, 1] / base[m, i2040, 1]
        rows.append(
            [
                label,
                f"{m.mean():.1%}",
                " / ".join(f"{x:.1%}" for x in med),
                f"{np.median(real):.2f}",
            ]
        )
    table = _table(head, rows)
    ranked = _table(
        ["parameter", "rank correlation with the 2040 unemployment gap"],
        [[f"`{name}`", f"{rho:+.2f}"] for name, rho in deciding_parameters(data)],
    )
    stress, base = data["stress"], data["baseline"]
    middle = [stress[n][i2040, 1] / base[n][i2040, 1] for n in ("Wage", "Real wage")]
    korinek_suh = _table(
        [
            "stress case (explosive, no reinstatement, ceilings 1)",
            "unemployment 2030 / 2040 / 2050",
            "middle money wage vs no-AI 2040",
            "middle real wage vs no-AI 2040",
            "GDP vs no-AI 2040",
        ],
        [
            [
                "one run",
                " / ".join(f"{stress['Unemployment rate'][year_index(t, y)]:.1%}" for y in YEARS),
                f"{middle[0]:.2f}",
                f"{middle[1]:.2f}",
                f"{stress['GDP'][i2040] / base['GDP'][i2040]:.2f}",
            ]
        ],
    )
    return table + "\n\n" + ranked + "\n\n" + korinek_suh


SHOCK_EXAMPLE = "scenarios/shocks/middle_5pct_2027.toml"


def shock_example() -> str:
    """The README's worked shock example: what ``sdmodel shock FILE`` prints."""
    import tempfile

    from click.testing import CliRunner

    from sdmodel.cli import main as cli

    with tempfile.TemporaryDirectory() as tmp:
        result = CliRunner().invoke(
            cli, ["shock", "run", str(PROJECT_ROOT / SHOCK_EXAMPLE), "--out", tmp]
        )
    if result.exit_code != 0:
        raise SystemExit(f"shock example failed: {result.output}")
    table = [line for line in result.output.splitlines() if not line.startswith("wrote ")]
    return "\n".join(["```", f"$ sdmodel shock {SHOCK_EXAMPLE}", *table, "```"])


#: Policy files of the README's two policy tables, in their column order: the social
#: security and retraining levers (with the combined package last), then the levers of
#: the model's policy sector.
POLICY_FILES = (
    "ww_generous",
    "ww_short",
    "retraining_offensive",
    "awf_cost_covering",
    "transition_package",
)
LEVER_FILES = (
    "upskilling_offensive",
    "job_to_job",
    "mobility_teams",
    "tax_shift",
    "ai_tax",
    "basic_income",
)


def _compare_table(names: tuple[str, ...]) -> str:
    """What ``sdmodel compare`` prints for the policy files ``names``."""
    import contextlib
    import tempfile

    from click.testing import CliRunner

    from sdmodel.cli import main as cli

    files = [f"scenarios/policies/{name}.toml" for name in names]
    args = ["compare", "--scenario", "central", "--scenario", "explosive"]
    for path in files:
        args += ["--policy-file", path]
    # relative paths, so the table shows them as a user in the project root types them
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(PROJECT_ROOT):
        result = CliRunner().invoke(cli, [*args, "--out", tmp])
    if result.exit_code != 0:
        raise SystemExit(f"policy table failed: {result.output}")
    shown = " ".join(f"--policy-file {path}" for path in files)
    table = [line for line in result.output.splitlines() if not line.startswith("wrote ")]
    command = "$ sdmodel compare --scenario central --scenario explosive " + shown
    return "\n".join(["```", command, *table, "```"])


def policy_table() -> str:
    """The README's first policy table: WW, AWf, retraining and the combined package."""
    return _compare_table(POLICY_FILES)


def lever_table() -> str:
    """The README's second policy table: the levers of the policy sector."""
    return _compare_table(LEVER_FILES)


def decomposition() -> str:
    """Task decomposition of labour demand and the wage bill (stocks_flows/README.md)."""
    columns = {
        "displacement": "displacement_effect_on_labour_demand",
        "reinstatement": "reinstatement_effect_on_labour_demand",
        "productivity": "productivity_effect_on_labour_demand",
        "other": "other_effects_on_labour_demand",
        "labour demand change": "labour_demand_change",
        "wage bill change": "wage_bill_change",
    }
    scenarios = ("central", "explosive")
    ds = run_scenarios(list(scenarios))
    rows = [
        [
            scenario,
            int(year),
            str(skill),
            *(
                f"{float(ds[v].sel(scenario=scenario, time=year, skill=skill)):+.2f}"
                for v in columns.values()
            ),
        ]
        for scenario in scenarios
        for year in YEARS
        for skill in ds.skill.values
    ]
    return _table(["scenario", "year", "group", *columns], rows)


def history() -> str:
    """The history run 1995-2023 against history_facts.csv (stocks_flows/README.md)."""
    from sdmodel.model.history import HISTORY_SCENARIO, history_table

    ds = run_scenarios([HISTORY_SCENARIO])
    return history_table(ds.isel(scenario=0, drop=True))


TABLES: dict[str, Callable[[], str]] = {
    "automation-2030": automation_2030,
    "capability": capability,
    "automation-by-group": automation_by_group,
    "indicators": indicators,
    "economy": economy,
    "regimes": regime_table,
    "decomposition": decomposition,
    "shock-example": shock_example,
    "policies": policy_table,
    "policy-levers": lever_table,
    "history": history,
}


def render(text: str, cache: dict[str, str]) -> str:
    """``text`` with every marked table block replaced by its current contents."""

    def fill(match: re.Match) -> str:
        name = match["name"]
        if name not in TABLES:
            raise SystemExit(f"unknown table {name!r} in a README marker")
        if name not in cache:
            cache[name] = TABLES[name]()
        return f"{match[1]}{cache[name]}\n{match[4]}"

    return _BLOCK.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="update the READMEs in place")
    mode.add_argument("--check", action="store_true", help="exit 1 if a README is stale")
    args = parser.parse_args(argv)
    cache: dict[str, str] = {}
    if not (args.write or args.check):
        for name, make in TABLES.items():
            print(f"<!-- table:{name} -->\n{make()}\n<!-- /table -->\n")
        return 0
    stale = []
    for path in READMES:
        text = path.read_text()
        new = render(text, cache)
        if new != text:
            stale.append(path)
            if args.write:
                path.write_text(new)
    if args.check and stale:
        print("stale tables in: " + ", ".join(str(p) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
