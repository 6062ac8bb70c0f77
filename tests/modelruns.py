"""Reference pysd runs of the project model, shared by the model-behaviour tests.

A pysd run of the full model takes 35-60 s, and every test process (each pytest-xdist
worker) would repeat it. So each distinct run is made once and stored on disk under
``cache_dir()/pysd-runs`` (:func:`cached_pickle`: one process builds an entry while the
others wait for it, or build another scenario meanwhile, and later sessions reuse it),
and kept in memory per process (``functools.cache``). An entry's key is the SHA-256 of
everything the run depends on: the model file's content hash, the validated scenario
settings (so an edited scenario file is a new run), the run's options, the pysd version
and the source of the sdmodel modules that make the run (:data:`RUN_SOURCES`).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sdmodel.experiments.runner import pysd_version, run_pysd
from sdmodel.io.paths import MODEL_PATH, PROJECT_ROOT, cache_dir, cached_pickle, file_hash
from sdmodel.model.info import ModelInfo, load_info
from sdmodel.model.scenarios import load_scenario, merge_settings
from sdmodel.model.translate import load_model

SCENARIOS = ("no_further_ai", "conservative", "central", "explosive")
#: Stocks that are signed by definition: a fund can borrow, demand stabilisation pushes
#: both ways, the task decomposition accumulates log points of either sign, and the net
#: population inflow since 2024 is negative when the population shrinks.
SIGNED_STOCKS = frozenset(
    {
        "awf_balance",
        "accumulated_demand_stabilisation",
        "cumulative_net_population_inflow",
        "displacement_effect_on_labour_demand",
        "productivity_effect_on_labour_demand",
        "reinstatement_effect_on_labour_demand",
    }
)
#: Overrides that switch off the demographic drift (sector 11): a flat population and young
#: cohorts with the 2024 group shares. Without AI the model is then a steady state.
NO_DEMOGRAPHIC_DRIFT = (
    ("Working age population 2050 relative to 2023", 1.0),
    ("Entrant skill tilt", 0.0),
)
SHARED = PROJECT_ROOT.parent / "shared"
#: Where the stored reference runs live (below ``cache_dir()``).
RUN_CACHE = "pysd-runs"
#: Bump to drop every stored reference run (a change in how this module stores them).
RUN_CACHE_VERSION = 1
#: Modules whose code shapes a stored run: a change in any of them is a new key.
RUN_SOURCES = (
    "experiments/runner.py",
    "model/scenarios.py",
    "model/info.py",
    "model/naming.py",
    "model/translate.py",
)

Overrides = tuple[tuple[str, float], ...]


@functools.cache
def _model():
    model = load_model()
    return model, ModelInfo.from_model(model)


@functools.cache
def _meta() -> ModelInfo:
    """Model metadata without loading pysd (for cache keys; see :func:`load_info`)."""
    return load_info(MODEL_PATH)


def pysd_model():
    """The project model loaded by pysd (shared: reload it before a run)."""
    return _model()[0]


def info() -> ModelInfo:
    """Metadata of the project model."""
    return _meta()


def model_time_step() -> float:
    """The model's own TIME STEP (from the model file, not the shared pysd model).

    The shared pysd model reports the TIME STEP of its last run until it is reloaded,
    and the reference runs at another step (test_engine_model.py) leave it there.
    """
    return float(compiled().control_values()["time_step"])


@functools.cache
def _code_hash() -> str:
    sdmodel_dir = PROJECT_ROOT / "sdmodel"
    return hashlib.sha256(
        "".join(file_hash(sdmodel_dir / name) for name in RUN_SOURCES).encode()
    ).hexdigest()


def _key(kind: str, spec: Mapping[str, Any]) -> str:
    identity = {
        "kind": kind,
        "spec": spec,
        "model_sha256": file_hash(MODEL_PATH),
        "pysd": pysd_version(),
        "code": _code_hash(),
        "version": RUN_CACHE_VERSION,
    }
    text = json.dumps(identity, sort_keys=True, allow_nan=False)
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()}"


def cached_run(kind: str, spec: Mapping[str, Any], build: Callable[[], Any], result: type):
    """A pysd reference run stored on disk, built by ``build`` on the first request.

    Parameters
    ----------
    kind
        What sort of run (part of the key).
    spec
        Everything else the run depends on besides the model file, the pysd version and
        :data:`RUN_SOURCES` (settings, options): JSON-serialisable, floats exactly.
    build
        Makes the run on a miss.
    result
        The type a stored run must have (a foreign or corrupt entry is rebuilt).
    """
    return cached_pickle(RUN_CACHE, _key(kind, spec), build, kind=result)[0]


def _stored(key: str) -> bool:
    return (cache_dir() / RUN_CACHE / f"{key}.pkl").is_file()


def _being_built(key: str) -> bool:
    """Whether another process holds ``key``'s lock (``cached_pickle``'s ``key.lock``)."""
    try:
        import fcntl
    except ImportError:  # no locks: nobody waits
        return False
    lock = cache_dir() / RUN_CACHE / f"{key}.lock"
    if not lock.is_file():
        return False
    with lock.open("ab") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False


def _run_spec(scenario: str, overrides: Overrides = ()) -> dict[str, Any]:
    """What a reference run depends on besides the model: settings and any [control]."""
    spec: dict[str, Any] = {"settings": _settings(scenario, overrides)}
    control = load_scenario(scenario).control
    if control:  # runs over the model's own period keep their keys
        spec["control"] = control
    return spec


def _run_key(scenario: str, overrides: Overrides = ()) -> str:
    return _key("run", _run_spec(scenario, overrides))


def _build_others_while_busy(key: str) -> None:
    """While another worker builds ``key``, build scenario runs that nobody has started.

    Both xdist workers tend to ask for the scenarios in the same order (the tests are
    parametrized over :data:`SCENARIOS`), so without this one would wait for each run
    the other is building instead of building the next.
    """
    for other in SCENARIOS:
        if _stored(key) or not _being_built(key):
            return
        other_key = _run_key(other)
        if not _stored(other_key) and not _being_built(other_key):
            run(other)


def exact_join():
    """xarray option for pysd reference runs: align operands with ``join="exact"``.

    pysd's arrays over a subscript range all carry the same coordinates, so xarray's
    default inner join finds nothing to drop and only copies both operands of every
    arithmetic operation: about 40% of a pysd run of this model. An exact join skips
    the copies and raises where two coordinates differ. Where it succeeds the inner join
    would have kept every label, so a run gives the default's values bit for bit (the
    central scenario's Datasets are identical) or fails loudly; it never differs quietly.
    """
    return xr.set_options(arithmetic_join="exact")


def _settings(scenario: str, overrides: Overrides):
    return merge_settings(load_scenario(scenario), overrides, _meta())


@functools.cache
def run(scenario: str, overrides: Overrides = ()) -> xr.Dataset:
    """Full pysd run of a scenario (plus ``--set``-style overrides) as a Dataset.

    ``scenario``: a name or a ``.toml`` path; its ``[control]`` period is honoured.
    """
    spec = _run_spec(scenario, overrides)

    def build() -> xr.Dataset:
        model, meta = _model()
        with exact_join():
            return run_pysd(model, meta, spec["settings"], control=spec.get("control"))

    _build_others_while_busy(_run_key(scenario, overrides))
    return cached_run("run", spec, build, xr.Dataset)


def compute_scenario_facts() -> dict[str, dict[str, float]]:
    """``../shared/calibration/compute_scenarios.csv`` as {quantity: {scenario: value}}."""
    path = SHARED / "calibration" / "compute_scenarios.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    facts: dict[str, dict[str, float]] = {}
    for row in rows:
        facts[row["quantity"]] = {
            name: float(row[name]) for name in ("conservative", "central", "explosive") if row[name]
        }
    return facts


def shared_path(*parts: str) -> Path:
    return SHARED.joinpath(*parts)


@functools.cache
def compiled():
    """The project model compiled by the ensemble engine."""
    from sdmodel.engine import compile_model
    from sdmodel.io.paths import MODEL_PATH

    return compile_model(MODEL_PATH)


@functools.cache
def spec_ensemble(
    scenario: str, n: int, seed: int, variables: tuple[str, ...], overrides: Overrides = ()
) -> dict[str, object]:
    """``n`` engine runs of a scenario with the default uncertainty specification.

    Returns the engine's arrays (Python name -> ``(run, time, *dims)``) and ``"time"``.
    """
    from sdmodel.experiments.sampling import sample
    from sdmodel.experiments.uncertainty import load_spec
    from sdmodel.io.paths import SCENARIO_DIR

    spec = load_spec(SCENARIO_DIR / "uncertainty.toml")
    params: dict[str, object] = dict(load_scenario(scenario).constants)
    params.update(sample(spec, n, seed=seed).as_params(0, n))
    params.update(dict(overrides))
    out, times = compiled().run_arrays(n, params=params, variables=list(variables))
    return {**out, "time": times}


def constant(da: xr.DataArray) -> float:
    """A constant from a pysd run as a float (pysd saves some constants per time)."""
    return float(da.isel(time=0)) if "time" in da.dims else float(da)


def per_run(values) -> np.ndarray:
    """A constant from :func:`spec_ensemble` as a (run, 1) column (saved per time or not)."""
    values = np.asarray(values)
    return values[:, :1] if values.ndim == 2 else values.reshape(len(values), -1)[:, :1]


@functools.cache
def engine_run(
    scenario: str, overrides: Overrides = (), time_step: float | None = None
) -> xr.Dataset:
    """One engine run of a scenario (plus overrides) as a Dataset like :func:`run`.

    For behaviour tests that need many variants: the engine agrees with pysd to 1e-9
    (``test_engine_model.py``, at the model's TIME STEP and at another) and a run takes
    about a second instead of 35-60 s. ``time_step``: another TIME STEP than the model's.
    The scenario's ``[control]`` period (the history run's 1995-2023) is honoured.
    """
    cm = compiled()
    loaded = load_scenario(scenario)
    params: dict[str, object] = dict(loaded.constants)
    params.update(dict(overrides))
    names = [py for py, el in cm.elements.items() if el["kind"] not in ("lookup", "control")]
    ds = cm.run(1, params=params, variables=names, time_step=time_step, **loaded.control)
    return ds.isel(run=0)
