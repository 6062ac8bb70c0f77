"""``sdmodel run``: scenario runs written as CF-NetCDF with an overview plot."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import click
import numpy as np
import xarray as xr

from sdmodel.cli.common import (
    _user_errors,
    check_writable,
    command_line,
    model_option,
    output_level_options,
    scenarios_option,
    set_output_level,
)
from sdmodel.io.atomic import make_output_dir
from sdmodel.io.paths import OUTPUT_DIR

SUMMARY_YEARS = (2030, 2040, 2050)


def overview_path(nc_path: Path) -> Path:
    """``outputs/run.nc`` -> ``outputs/run_overview.png``."""
    return nc_path.with_name(f"{nc_path.stem}_overview.png")


def _value_at(ds: xr.Dataset, name: str, year: float) -> np.ndarray | None:
    if name not in ds.data_vars:
        return None
    years = np.asarray(ds["time"].values, dtype=float)
    index = int(np.argmin(np.abs(years - year)))
    if abs(years[index] - year) > 1e-9:
        return None
    return ds[name].isel(time=index).values


#: The summary's indicators: (variable, unit of the JSON value).
SUMMARY_VARIABLES = (
    ("unemployment_rate", "1"),
    ("labour_income_share", "1"),
    ("ww_outlays", "EUR per year, constant 2024 prices"),
)


def _summary_years(ds: xr.Dataset) -> list[int]:
    times = np.asarray(ds["time"].values, dtype=float)
    years = [y for y in SUMMARY_YEARS if times[0] <= y <= times[-1]]
    # another period (the history run, 1995-2023): its first and last year
    return years or [int(times[0]), int(times[-1])]


def summary_records(ds: xr.Dataset) -> list[dict]:
    """The summary as records: scenario, year and each indicator in model units.

    The same numbers as :func:`summary_table` prints, unscaled (fractions, EUR per
    year); ``None`` where a variable is not in the run.
    """
    rows = []
    for scenario in ds["scenario"].values:
        sub = ds.sel(scenario=scenario)
        for year in _summary_years(ds):
            row: dict = {"scenario": str(scenario), "year": year}
            for name, _ in SUMMARY_VARIABLES:
                value = _value_at(sub, name, year)
                row[name] = None if value is None else float(value)
            if any(row[name] is not None for name, _ in SUMMARY_VARIABLES):
                rows.append(row)
    return rows


def summary_json(ds: xr.Dataset, files: list[Path]) -> str:
    """``sdmodel run --json``: the files written, the units and the summary records."""
    document = {
        "command": "run",
        "files": [str(f) for f in files],
        "units": dict(SUMMARY_VARIABLES),
        "summary": summary_records(ds),
    }
    return json.dumps(document, indent=2)


def summary_table(ds: xr.Dataset) -> str:
    """Text table: unemployment rate, labour income share, WW outlays per scenario/year."""
    columns = (
        ("unemployment_rate", "unempl. rate %", 100.0, "{:14.2f}"),
        ("labour_income_share", "labour share %", 100.0, "{:14.2f}"),
        ("ww_outlays", "WW bn EUR/yr", 1e-9, "{:14.2f}"),
    )
    header = f"{'scenario':<16}{'year':>6}" + "".join(f"{c[1]:>16}" for c in columns)
    lines = [header, "-" * len(header)]
    years = _summary_years(ds)
    for scenario in ds["scenario"].values:
        sub = ds.sel(scenario=scenario)
        for year in years:
            cells = []
            for name, _, scale, fmt in columns:
                value = _value_at(sub, name, year)
                cells.append(f"{'n/a':>16}" if value is None else "  " + fmt.format(value * scale))
            if all(c.strip() == "n/a" for c in cells):
                continue
            lines.append(f"{str(scenario):<16}{year:>6}" + "".join(cells))
    return "\n".join(lines)


@click.command()
@scenarios_option("Scenario name or .toml file (repeatable; default: all in scenarios/).")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar='"NAME=VALUE"',
    help='Override a constant for every scenario, e.g. --set "Base adoption delay[low]=6".',
)
@click.option(
    "--out",
    type=click.Path(dir_okay=True, path_type=Path),
    default=OUTPUT_DIR / "run.nc",
    show_default=True,
    help="NetCDF output file; the overview plot goes next to it as <stem>_overview.png.",
)
@model_option
@click.option(
    "--engine",
    type=click.Choice(["numpy", "jax", "pysd"]),
    default="numpy",
    show_default=True,
    help="numpy: the vectorized ensemble engine; jax: the same with its time loop compiled "
    "by XLA (equal to rounding, what sdmodel serve plots); pysd: the reference (slow, same "
    "results).",
)
@output_level_options("No notes on long steps (translation, pysd runs).")
@click.option("--json", "as_json", is_flag=True, help="Print the files and the summary as JSON.")
@_user_errors
def run(
    scenarios: tuple[str, ...],
    settings: tuple[str, ...],
    out: Path,
    model_path: Path,
    engine: str,
    quiet: bool,
    verbose: bool,
    as_json: bool,
):
    """Run scenarios, write CF-NetCDF and an overview plot."""
    set_output_level(quiet, verbose)
    from sdmodel.experiments.runner import run_scenarios
    from sdmodel.io.atomic import output_dir
    from sdmodel.io.netcdf import write_netcdf
    from sdmodel.io.progress import timed
    from sdmodel.model.scenarios import parse_set
    from sdmodel.plots.overview import plot_overview

    overrides = [parse_set(text) for text in settings]
    png = overview_path(out)
    if out == OUTPUT_DIR / "run.nc":
        make_output_dir(OUTPUT_DIR)
    check_writable(out)
    check_writable(png)
    with warnings.catch_warnings():
        # pysd on pandas 3 warns about its own use of `inplace`; not the user's concern
        warnings.filterwarnings("ignore", message=".*inplace keyword", module="pysd")
        warnings.filterwarnings("ignore", message=".*inplace keyword", category=FutureWarning)
        ds = run_scenarios(list(scenarios) or None, overrides, model_path, engine=engine)
    command = command_line(
        click.get_current_context(), ("sdmodel", "run"), omit_defaults=("model_path",)
    )
    # both files or neither (an interruption keeps the previous ones); a directory that
    # --out names and that is missing is created, and removed again on failure
    with output_dir(out.parent):
        with timed("write"):
            written = write_netcdf(ds, out, command=command)
        with timed("plot"):
            plot_overview(ds, png)
    if as_json:
        click.echo(summary_json(ds, [written, png]))
        return
    click.echo(f"wrote {written}")
    click.echo(f"wrote {png}")
    click.echo(summary_table(ds))
