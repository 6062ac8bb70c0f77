"""``sdmodel sweep``: Monte Carlo runs of every scenario, streamed to CF-NetCDF."""

from __future__ import annotations

import atexit
import gc
from pathlib import Path

import click

from sdmodel.cli.common import (
    SchedulerAddress,
    _user_errors,
    check_writable,
    command_line,
    model_option,
    output_level_options,
    runs_option,
    scenarios_option,
    seed_option,
    set_output_level,
    spec_option,
)
from sdmodel.errors import SdmodelError
from sdmodel.experiments.designs import DEFAULT_LEVELS
from sdmodel.experiments.executors import DEFAULT_WORKER_TIMEOUT
from sdmodel.experiments.sampling import SAMPLERS
from sdmodel.experiments.sweep import (
    DEFAULT_CHUNK,
    DEFAULT_OUT,
    DEFAULT_RUNS,
    DEFAULT_SAVEPER,
    DEFAULT_SCENARIOS,
    DEFAULT_SEED,
    DEFAULT_SPEC,
    SweepOptions,
    run_sweep,
)
from sdmodel.io.atomic import make_output_dir
from sdmodel.io.paths import MODEL_PATH, OUTPUT_DIR
from sdmodel.model.variables import DEFAULT_SAVED


def _split_vars(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--vars A --vars "B, C"`` -> ``("A", "B", "C")``."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


#: The sweep's timed steps (keys of ``SweepResult.timings``) and their names in ``--verbose``.
SWEEP_STEPS = (
    ("plan", "plan"),  # validation, translation, compilation, sampling
    ("runs", "integrate+write"),  # streamed: chunks are written while others run
    ("summary", "summary"),
    ("figures", "plot"),
    ("total", "total"),
)


@click.command()
@runs_option(
    "Monte Carlo samples per scenario (the same samples in every scenario); with --sampler "
    "saltelli the base number N, a power of two (N(k+2) runs, N(2k+2) with --second-order, "
    "for k parameters); with morris the number of trajectories (N(k+1) runs).",
    default=DEFAULT_RUNS,
    dest="n_runs",
)
@seed_option("Sampling seed.", default=DEFAULT_SEED)
@click.option(
    "--sampler",
    type=click.Choice(SAMPLERS),
    default="lhs",
    show_default=True,
    help="Latin hypercube, scrambled Sobol, plain random, or the designs of global "
    "sensitivity analysis (saltelli for 'sdmodel analyze sobol', morris for 'analyze morris').",
)
@click.option(
    "--second-order",
    is_flag=True,
    help="saltelli: also the runs for second-order Sobol indices.",
)
@click.option(
    "--levels",
    type=click.IntRange(min=2),
    default=DEFAULT_LEVELS,
    show_default=True,
    help="morris: levels of the grid.",
)
@click.option(
    "--independent",
    is_flag=True,
    help="Sample the spec's marginals independently, dropping its [[correlation]] tables "
    "(Sobol and Morris indices assume independent inputs); the file records the dropped ones.",
)
@scenarios_option(
    f"Scenario name or .toml file (repeatable; default: {', '.join(DEFAULT_SCENARIOS)}; "
    "with another --model: one scenario, baseline, the model's own constants)."
)
@click.option(
    "--vars",
    "variables",
    multiple=True,
    metavar="NAMES",
    help="Variables to save, Vensim or Python names (repeatable or comma list; default: "
    "the output contract plus key indicators, sdmodel.model.variables.DEFAULT_SAVED; with "
    "another --model: every stock, flow and auxiliary).",
)
@click.option(
    "--saveper",
    type=float,
    default=DEFAULT_SAVEPER,
    show_default=True,
    help="Save period in years. Sweeps save yearly by default (not every 1/16-year step) "
    "to keep files small.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Ensemble NetCDF file; summary.nc and figures/ (for x.nc: x_summary.nc and "
    "x_figures/) go next to it.",
)
@spec_option("Uncertainty specification (TOML).", default=DEFAULT_SPEC)
@click.option("--float32", is_flag=True, help="Store model variables as float32 (half the size).")
@click.option(
    "--chunk",
    type=int,
    default=DEFAULT_CHUNK,
    show_default=True,
    help="Runs per chunk (memory per chunk; results do not depend on it).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Run chunks on a local Dask cluster of N single-threaded worker processes.",
)
@click.option(
    "--scheduler",
    type=SchedulerAddress(),
    metavar="ADDRESS",
    default=None,
    help="Run chunks on an existing Dask cluster (e.g. tcp://host:8786); workers must see "
    "the model file at the same path.",
)
@click.option(
    "--worker-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_WORKER_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Give up when the Dask cluster has had no worker, or its scheduler has not "
    "answered, for this long.",
)
@click.option("--no-figures", is_flag=True, help="Skip the fan charts.")
@model_option
@output_level_options("No progress bar and no report.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the files, timings and summary percentiles as JSON (no progress bar).",
)
@_user_errors
def sweep(
    n_runs: int,
    seed: int,
    sampler: str,
    second_order: bool,
    levels: int,
    independent: bool,
    scenarios: tuple[str, ...],
    variables: tuple[str, ...],
    saveper: float,
    out: Path,
    spec_path: Path,
    float32: bool,
    chunk: int,
    workers: int | None,
    scheduler: str | None,
    worker_timeout: float,
    no_figures: bool,
    model_path: Path,
    quiet: bool,
    verbose: bool,
    as_json: bool,
) -> None:
    """Monte Carlo sweep: every scenario x --runs sampled parameter sets.

    Writes the ensemble (dims time, scenario, run, skill; sampled parameters as
    param_* variables), a summary (5/25/50/75/95th percentiles and mean over runs) and
    fan charts. Everything is validated before the first run; files appear atomically.
    """
    from sdmodel.io.progress import enabled, set_quiet, timing

    set_output_level(quiet, verbose)
    set_quiet(quiet or as_json)
    if workers and scheduler:
        raise SdmodelError("give either --workers or --scheduler, not both")
    if out == DEFAULT_OUT:
        make_output_dir(OUTPUT_DIR)
    ours = model_path.resolve() == MODEL_PATH.resolve()
    options = SweepOptions(
        scenarios=tuple(scenarios) or (DEFAULT_SCENARIOS if ours else ()),
        n_runs=n_runs,
        seed=seed,
        sampler=sampler,
        second_order=second_order,
        levels=levels,
        independent=independent,
        model_path=model_path,
        variables=_split_vars(variables) or (DEFAULT_SAVED if ours else ()),
        saveper=saveper,
        out=out,
        spec_path=spec_path,
        float32=float32,
        chunk=chunk,
        workers=workers,
        scheduler=scheduler,
        worker_timeout=worker_timeout,
        progress=enabled(),
        figures=not no_figures,
    )
    check_writable(options.out)
    check_writable(options.summary_path)
    # A sweep is a one-shot process whose imported modules and plan live to the end:
    # keep the cyclic garbage collector's full passes off them during the runs (each
    # stalls the engine and writer threads) and at exit, where the collections over
    # ~10^5 objects of numpy, scipy, xarray, pysd, dask and matplotlib take ~0.3 s.
    atexit.unregister(gc.freeze)  # once, however many sweeps run in this process
    atexit.register(gc.freeze)
    gc.freeze()
    try:
        command = command_line(click.get_current_context(), ("sdmodel", "sweep"), skip=("verbose",))
        result = run_sweep(options, command=command)
        runs = _runs_per_scenario(result)
    finally:
        gc.unfreeze()  # in-process callers (tests) get their collector back
    for step, name in SWEEP_STEPS:
        if step in result.timings:
            timing(name, result.timings[step])
    if as_json:
        click.echo(sweep_json(result, runs, seed))
    elif not quiet:
        t = result.timings
        click.echo(f"wrote {result.ensemble}")
        click.echo(f"wrote {result.summary}")
        if result.figures:
            click.echo(f"wrote {len(result.figures)} fan charts in {result.figures[0].parent}")
        click.echo(
            f"{max(1, len(options.scenarios))} scenarios x {runs} runs in {t['total']:.1f} s "
            f"(runs and writing {t['runs']:.1f} s, summary {t['summary']:.1f} s)"
        )


def _runs_per_scenario(result) -> int:
    """Runs per scenario as written (the design's rows for saltelli and morris)."""
    import netCDF4

    with netCDF4.Dataset(result.ensemble) as nc:
        return len(nc.dimensions["run"])


def sweep_json(result, n_runs: int, seed: int) -> str:
    """``sdmodel sweep --json``: files, timings and the summary's percentiles.

    For each scenario, summary year and indicator of :data:`sdmodel.cli.run.
    SUMMARY_VARIABLES` in the summary file: the 5th, 50th and 95th percentiles and the
    mean over runs, in model units (fractions, EUR per year), read back from the file.
    """
    import json

    import numpy as np

    from sdmodel.cli.run import SUMMARY_VARIABLES, _summary_years
    from sdmodel.io.netcdf import open_netcdf

    rows = []
    with open_netcdf(result.summary) as ds:
        years = np.asarray(ds["decimal_year"].values, dtype=float)
        pct = [float(p) for p in ds["percentile"].values]
        for scenario in ds["scenario"].values:
            for year in _summary_years(ds.assign_coords(time=years)):
                k = int(np.argmin(np.abs(years - year)))
                for name, _ in SUMMARY_VARIABLES:
                    if name not in ds or abs(years[k] - year) > 1e-9:
                        continue
                    var = ds[name].sel(scenario=scenario).isel(time=k)
                    row = {"scenario": str(scenario), "year": year, "variable": name}
                    for p in (5.0, 50.0, 95.0):
                        row[f"p{p:g}"] = float(var.isel(percentile=pct.index(p)))
                    mean = f"{name}_mean"
                    if mean in ds:
                        row["mean"] = float(ds[mean].sel(scenario=scenario).isel(time=k))
                    rows.append(row)
    document = {
        "command": "sweep",
        "runs_per_scenario": n_runs,
        "seed": seed,
        "files": {
            "ensemble": str(result.ensemble),
            "summary": str(result.summary),
            "figures": [str(f) for f in result.figures],
        },
        "timings_s": {k: round(float(v), 3) for k, v in result.timings.items()},
        "units": dict(SUMMARY_VARIABLES),
        "summary": rows,
    }
    return json.dumps(document, indent=2)
