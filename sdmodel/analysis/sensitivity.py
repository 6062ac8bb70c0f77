"""Global sensitivity indices of ensemble outcomes, computed with SALib.

:func:`sobol` takes an ensemble made with ``sdmodel sweep --sampler saltelli`` and gives,
per scenario and outcome, the first-order (``S1``) and total (``ST``) Sobol indices of every
sampled parameter, and the second-order ones (``S2``) when the design has them, each with
the half-width of its bootstrap confidence interval (``*_conf``: ``conf_level``, default
95%, over ``num_resamples`` resamples of the base runs, seeded). :func:`morris` takes a
``--sampler morris`` ensemble and gives ``mu``, ``mu_star`` (with its bootstrap interval)
and ``sigma`` of the elementary effects, computed on the unit-cube design (see
:mod:`sdmodel.experiments.designs`). Both need nothing but the file: the design's
structure is in its attributes and its ``design_unit`` variable.

An outcome with the same value in every run has no variance to apportion: its indices are
NaN (and said so in the ``comment`` attribute), not an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from sdmodel.analysis.outcomes import Inputs, Outcome, evaluate_all, read_inputs
from sdmodel.errors import SdmodelError
from sdmodel.experiments.designs import problem

#: Default bootstrap settings.
CONF_LEVEL = 0.95
NUM_RESAMPLES = 1000
DEFAULT_SEED = 20241125


def _require(inputs: Inputs, sampler: str, path: str) -> None:
    if inputs.sampler != sampler or inputs.unit is None:
        got = inputs.sampler or "no sampler attribute"
        raise SdmodelError(
            f"{path}: not made by 'sdmodel sweep --sampler {sampler}' ({got}); "
            f"{'Sobol' if sampler == 'saltelli' else 'Morris'} indices need that design"
        )


def _check(conf_level: float, num_resamples: int) -> None:
    if not 0 < conf_level < 1:
        raise SdmodelError(f"--conf-level {conf_level:g} is not in (0, 1)")
    if num_resamples < 2:
        raise SdmodelError(f"--resamples {num_resamples} is below 2")


def _dataset(
    fields: dict[str, np.ndarray],
    scenarios: Sequence[str],
    outcomes: Sequence[str],
    inputs: Inputs,
    attrs: dict,
) -> xr.Dataset:
    coords = {
        "scenario": ("scenario", list(scenarios), {"long_name": "scenario"}),
        "outcome": ("outcome", list(outcomes), {"long_name": "outcome expression"}),
        "parameter": ("parameter", list(inputs.names), {"long_name": "sampled parameter"}),
    }
    data = {}
    for name, (values, dims, long_name) in fields.items():
        data[name] = (dims, values, {"long_name": long_name, "units": "1"})
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    if "parameter2" in ds.dims:
        ds = ds.assign_coords(
            parameter2=("parameter2", list(inputs.names), {"long_name": "second parameter"})
        )
    return ds


def sobol(
    ds: xr.Dataset,
    outcomes: Sequence[Outcome],
    *,
    conf_level: float = CONF_LEVEL,
    num_resamples: int = NUM_RESAMPLES,
    seed: int = DEFAULT_SEED,
    second_order: bool | None = None,
    path: str = "ensemble",
) -> xr.Dataset:
    """Sobol indices of ``outcomes`` per scenario (see the module docstring).

    Parameters
    ----------
    ds
        An ensemble file made with ``--sampler saltelli`` (opened with ``open_netcdf``).
    outcomes
        Parsed outcome expressions.
    conf_level, num_resamples, seed
        Bootstrap of the confidence intervals (SALib's ``analyze``; the seed makes them
        reproducible).
    second_order
        Second-order indices (default: when the design has their runs; asking for them
        without those runs is an error).
    path
        The file's name, for messages.

    Returns
    -------
    xarray.Dataset
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` with dims ``(scenario, outcome,
        parameter)``; with second order also ``S2``, ``S2_conf`` over ``parameter2``.
    """
    from SALib.analyze import sobol as analyze

    _check(conf_level, num_resamples)
    inputs = read_inputs(ds)
    _require(inputs, "saltelli", path)
    has_s2 = bool(int(inputs.attrs.get("second_order", 0)))
    if second_order and not has_s2:
        raise SdmodelError(
            f"{path}: second-order indices need a sweep with --second-order (this one has "
            "only the first-order and total runs)"
        )
    s2 = has_s2 if second_order is None else second_order
    k = len(inputs.names)
    base = int(inputs.attrs["saltelli_base_runs"])
    if ds.sizes["run"] != base * (2 * k + 2 if has_s2 else k + 2):
        raise SdmodelError(f"{path}: {ds.sizes['run']} runs do not make a Saltelli design")
    values = evaluate_all(ds, outcomes)
    scen = [str(s) for s in ds["scenario"].values]
    shape = (len(scen), len(outcomes), k)
    out = {n: np.full(shape, np.nan) for n in ("S1", "S1_conf", "ST", "ST_conf")}
    if s2:
        out |= {n: np.full((*shape, k), np.nan) for n in ("S2", "S2_conf")}
    prob = problem(inputs.names)
    constant = []
    for j, o in enumerate(outcomes):
        for i in range(len(scen)):
            y = values[o.text][i]
            if has_s2 and not s2:  # drop the second-order rows (B_ij blocks are kept apart)
                y = _first_order_rows(y, base, k)
            if np.ptp(y) == 0:
                constant.append(f"{scen[i]}:{o.text}")
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                res = analyze.analyze(
                    prob,
                    y,
                    calc_second_order=s2,
                    num_resamples=num_resamples,
                    conf_level=conf_level,
                    seed=seed,
                )
            for name in out:
                out[name][i, j] = res[name]
    long = {
        "S1": "first-order Sobol index",
        "S1_conf": f"half-width of the {conf_level:.0%} bootstrap interval of S1",
        "ST": "total Sobol index",
        "ST_conf": f"half-width of the {conf_level:.0%} bootstrap interval of ST",
        "S2": "second-order Sobol index",
        "S2_conf": f"half-width of the {conf_level:.0%} bootstrap interval of S2",
    }
    fields = {
        n: (v, ("scenario", "outcome", "parameter", "parameter2")[: v.ndim], long[n])
        for n, v in out.items()
    }
    attrs = _attrs(ds, "sobol", conf_level, num_resamples, seed, constant)
    attrs["saltelli_base_runs"] = base
    attrs["second_order"] = int(s2)
    return _dataset(fields, scen, [o.text for o in outcomes], inputs, attrs)


def _first_order_rows(y: np.ndarray, base: int, k: int) -> np.ndarray:
    """Rows A, AB_1..AB_k, B of a second-order Saltelli design (SALib's row order)."""
    blocks = y.reshape(base, 2 * k + 2)
    return np.concatenate([blocks[:, : k + 1], blocks[:, -1:]], axis=1).ravel()


def _attrs(
    ds: xr.Dataset, method: str, conf: float, resamples: int, seed: int, constant: list
) -> dict:
    attrs = {
        "title": f"{method.capitalize()} sensitivity indices of {ds.attrs.get('model_file', '')}",
        "method": method,
        "conf_level": conf,
        "num_resamples": resamples,
        "bootstrap_seed": seed,
        "ensemble_seed": ds.attrs.get("seed", ""),
        "software": "SALib",
    }
    if constant:
        attrs["comment"] = "indices NaN where the outcome is the same in every run: " + ", ".join(
            constant
        )
    return attrs


def morris(
    ds: xr.Dataset,
    outcomes: Sequence[Outcome],
    *,
    conf_level: float = CONF_LEVEL,
    num_resamples: int = NUM_RESAMPLES,
    seed: int = DEFAULT_SEED,
    path: str = "ensemble",
) -> xr.Dataset:
    """Morris screening measures of ``outcomes`` per scenario.

    Returns
    -------
    xarray.Dataset
        ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma`` with dims ``(scenario, outcome,
        parameter)``, on the unit-cube scale (output change per step of the grid).
    """
    from SALib.analyze import morris as analyze

    _check(conf_level, num_resamples)
    inputs = read_inputs(ds)
    _require(inputs, "morris", path)
    levels = int(inputs.attrs["morris_levels"])
    values = evaluate_all(ds, outcomes)
    scen = [str(s) for s in ds["scenario"].values]
    k = len(inputs.names)
    shape = (len(scen), len(outcomes), k)
    names = ("mu", "mu_star", "mu_star_conf", "sigma")
    out = {n: np.full(shape, np.nan) for n in names}
    prob = problem(inputs.names)
    constant = []
    for j, o in enumerate(outcomes):
        for i in range(len(scen)):
            y = values[o.text][i]
            if np.ptp(y) == 0:
                constant.append(f"{scen[i]}:{o.text}")
                continue
            res = analyze.analyze(
                prob,
                inputs.unit,
                y,
                num_resamples=num_resamples,
                conf_level=conf_level,
                num_levels=levels,
                seed=seed,
            )
            for name in names:
                out[name][i, j] = np.asarray(res[name], dtype=float)
    long = {
        "mu": "mean elementary effect (per grid step on the unit cube)",
        "mu_star": "mean absolute elementary effect",
        "mu_star_conf": f"half-width of the {conf_level:.0%} bootstrap interval of mu_star",
        "sigma": "standard deviation of the elementary effects",
    }
    fields = {n: (v, ("scenario", "outcome", "parameter"), long[n]) for n, v in out.items()}
    attrs = _attrs(ds, "morris", conf_level, num_resamples, seed, constant)
    attrs["morris_levels"] = levels
    attrs["morris_trajectories"] = int(inputs.attrs["morris_trajectories"])
    return _dataset(fields, scen, [o.text for o in outcomes], inputs, attrs)
