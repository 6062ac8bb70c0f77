"""Monte Carlo sweeps: every scenario times the same sampled parameter sets.

A sweep (1) loads and validates everything before any run starts: the uncertainty spec
(against the model's constants), the scenarios, the variables to save; (2) draws the whole
sampling design once (:func:`sdmodel.experiments.sampling.sample`), so run ``i`` gets the same
parameter values in every scenario and whatever the chunk size or number of workers;
(3) integrates chunks of runs, ``(scenario, start, stop)`` tasks, in this process or on a
Dask cluster, and streams the results into the ensemble file
(:class:`sdmodel.io.ensemble.EnsembleWriter`); (4) writes the summary file and the fan
charts. A chunk's results depend only on its parameter values (the engine is
vectorized element-wise over runs), so all execution modes give bit-identical files.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sdmodel.errors import SdmodelError
from sdmodel.experiments.designs import DEFAULT_LEVELS, STRUCTURED, design_rows
from sdmodel.experiments.executors import (  # noqa: F401
    DEFAULT_WORKER_TIMEOUT,
    DaskSession,
    check_scheduler_address,
    in_process,
    on_dask,
    run_chunk,
)
from sdmodel.experiments.memory import check_sweep_memory, machine_memory, sweep_memory
from sdmodel.experiments.sampling import SAMPLERS, Sample, check_seed, sample
from sdmodel.experiments.summary import MEMORY_BUDGET, StreamingSummary, summary_dataset
from sdmodel.experiments.targets import element_labels, resolve_variables, sample_targets
from sdmodel.experiments.uncertainty import load_spec, validate
from sdmodel.io.atomic import output_dir
from sdmodel.io.ensemble import EnsembleWriter, param_var_name
from sdmodel.io.netcdf import open_netcdf, write_netcdf
from sdmodel.io.paths import MODEL_PATH, OUTPUT_DIR, SCENARIO_DIR, file_hash
from sdmodel.model.info import ModelInfo
from sdmodel.model.naming import normalize
from sdmodel.model.scenarios import (
    Scenario,
    load_scenario,
    merge_settings,
    require_model_period,
)
from sdmodel.model.units import to_udunits
from sdmodel.model.variables import DEFAULT_SAVED
from sdmodel.version import __version__

DEFAULT_SCENARIOS = ("conservative", "central", "explosive")
DEFAULT_SEED = 20241125
DEFAULT_RUNS = 1000
DEFAULT_CHUNK = 2000
#: Sweeps save yearly by default (the model steps 1/16 year) to keep files small.
DEFAULT_SAVEPER = 1.0
DEFAULT_SPEC = SCENARIO_DIR / "uncertainty.toml"
DEFAULT_OUT = OUTPUT_DIR / "ensemble.nc"
TITLE = "AI and the Dutch labour market: Monte Carlo ensemble of scenario runs"
#: The one scenario of a sweep given no scenarios: the model's own constants.
BASELINE = Scenario(
    name="baseline",
    description="the model's own constants (no scenario file)",
    sources=(),
)


@dataclass(frozen=True)
class SweepOptions:
    """What to run and where to write it (see ``sdmodel sweep --help``).

    ``n_runs`` is the number of runs per scenario for the samplers of independent draws;
    for ``saltelli`` it is the base number ``N`` (a power of two; the sweep runs
    ``N (k + 2)``, or ``N (2k + 2)`` with ``second_order``, per scenario) and for ``morris``
    the number of trajectories (``n (k + 1)`` runs); :attr:`Plan.options` holds the
    resolved number of runs. An empty ``scenarios`` runs one scenario, ``baseline``, with
    the model's own constants; an empty ``variables`` saves every time-varying variable
    (stocks, flows and auxiliaries: what a model other than the project's has to show).
    """

    scenarios: tuple[str, ...] = DEFAULT_SCENARIOS
    n_runs: int = DEFAULT_RUNS
    seed: int = DEFAULT_SEED
    sampler: str = "lhs"
    variables: tuple[str, ...] = DEFAULT_SAVED
    saveper: float = DEFAULT_SAVEPER
    out: Path = DEFAULT_OUT
    spec_path: Path = DEFAULT_SPEC
    float32: bool = False
    chunk: int = DEFAULT_CHUNK
    workers: int | None = None
    scheduler: str | None = None
    #: Seconds a Dask cluster may have no worker before the sweep gives up.
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT
    progress: bool = False
    figures: bool = True
    model_path: Path = MODEL_PATH
    scenario_dir: Path = SCENARIO_DIR
    threads: int = 1
    #: Bytes of one scenario's runs kept in memory for the summary (the rest is read back).
    summary_memory: int = MEMORY_BUDGET
    #: ``saltelli``: also the rows for second-order indices.
    second_order: bool = False
    #: ``morris``: grid levels.
    levels: int = DEFAULT_LEVELS
    #: Sample the spec's marginals independently, without its ``[[correlation]]`` tables
    #: (what the Sobol and Morris designs need); the file records what was dropped.
    independent: bool = False

    @property
    def summary_path(self) -> Path:
        """``ensemble.nc`` -> ``summary.nc``; ``x.nc`` -> ``x_summary.nc`` (same dir)."""
        if self.out.stem == "ensemble":
            return self.out.with_name("summary.nc")
        return self.out.with_name(f"{self.out.stem}_summary.nc")

    @property
    def figures_dir(self) -> Path:
        """``ensemble.nc`` -> ``figures/``; ``x.nc`` -> ``x_figures/`` (same dir).

        Named after the ensemble, as the summary is, so that a sweep with another
        ``--out`` never replaces the fan charts of an earlier one.
        """
        if self.out.stem == "ensemble":
            return self.out.with_name("figures")
        return self.out.with_name(f"{self.out.stem}_figures")


@dataclass
class Plan:
    """Everything a sweep needs, checked and resolved before the first run."""

    options: SweepOptions
    labels: list[str]
    base: list[dict[str, np.ndarray]]
    sample: Sample
    targets: list[tuple[str, tuple[int, ...] | None]]
    variables: tuple[str, ...]
    template: xr.Dataset
    params: dict[str, tuple[np.ndarray, dict[str, Any]]]
    spec_text: str = field(repr=False, default="")

    @property
    def design(self) -> tuple[np.ndarray, list[str]] | None:
        """Structured samplers: the unit-cube design and its parameters' variable names."""
        if self.sample.unit is None:
            return None
        return self.sample.unit, list(self.params)

    @property
    def tasks(self) -> list[tuple[int, int, int]]:
        """``(scenario index, start, stop)`` chunks, scenario-major."""
        n, size = self.options.n_runs, self.options.chunk
        return [
            (s, a, min(n, a + size)) for s in range(len(self.labels)) for a in range(0, n, size)
        ]

    def task_args(self, s: int, start: int, stop: int) -> tuple:
        """Arguments of :func:`run_chunk` for one task (small, picklable)."""
        o = self.options
        return (
            str(o.model_path),
            self.variables,
            o.saveper,
            self.base[s],
            self.targets,
            np.ascontiguousarray(self.sample.rows(start, stop)),
            "f4" if o.float32 else "f8",
        )


# ----------------------------------------------------------------------------- planning
def _template(
    cm: Any, info: ModelInfo, plan_vars: tuple[str, ...], o: SweepOptions, command: str
) -> xr.Dataset:
    """One default run with the saved variables, as a CF Dataset: the file's skeleton."""
    from sdmodel.experiments.runner import annotate
    from sdmodel.io.netcdf import to_cf

    probe = cm.run(n_runs=1, variables=list(plan_vars), saveper=o.saveper)
    times = np.asarray(probe["time"].values, dtype=float)
    steps = np.diff(times)
    if times.size > 1 and not np.allclose(steps, o.saveper, rtol=0, atol=1e-9):
        raise SdmodelError(
            f"--saveper {o.saveper:g} is not a multiple of the model's time step "
            f"(saved times would be uneven)"
        )
    ds = probe.isel(run=0, drop=True)
    for var in ds.data_vars.values():
        var.attrs = {}
    ds = annotate(ds, info)
    for var in ds.data_vars.values():
        var.attrs.pop("kind", None)
    ds.attrs.update(model_file=o.model_path.name, engine="numpy")
    return to_cf(ds, command=command)


def plan_sweep(options: SweepOptions, command: str | None = None) -> Plan:
    """Check every input and resolve the sweep; no run starts, no file is written.

    Raises
    ------
    SdmodelError
        Invalid spec (naming the entry), unknown scenario, variable or option, or more
        runs than the machine's memory can hold (:mod:`sdmodel.experiments.memory`).
    """
    from sdmodel.engine import compile_model
    from sdmodel.experiments.runner import engine_params, pysd_version, scenario_record
    from sdmodel.model.info import load_info

    o = options
    if o.n_runs < 1:
        raise SdmodelError(f"--runs must be at least 1, got {o.n_runs}")
    if o.chunk < 1:
        raise SdmodelError(f"--chunk must be at least 1, got {o.chunk}")
    if o.sampler not in SAMPLERS:
        raise SdmodelError(f"--sampler must be one of {', '.join(SAMPLERS)}, got {o.sampler!r}")
    if (o.second_order or o.levels != DEFAULT_LEVELS) and o.sampler not in STRUCTURED:
        what = "--second-order" if o.second_order else "--levels"
        raise SdmodelError(f"{what} needs --sampler saltelli or morris, not {o.sampler}")
    # the Python API's options, checked as the CLI's option types check them
    try:
        check_seed(o.seed)
    except SdmodelError as exc:
        raise SdmodelError(f"--seed: {exc}") from None
    if o.scheduler is not None:
        try:
            check_scheduler_address(o.scheduler)
        except SdmodelError as exc:
            raise SdmodelError(f"--scheduler: {exc}") from None
    if not o.saveper > 0:
        raise SdmodelError(f"--saveper must be positive, got {o.saveper:g}")
    if not o.model_path.is_file():
        raise SdmodelError(f"model file not found: {o.model_path}")
    spec = load_spec(o.spec_path)
    dropped = [f"{c.between[0]} ~ {c.between[1]}: {c.rank:g}" for c in spec.correlations]
    if o.independent:
        spec = dataclasses.replace(spec, correlations=())
    info = load_info(o.model_path)
    cm = compile_model(o.model_path)
    known = {
        normalize(e.name): element_labels(cm, e.py_name)
        for e in info.by_kind("constant")
        if e.py_name in cm.elements
    }
    validate(spec, known, info)
    scenarios = [load_scenario(name, directory=o.scenario_dir) for name in o.scenarios]
    scenarios = scenarios or [BASELINE]
    require_model_period(scenarios, "sdmodel sweep")
    labels = [s.name for s in scenarios]
    if not labels:
        raise SdmodelError("no scenarios given")
    if len(set(labels)) != len(labels):
        raise SdmodelError(f"scenario names repeat: {', '.join(labels)}")
    settings = [merge_settings(s, [], info) for s in scenarios]
    stacked = engine_params(settings, cm, info)
    base = [{py: np.array(a[i]) for py, a in stacked.items()} for i in range(len(labels))]
    variables = resolve_variables(cm, o.variables)
    targets = sample_targets(cm, spec)
    cmd = command or "python API (sdmodel.experiments.sweep.run_sweep)"
    template = _template(cm, info, variables, o, cmd)
    per_run = [int(v.size) for v in template.data_vars.values()]
    rows = design_rows(o.sampler, o.n_runs, len(spec.parameters), o.second_order)
    need = sweep_memory(rows, len(spec.parameters), o.chunk, per_run, 4 if o.float32 else 8)
    check_sweep_memory(need, rows, machine_memory())  # before the design is drawn
    drawn = sample(
        spec,
        o.n_runs,
        seed=o.seed,
        sampler=o.sampler,  # type: ignore[arg-type]
        second_order=o.second_order,
        levels=o.levels,
    )
    # from here on n_runs is the number of runs per scenario (the design's rows)
    o = dataclasses.replace(o, n_runs=drawn.n)
    spec_text = o.spec_path.read_text(encoding="utf-8")
    ours = o.model_path.resolve() == MODEL_PATH.resolve()
    template.attrs.update(
        title=TITLE if ours else f"Monte Carlo ensemble of {o.model_path.name} runs",
        source=f"{o.model_path.name} run with sdmodel {__version__}, engine numpy "
        f"(Monte Carlo: {o.n_runs} {o.sampler} samples x {len(labels)} scenarios)",
        pysd_version=pysd_version(),
        **({"dropped_rank_correlations": "; ".join(dropped)} if o.independent and dropped else {}),
        model_sha256=file_hash(o.model_path),
        scenarios=scenario_record(scenarios, []),
        seed=o.seed,
        sampler=o.sampler,
        n_runs=o.n_runs,
        n_scenarios=len(labels),
        saveper_years=o.saveper,
        storage_type="float32" if o.float32 else "float64",
        uncertainty_spec=o.spec_path.name,
        uncertainty_spec_sha256=file_hash(o.spec_path),
        uncertainty_spec_toml=spec_text,
        uncertain_parameters=list(drawn.names),
        **{k: v for k, v in drawn.design.items() if k != "sampler"},
        sampling_note=(
            "One sampling design (seed, sampler, n_runs) shared by all scenarios: run i has "
            "the same parameter values in every scenario and does not depend on chunking "
            "or workers. Sampled values override the scenario's value of the same constant."
        ),
    )
    params = {}
    for j, name in enumerate(drawn.names):
        py = targets[j][0]
        attrs = {
            "long_name": name,
            "units": to_udunits(cm.elements[py]["units"], name),
            "comment": "sampled uncertain model constant: one value per run, the same in "
            "every scenario",
            **{("vensim_name" if k == "name" else k): v for k, v in drawn.to_attrs(name).items()},
        }
        params[param_var_name(name)] = (drawn.values[:, j], attrs)
    if len(params) != len(drawn.names):
        raise SdmodelError("two uncertain parameters map to the same NetCDF variable name")
    clash = set(params) & set(template.variables)
    if clash:
        raise SdmodelError(f"parameter variable names clash with model variables: {clash}")
    return Plan(o, labels, base, drawn, targets, variables, template, params, spec_text)


# ----------------------------------------------------------------------------- running
@dataclass
class SweepResult:
    """Files written and how long the parts took (seconds)."""

    ensemble: Path
    summary: Path
    figures: list[Path]
    timings: dict[str, float]

    def open_ensemble(self, **kwargs: Any) -> xr.Dataset:
        """The ensemble file, opened lazily (values are read when used; close it after).

        ``kwargs`` go to :func:`xarray.open_dataset` (e.g. ``chunks={}`` for dask); the
        string coordinates (``scenario``, ``skill``) are restored
        (:func:`sdmodel.io.netcdf.open_netcdf`).
        """
        return open_netcdf(self.ensemble, **kwargs)

    def open_summary(self, **kwargs: Any) -> xr.Dataset:
        """The summary file (percentiles and means over runs), opened lazily."""
        return open_netcdf(self.summary, **kwargs)


def run_sweep(
    options: SweepOptions,
    command: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> SweepResult:
    """Plan, run and write a sweep: ensemble file, summary file and fan charts.

    The chunks are written to the ensemble file as they come and kept in memory (up to
    ``options.summary_memory`` bytes per scenario) for the summary, whose statistics
    are computed in a background thread as each scenario completes; only variables that
    do not fit are read back from the file (:mod:`sdmodel.experiments.summary`). The fan charts are
    drawn from the summary in memory.

    Parameters
    ----------
    options
        See :class:`SweepOptions`.
    command
        Command line for ``history``.
    echo
        Receives short progress notes (default: none).

    Returns
    -------
    SweepResult

    Raises
    ------
    SdmodelError
        Any invalid input (before any run starts) or a failed run/write. No file is left
        under the final names of files not completed.
    """
    from tqdm import tqdm

    t0 = time.perf_counter()
    plan = plan_sweep(options, command)
    o = plan.options  # n_runs resolved (saltelli, morris)
    timings = {"plan": time.perf_counter() - t0}
    total = len(plan.labels) * o.n_runs
    # the fan charts' imports (matplotlib) overlap the runs
    aux = ThreadPoolExecutor(1, thread_name_prefix="sdmodel-figures")
    if o.figures:
        aux.submit(importlib.import_module, "sdmodel.plots.fans")
    stream = StreamingSummary(
        # one run as the engine gives it, (*subscripts, time); the template is time first
        {str(k): (*v.shape[1:], v.shape[0]) for k, v in plan.template.data_vars.items()},
        len(plan.labels),
        o.n_runs,
        budget=o.summary_memory,
    )
    session = DaskSession(o.workers, o.scheduler) if (o.workers or o.scheduler) else None
    # one transaction: ensemble, summary and fan charts appear together at the end, and
    # an interruption anywhere leaves the previous ones as they were; the directory of
    # --out is created if missing (and removed again on failure)
    with output_dir(o.out.parent):
        try:
            with (
                EnsembleWriter(
                    o.out,
                    plan.template,
                    plan.labels,
                    o.n_runs,
                    plan.params,
                    np.float32 if o.float32 else np.float64,
                    design=plan.design,
                ) as writer,
                tqdm(total=total, unit="run", disable=not o.progress, file=sys.stderr) as bar,
            ):
                results = (
                    on_dask(plan, session.client, o.worker_timeout, session.where)
                    if session
                    else in_process(plan)
                )
                try:
                    for s, a, arrays in results:
                        # first: a completed scenario's statistics overlap this chunk's
                        # writing
                        stream.add(s, a, arrays)
                        writer.write(s, a, arrays)
                        bar.update(next(iter(arrays.values())).shape[0])
                except SdmodelError:
                    raise
                except Exception as exc:
                    raise SdmodelError(f"sweep run failed: {type(exc).__name__}: {exc}") from exc
                finally:
                    close = getattr(results, "close", None)
                    if close:
                        close()
                timings["runs"] = time.perf_counter() - t0 - timings["plan"]
                tmp = writer.close()
                t1 = time.perf_counter()
                summary = summary_dataset(
                    tmp, command=command, ensemble_name=o.out.name, stats=stream.result()
                )
                write_netcdf(summary, o.summary_path)
                timings["summary"] = time.perf_counter() - t1
                writer.commit()
        finally:
            stream.close()
            aux.shutdown(wait=True, cancel_futures=True)
            if session is not None:
                session.close()
        figures: list[Path] = []
        if o.figures:
            from sdmodel.plots.fans import FANS, draw_fan_charts

            t2 = time.perf_counter()
            # another model has none of the indicators of the fan charts: no empty folder
            if any(fan.name in summary.data_vars for fan in FANS):
                figures = draw_fan_charts(summary, o.figures_dir)
            timings["figures"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    if echo:
        echo(
            f"{total} runs ({len(plan.labels)} scenarios x {o.n_runs}) in {timings['total']:.1f} s"
        )
    return SweepResult(o.out, o.summary_path, figures, timings)
