"""Reference pysd runs of the project model, shared by the model-behaviour tests.

A pysd run of the full model takes about 15 s, so each distinct run is made once per
test session (``functools.cache``) and shared between test modules.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sdmodel.modelinfo import ModelInfo
from sdmodel.paths import PROJECT_ROOT
from sdmodel.runner import run_pysd
from sdmodel.scenarios import load_scenario, merge_settings, to_pysd_params
from sdmodel.translate import load_model

SCENARIOS = ("no_further_ai", "conservative", "central", "explosive")
SHARED = PROJECT_ROOT.parent / "shared"

Overrides = tuple[tuple[str, float], ...]


@functools.cache
def _model():
    model = load_model()
    return model, ModelInfo.from_model(model)


def info() -> ModelInfo:
    """Metadata of the project model."""
    return _model()[1]


def model_time_step() -> float:
    """The model's own TIME STEP."""
    return float(_model()[0].components.time_step())


@functools.cache
def run(scenario: str, overrides: Overrides = ()) -> xr.Dataset:
    """Full pysd run of a scenario (plus ``--set``-style overrides) as a Dataset."""
    model, meta = _model()
    return run_pysd(model, meta, merge_settings(load_scenario(scenario), overrides, meta))


@functools.cache
def run_frame(
    scenario: str, columns: tuple[str, ...], time_step: float, overrides: Overrides = ()
) -> pd.DataFrame:
    """pysd run with another TIME STEP; flat frame of ``columns`` at SAVEPER."""
    model, meta = _model()
    model.reload()
    params = to_pysd_params(merge_settings(load_scenario(scenario), overrides, meta), model, meta)
    return model.run(params=params, time_step=time_step, return_columns=list(columns))


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
    from sdmodel.paths import MODEL_PATH

    return compile_model(MODEL_PATH)


@functools.cache
def spec_ensemble(
    scenario: str, n: int, seed: int, variables: tuple[str, ...], overrides: Overrides = ()
) -> dict[str, object]:
    """``n`` engine runs of a scenario with the default uncertainty specification.

    Returns the engine's arrays (Python name -> ``(run, time, *dims)``) and ``"time"``.
    """
    from sdmodel.paths import SCENARIO_DIR
    from sdmodel.sampling import sample
    from sdmodel.uncertainty import load_spec

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
def engine_run(scenario: str, overrides: Overrides = ()) -> xr.Dataset:
    """One engine run of a scenario (plus overrides) as a Dataset like :func:`run`.

    For behaviour tests that need many variants: the engine agrees with pysd to 1e-9
    (``test_engine_model.py``) and a run takes about a second instead of 15-30 s.
    """
    cm = compiled()
    params: dict[str, object] = dict(load_scenario(scenario).constants)
    params.update(dict(overrides))
    names = [py for py, el in cm.elements.items() if el["kind"] not in ("lookup", "control")]
    return cm.run(1, params=params, variables=names).isel(run=0)
