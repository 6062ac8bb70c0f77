"""Scenario runs as one xarray Dataset.

Dimensions: ``scenario``, ``time`` (model time in years) and the subscript dimensions
(``skill``, via :func:`sdmodel.model.naming.dim_name`). Time-varying variables (stocks, flows,
auxiliaries) keep the ``time`` dimension; constants are stored without it so that each
result records the parameter values used. Variable names are pysd's Python names; each
variable carries ``long_name`` (Vensim name), ``vensim_units``, ``comment`` and ``kind``.

The ``engine`` argument selects the simulator (:data:`ENGINES`): ``"numpy"``, the
vectorized ensemble engine that integrates all scenarios at once (default), or
``"pysd"``, the reference, or ``"jax"``, the ensemble engine with its time loop compiled
by XLA (:mod:`sdmodel.engine.jaxloop`: equal to numpy to rounding, faster for a few runs).
All produce the same variables, dims and attributes.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sdmodel.errors import SdmodelError
from sdmodel.io.paths import MODEL_PATH, SCENARIO_DIR, file_hash
from sdmodel.io.progress import note, timed
from sdmodel.model.info import ModelInfo, load_info
from sdmodel.model.naming import dim_name
from sdmodel.model.scenarios import (
    Scenario,
    Settings,
    available_scenarios,
    load_scenario,
    merge_settings,
    run_control,
    to_pysd_params,
)
from sdmodel.version import __version__

Overrides = Iterable[tuple[str, float]] | Mapping[str, float]


def _column_to_array(column: pd.Series, element, info: ModelInfo) -> xr.DataArray:
    """Stack a pysd output column (floats or DataArrays per time) into one array."""
    first = column.iloc[0]
    if isinstance(first, xr.DataArray) and first.ndim > 0:
        dims = first.dims
        data = np.stack([np.asarray(v.transpose(*dims).values, dtype=float) for v in column])
        coords = {dim_name(d): [str(c) for c in first.coords[d].values] for d in dims}
        return xr.DataArray(data, dims=("time", *(dim_name(d) for d in dims)), coords=coords)
    data = np.asarray([float(np.asarray(v)) for v in column], dtype=float)
    return xr.DataArray(data, dims=("time",))


def annotate(ds: xr.Dataset, info: ModelInfo) -> xr.Dataset:
    """Attach each variable's model metadata (long_name, vensim_units, comment, kind)."""
    by_py = {e.py_name: e for e in info}
    for name, var in ds.data_vars.items():
        element = by_py.get(str(name))
        if element is None:
            continue
        var.attrs.update(
            long_name=element.name,
            vensim_units=element.units,
            comment=element.comment or f"(no comment in the model) {element.equation}".strip(),
            kind=element.kind,
        )
    return ds


def run_pysd(
    model,
    info: ModelInfo,
    settings: Settings,
    *,
    reload: bool = True,
    control: Mapping[str, float] | None = None,
) -> xr.Dataset:
    """One pysd run with ``settings`` applied, as a Dataset (``time`` + subscript dims).

    The model is reloaded first so that earlier runs' parameters do not leak in.
    ``control``: a scenario's ``initial_time`` and ``final_time``
    (:attr:`sdmodel.model.scenarios.Scenario.control`). pysd takes another initial time only
    with a given state; so the translated model's own initial time is replaced before
    the run, and the model initialises every stock at that time as it does at its own.
    """
    if reload:
        model.reload()
    control = dict(control or {})
    if "initial_time" in control:
        if not reload:
            raise SdmodelError("a run with another initial_time needs reload=True")
        start = float(control["initial_time"])
        model.components._control_vars["initial_time"] = lambda: start
    params = to_pysd_params(settings, model, info)
    try:
        frame = model.run(params=params, flatten_output=False, final_time=control.get("final_time"))
    except Exception as exc:
        raise SdmodelError(f"pysd run of {info.model_path} failed: {exc}") from exc
    time = np.asarray(frame.index, dtype=float)
    by_name = {e.name: e for e in info}
    variables: dict[str, xr.DataArray] = {}
    for column in frame.columns:
        element = by_name.get(column)
        if element is None or element.kind in {"lookup", "control"}:
            continue
        array = _column_to_array(frame[column], element, info)
        if element.kind == "constant":
            array = array.isel(time=0, drop=True)
        variables[element.py_name] = array
    ds = xr.Dataset(variables, coords={"time": time})
    ds["time"].attrs.update(long_name="model time", units="year")
    return annotate(ds, info)


#: engine name -> function(model_path, scenarios, overrides) -> Dataset over `scenario`.
ENGINES: dict[str, Callable[..., xr.Dataset]] = {}


def pysd_version() -> str:
    """The installed pysd's version (without importing pysd)."""
    return importlib.metadata.version("pysd")


def _load_and_validate(
    model_path: Path, scenarios: Sequence[Scenario], overrides: Overrides, pysd_model: bool
) -> tuple[object, ModelInfo, list[Settings]]:
    """The pysd model (or ``None``), its metadata and every scenario's validated settings.

    All scenarios are validated before any run starts. Without ``pysd_model`` the metadata
    come from the cache (:func:`sdmodel.model.info.load_info`) and pysd is not loaded.
    """
    if pysd_model:
        from sdmodel.model.translate import load_model

        model = load_model(model_path)
        info = ModelInfo.from_model(model, model_path)
    else:
        model, info = None, load_info(model_path)
    return model, info, [merge_settings(s, overrides, info) for s in scenarios]


def _engine_pysd(
    model_path: Path, scenarios: Sequence[Scenario], overrides: Overrides
) -> xr.Dataset:
    model, info, settings = _load_and_validate(model_path, scenarios, overrides, True)
    control = run_control(scenarios)
    runs = []
    with timed("integrate"):
        for k, (scenario, one) in enumerate(zip(scenarios, settings, strict=True), start=1):
            note(f"pysd run {k} of {len(settings)} ({scenario.name}; about a minute each)")
            runs.append(run_pysd(model, info, one, control=control))
    ds = xr.concat(runs, dim="scenario", data_vars="all", coords="minimal", join="exact")
    for name in runs[0].data_vars:  # concat drops nothing, but keep attrs explicit
        ds[name].attrs = dict(runs[0][name].attrs)
    ds.attrs["pysd_version"] = pysd_version()
    return ds


ENGINES["pysd"] = _engine_pysd


def engine_params(settings: Sequence[Settings], cm, info: ModelInfo) -> dict[str, np.ndarray]:
    """Per-scenario settings as ensemble-engine parameters with a leading run axis.

    Every constant set in any scenario becomes one array of shape ``(S, *dims)``,
    starting from the model's default and replaced where a scenario sets it.
    """
    keys = dict.fromkeys(key for one in settings for key in one)
    params: dict[str, np.ndarray] = {}
    for key in keys:
        element = info.elements[key]
        default = np.asarray(cm.constants[cm.elements[element.py_name]["name"]], dtype=float)
        array = np.broadcast_to(default, (len(settings), *default.shape)).copy()
        dims = cm.elements[element.py_name]["dims"]
        for i, one in enumerate(settings):
            value = one.get(key)
            if value is None:
                continue
            if not isinstance(value, dict):
                array[i] = value
                continue
            for labels, number in value.items():
                index = tuple(
                    cm.program.dims[d].index(label)
                    for d, label in zip(dims, labels.split(","), strict=True)
                )
                array[(i, *index)] = number
        params[element.py_name] = array
    return params


def _engine_compiled(
    model_path: Path, scenarios: Sequence[Scenario], overrides: Overrides, backend: str = "numpy"
) -> xr.Dataset:
    from sdmodel.engine import compile_model  # heavy import only when used

    _, info, settings = _load_and_validate(model_path, scenarios, overrides, False)
    cm = compile_model(model_path)
    keep = [e.py_name for e in info if e.kind not in {"lookup", "control"}]
    control = run_control(scenarios)
    try:
        with timed("integrate"):
            ds = cm.run(
                n_runs=len(settings),
                params=engine_params(settings, cm, info),
                variables=keep,
                backend=backend,
                **control,
            )
    except Exception as exc:
        raise SdmodelError(f"engine run of {model_path} failed: {exc}") from exc
    ds = ds.rename(run="scenario").drop_vars("scenario")
    for element in info.by_kind("constant"):
        ds[element.py_name] = ds[element.py_name].isel(time=0, drop=True)
    ds["time"].attrs.update(long_name="model time", units="year")
    for var in ds.data_vars.values():
        var.attrs = {}
    ds.attrs["pysd_version"] = pysd_version()  # pysd parsed the model
    return annotate(ds, info)


ENGINES["numpy"] = _engine_compiled
ENGINES["jax"] = functools.partial(_engine_compiled, backend="jax")


def scenario_record(scenarios: Sequence[Scenario], overrides: Overrides) -> str:
    """JSON text of the scenario definitions and overrides applied (for provenance)."""
    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    record = {
        "scenarios": [
            {
                "name": s.name,
                "file": s.path.name if s.path else None,
                "description": s.description,
                "sources": list(s.sources),
                "constants": s.constants,
                **({"control": s.control} if s.control else {}),
            }
            for s in scenarios
        ],
        "overrides": {k: v for k, v in items},
    }
    return json.dumps(record, ensure_ascii=False, sort_keys=False)


def run_scenarios(
    scenario_names: Sequence[str | os.PathLike] | None = None,
    overrides: Overrides | None = None,
    model_path: str | os.PathLike = MODEL_PATH,
    *,
    engine: str = "numpy",
    scenario_dir: str | os.PathLike = SCENARIO_DIR,
) -> xr.Dataset:
    """Run scenarios and collect them into one Dataset.

    Parameters
    ----------
    scenario_names
        Scenario names or ``.toml`` paths; default: every scenario in ``scenario_dir``
        (standard ones first, see :data:`sdmodel.model.scenarios.PREFERRED_ORDER`).
    overrides
        ``(Vensim name, value)`` pairs or mapping applied on top of every scenario.
    model_path
        The Vensim model file.
    engine
        Simulator: ``"numpy"`` (the vectorized ensemble engine, all scenarios in one
        integration), ``"jax"`` (the same engine, its time loop compiled by XLA) or
        ``"pysd"`` (the reference). All give the same contents (to rounding).
    scenario_dir
        Where named scenarios are looked up.

    Returns
    -------
    xr.Dataset
        Dims ``scenario``, ``time`` and subscript dims; constants without ``time``.
        Attributes record the model file, its SHA-256, the engine and the scenarios.

    Raises
    ------
    SdmodelError
        Unknown engine, scenario or variable, invalid value, or a failing run.
    """
    if engine not in ENGINES:
        raise SdmodelError(f"unknown engine {engine!r} (available: {', '.join(ENGINES)})")
    model_path = Path(model_path)
    if not model_path.is_file():
        raise SdmodelError(f"model file not found: {model_path}")
    names = list(scenario_names) if scenario_names else available_scenarios(scenario_dir)
    if not names:
        raise SdmodelError(f"no scenarios given and none found in {scenario_dir}")
    scenarios = [load_scenario(n, directory=scenario_dir) for n in names]
    labels = [s.name for s in scenarios]
    if len(set(labels)) != len(labels):
        raise SdmodelError(f"scenario names repeat: {', '.join(labels)}")
    run_control(scenarios)  # one time axis: fail before any model is loaded
    overrides = list(overrides.items() if isinstance(overrides, Mapping) else overrides or [])
    ds = ENGINES[engine](model_path, scenarios, overrides)
    ds = ds.assign_coords(scenario=labels)
    ds["scenario"].attrs["long_name"] = "scenario"
    ds.attrs.update(
        model_file=model_path.name,
        model_sha256=file_hash(model_path),
        sdmodel_version=__version__,
        engine=engine,
        scenarios=scenario_record(scenarios, overrides),
    )
    return ds
