"""``sdmodel shock``: WW shock tests from the command line.

``sdmodel shock FILE`` (or ``sdmodel shock --share 0.05 --skill middle ...``) runs one
shock against its baseline; ``sdmodel shock grid`` runs a stress grid. ``sdmodel shock
run FILE`` is the explicit form of the first. User errors print one line and exit 2,
before anything is written.
"""

from __future__ import annotations

import json
import shlex
import warnings
from collections.abc import Sequence
from pathlib import Path

import click

from sdmodel.cli.common import (
    ShareListType,
    ShareType,
    _user_errors,
    model_option,
    output_level_options,
    policy_file_option,
    policy_option,
    runs_option,
    seed_option,
    set_output_level,
    spec_option,
)
from sdmodel.errors import SdmodelError
from sdmodel.io.atomic import atomic_path, check_output_dir, output_dir
from sdmodel.io.paths import OUTPUT_DIR, SCENARIO_DIR

SHOCK_DIR = OUTPUT_DIR / "shocks"


class ShockGroup(click.Group):
    """A group whose unknown first argument (a FILE or a flag) means ``run``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Insert ``run`` unless the first argument names a subcommand or asks for help."""
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _samples(runs: int, seed: int | None, spec_path: Path | None, sm) -> tuple[dict, dict]:
    """Uncertainty samples for ``--runs N`` (empty for a deterministic run)."""
    if runs < 1:
        raise SdmodelError(f"--runs: must be at least 1, got {runs}")
    if runs == 1:
        return {}, {}
    from sdmodel.experiments.sampling import sample
    from sdmodel.experiments.uncertainty import constant_elements, load_spec, validate

    path = spec_path or SCENARIO_DIR / "uncertainty.toml"
    if not path.is_file():
        raise SdmodelError(f"--spec: uncertainty spec not found: {path}")
    spec = validate(load_spec(path), constant_elements(sm.info), sm.info)
    drawn = sample(spec, runs, seed)
    return drawn.as_params(0, runs), drawn.attrs()


def _load_model(model_path: Path):
    """Load the model, hiding pysd's warnings about its own pandas use."""
    from sdmodel.shocks.report import ShockModel

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*inplace keyword")
        return ShockModel.load(model_path)


_SCENARIO = click.option(
    "--scenario",
    default="central",
    show_default=True,
    metavar="NAME",
    help="Scenario name or .toml file.",
)
_POLICY = policy_option(
    'Policy lever for baseline and shock, e.g. --policy "WW maximum duration=12" (repeatable).'
)
_POLICY_FILE = policy_file_option(
    "Policy variant file (scenarios/policies/*.toml, as for sdmodel compare); repeatable."
)
_OUTPUT_LEVEL = output_level_options("No notes on long steps (translation, compilation).")


@click.group(cls=ShockGroup)
def shock() -> None:
    """WW shock tests: sdmodel shock FILE|flags, or sdmodel shock grid."""


@shock.command("run")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option("--share", type=ShareType(), help="Share of the group's 2024 jobs lost (0.05 or 5%).")
@click.option("--skill", help="Skill group: low, middle, high, all, or 'low,high'.")
@click.option("--start", help="Shock start: decimal year or YYYY-MM (default 2027).")
@click.option("--months", type=float, help="Period over which jobs are lost (default 12).")
@click.option("--demand-depth", type=ShareType(), help="Fall in output demand (0.1 or 10%).")
@click.option("--demand-start", help="Demand shock start (default 2027).")
@click.option("--demand-months", type=float, help="Demand shock duration (default 12).")
@_POLICY
@_POLICY_FILE
@_SCENARIO
@runs_option("Ensemble members (uncertainty samples); 1 = deterministic.")
@seed_option("Seed of the ensemble sample.", default=None)
@spec_option()
@click.option(
    "--horizon",
    type=float,
    default=3.0,
    show_default=True,
    help="Years within which the AWf premium must restore the balance.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output directory (default outputs/shocks/<shock>_<scenario>_<digest>/, <digest> a "
    "hash of every setting, so another scenario, ensemble or policy never replaces this "
    "report).",
)
@model_option
@_OUTPUT_LEVEL
@_user_errors
def run_shock(
    file: Path | None,
    share,
    skill,
    start,
    months,
    demand_depth,
    demand_start,
    demand_months,
    policy: Sequence[str],
    policy_files: Sequence[Path],
    scenario: str,
    runs: int,
    seed: int | None,
    spec_path: Path | None,
    horizon: float,
    out: Path | None,
    model_path: Path,
    quiet: bool,
    verbose: bool,
) -> None:
    """Run one shock (FILE and/or flags) against its baseline; print and save the report.

    The policy variant (for baseline and shock alike) is the shock file's [policy], then
    each --policy-file in turn, then --policy; a later one wins.
    """
    from sdmodel.io.netcdf import write_netcdf
    from sdmodel.io.progress import timed
    from sdmodel.model.policies import load_policy
    from sdmodel.plots.shock import plot_comparison
    from sdmodel.shocks.report import (
        case_settings,
        compute_metrics,
        format_table,
        provenance,
        run_cases,
        timeseries,
        write_metrics_csv,
    )
    from sdmodel.shocks.spec import apply_flags, load_shock

    set_output_level(quiet, verbose)
    if not horizon > 0:
        raise SdmodelError(f"--horizon: must be > 0 years, got {horizon:g}")
    sm = _load_model(model_path)
    spec = load_shock(file, sm.period) if file is not None else None
    check_policy_ranges(spec, file, policy, sm.info)
    policies = [load_policy(path, sm.info) for path in policy_files]
    spec = apply_flags(
        spec,
        share=share,
        skill=skill,
        start=start,
        months=months,
        demand_depth=demand_depth,
        demand_start=demand_start,
        demand_months=demand_months,
        policy=policy,
        period=sm.period,
        policy_constants={k: v for p in policies for k, v in p.constants.items()},
    )
    settings = case_settings(scenario, [spec], sm)
    samples, sample_attrs = _samples(runs, seed, spec_path, sm)
    if out is None:
        from sdmodel.shocks.spec import default_dirname

        out = SHOCK_DIR / default_dirname(
            spec,
            scenario,
            runs=runs,
            seed=seed,
            spec_path=spec_path,
            horizon=horizon,
            policy_files=policy_files,
            model_path=model_path,
        )
    check_output_dir(out)
    ds = run_cases(sm, settings, samples)
    metrics = compute_metrics(ds, 1, spec, horizon)
    table = format_table(spec, metrics, scenario, horizon, runs)
    words = ["sdmodel", "shock", *([str(file)] if file else [])]
    for flag, value in (
        ("--share", share),
        ("--skill", skill),
        ("--start", start),
        ("--months", months),
        ("--demand-depth", demand_depth),
        ("--demand-start", demand_start),
        ("--demand-months", demand_months),
        ("--scenario", scenario),
        ("--runs", runs),
        ("--seed", seed),
    ):
        if value is not None:
            words += [flag, str(value)]
    for text in policy:
        words += ["--policy", text]
    for path in policy_files:
        words += ["--policy-file", str(path)]
    attrs = {**provenance(sm, scenario, [spec], horizon), **sample_attrs}
    if policies:
        attrs["policy_files"] = json.dumps([p.record() for p in policies], ensure_ascii=False)
    ts = timeseries(ds, ["baseline", spec.name], sm.saveper, attrs)
    with output_dir(out) as written:
        with timed("write"):
            written.append(out / "timeseries.nc")
            write_netcdf(ts, written[-1], command=shlex.join(words))
            written.append(out / "metrics.csv")
            write_metrics_csv(written[-1], spec, metrics)
            written.append(out / "table.txt")
            with atomic_path(written[-1]) as tmp:
                tmp.write_text(table + "\n", encoding="utf-8")
        with timed("plot"):
            written.append(out / "comparison.png")
            plot_comparison(
                ts, written[-1], f"{spec.name}: {spec.description} ({scenario})", spec.start
            )
    click.echo(table)
    for path in written:
        click.echo(f"wrote {path}")


def check_policy_ranges(spec, file: Path | None, policy: Sequence[str], info) -> None:
    """Check a shock file's ``[policy]`` and the ``--policy`` levers against the ranges.

    Each source is checked on its own, so that the error names it: ``<file>: [policy]
    'Name'`` or ``--policy 'Name'`` (:func:`sdmodel.model.scenarios.merge_settings`).
    """
    from sdmodel.model.scenarios import merge_settings
    from sdmodel.shocks.spec import parse_policy

    if spec is not None and spec.policy:
        merge_settings(None, list(spec.policy.items()), info, override_origin=f"{file}: [policy]")
    if policy:
        merge_settings(None, list(parse_policy(policy).items()), info, override_origin="--policy")


def _numbers(text: str, option: str, scale: float = 1.0) -> tuple[float, ...]:
    try:
        values = tuple(float(x) * scale for x in text.split(",") if x.strip())
    except ValueError:
        raise SdmodelError(f"{option}: {text!r} is not a comma-separated list of numbers") from None
    if not values:
        raise SdmodelError(f"{option}: empty list")
    return values


@shock.command("grid")
@click.option(
    "--sizes",
    type=ShareListType(),
    default="1%,2%,5%,10%,20%",
    show_default=True,
    help="Shock sizes, shares of the groups' 2024 jobs (comma-separated; 0.05 or 5%).",
)
@click.option(
    "--months",
    "months_text",
    default="3,12,36",
    show_default=True,
    help="Shock periods in months (comma-separated).",
)
@click.option(
    "--skill",
    default="all",
    show_default=True,
    help="Skill group(s) hit: low, middle, high, all, or 'low,high'.",
)
@click.option(
    "--start", default="2027", show_default=True, help="Shock start: decimal year or YYYY-MM."
)
@_POLICY
@_POLICY_FILE
@_SCENARIO
@click.option(
    "--outlay-threshold",
    type=ShareType(),
    default="1%",
    show_default=True,
    help="Flag cells whose peak WW outlays exceed this share of GDP (0.01 or 1%).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output directory for grid.csv (columns named with their unit) and heatmaps.png; "
    "default outputs/shocks/grid_<skill>_<scenario>_<digest>/, <digest> a hash of all "
    "the options and the model file: other settings never replace another grid's files, "
    "the same settings again replace their own.",
)
@model_option
@_OUTPUT_LEVEL
@_user_errors
def grid(
    sizes: tuple[float, ...],
    months_text: str,
    skill: str,
    start: str,
    policy: Sequence[str],
    policy_files: Sequence[Path],
    scenario: str,
    outlay_threshold: float,
    out: Path | None,
    model_path: Path,
    quiet: bool,
    verbose: bool,
) -> None:
    """Stress grid of shock size x speed (x policy variant): CSV table and heatmaps.

    Variants: current policy, the --policy levers (if any), then each --policy-file.
    """
    from sdmodel.io.progress import timed
    from sdmodel.model.policies import load_policy
    from sdmodel.plots.shock import plot_heatmaps
    from sdmodel.shocks.grid import default_dirname, format_grid, run_grid, write_grid_csv
    from sdmodel.shocks.spec import parse_date, parse_policy, parse_skills

    set_output_level(quiet, verbose)
    size_values = sizes
    month_values = _numbers(months_text, "--months")
    if any(m <= 0 for m in month_values):
        raise SdmodelError(f"--months: {months_text!r} has a period <= 0")
    if not 0 < outlay_threshold < 1:
        raise SdmodelError(f"--outlay-threshold: {outlay_threshold:g} is not in (0, 1)")
    skills = parse_skills(skill, "--skill")
    levers = parse_policy(policy)
    sm = _load_model(model_path)
    check_policy_ranges(None, None, policy, sm.info)
    policies = [load_policy(path, sm.info) for path in policy_files]
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise SdmodelError(f"--policy-file: variant names repeat: {', '.join(names)}")
    begin = parse_date(start, "--start")
    if not sm.period[0] <= begin < sm.period[1]:
        raise SdmodelError(
            f"--start: {begin:g} is outside the model period [{sm.period[0]:g}, {sm.period[1]:g})"
        )
    label = "all" if len(skills) == 3 else "+".join(skills)
    variants = [(p.name, p.constants) for p in policies]
    setup = (scenario, size_values, month_values, skills, begin, levers, outlay_threshold)
    out = out or SHOCK_DIR / default_dirname(*setup, variants, model_path)
    check_output_dir(out)
    result = run_grid(sm, *setup, variants)
    with output_dir(out) as written:
        with timed("write"):
            written.append(out / "grid.csv")
            write_grid_csv(result, written[-1], scenario)
        with timed("plot"):
            written.append(out / "heatmaps.png")
            plot_heatmaps(
                result.metrics,
                result.sizes,
                result.months,
                result.variants,
                written[-1],
                f"Stress grid: {label}-skill jobs lost from {begin:g}, scenario {scenario}",
            )
    click.echo(format_grid(result))
    for path in written:
        click.echo(f"wrote {path}")
