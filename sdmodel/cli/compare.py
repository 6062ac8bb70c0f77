"""``sdmodel compare``: policy variants against the baseline, from the command line.

The command parses its options and calls :func:`sdmodel.experiments.compare.run_compare`; the
reports come from :mod:`sdmodel.experiments.compare_report`. Every input is checked before the
first run; user errors print one line and exit 2, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from sdmodel.cli.common import (
    _user_errors,
    command_line,
    model_option,
    output_level_options,
    policy_file_option,
    policy_option,
    runs_option,
    scenarios_option,
    seed_option,
    set_output_level,
    spec_option,
)
from sdmodel.experiments.sweep import DEFAULT_SEED
from sdmodel.io.atomic import check_output_dir, output_dir
from sdmodel.io.paths import OUTPUT_DIR

COMPARE_DIR = OUTPUT_DIR / "compare"


@click.command()
@policy_file_option("Policy variant (TOML, e.g. scenarios/policies/ww_generous.toml); repeatable.")
@policy_option(
    'Policy lever of an ad-hoc variant named "command line", e.g. '
    '--policy "WW maximum duration=12" (repeatable; all flags form one variant).'
)
@scenarios_option("Scenario name or .toml file (repeatable; default: central).")
@runs_option(
    "1: the deterministic scenario runs; N > 1: N parameter draws, the same for the "
    "baseline and every variant (paired differences)."
)
@seed_option("Seed of the draws.", default=DEFAULT_SEED)
@spec_option()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=COMPARE_DIR,
    show_default=True,
    help="Output directory: compare.csv, compare.nc, compare.png.",
)
@model_option
@output_level_options("No notes on long steps (translation, compilation).")
@_user_errors
def compare(
    policy_files: Sequence[Path],
    policy: Sequence[str],
    scenarios: Sequence[str],
    runs: int,
    seed: int,
    spec_path: Path | None,
    out: Path,
    model_path: Path,
    quiet: bool,
    verbose: bool,
) -> None:
    """Run policy variants against the baseline; print and save the comparison."""
    set_output_level(quiet, verbose)
    from sdmodel.experiments.compare import CompareModel, run_compare
    from sdmodel.experiments.compare_report import format_table, plot_compare, write_compare_csv
    from sdmodel.io.netcdf import write_netcdf
    from sdmodel.io.progress import timed
    from sdmodel.model.policies import load_policy, policy_from_flags

    model = CompareModel.load(model_path)
    policies = [load_policy(path, model.info) for path in policy_files]
    flags = policy_from_flags(policy, model.info)
    policies += [flags] if flags else []
    check_output_dir(out)
    with timed("integrate"):  # every case of every scenario, and the measures
        result = run_compare(model, policies, scenarios or ("central",), runs, seed, spec_path)
    ds = result.dataset()
    how = f"{runs} draws: medians and 5-95% bands" if runs > 1 else "one run each"
    command = command_line(click.get_current_context(), ("sdmodel", "compare"))
    with output_dir(out) as written:
        with timed("write"):
            written.append(out / "compare.csv")
            write_compare_csv(result, written[-1])
            written.append(out / "compare.nc")
            write_netcdf(ds, written[-1], command=command)
        with timed("plot"):
            written.append(out / "compare.png")
            plot_compare(ds, written[-1], f"Policy variants against the baseline ({how})")
    click.echo(format_table(result))
    for path in written:
        click.echo(f"wrote {path}")
