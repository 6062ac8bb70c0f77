"""Summary of an ensemble over runs: percentiles and mean, per scenario.

Two ways to the same numbers. :func:`summarize` reads an ensemble file
(:class:`sdmodel.io.ensemble.EnsembleWriter`) back one variable and scenario at a time.
During a sweep, :class:`StreamingSummary` keeps each scenario's runs in memory as the
chunks stream by and computes that scenario's statistics in a background thread as soon
as its last chunk has arrived, so the file need not be decompressed again; variables that
do not fit in its memory budget are left to the read-back. Both paths convert the stored
values to float64 and call :func:`run_stats` on the same ``(runs, *dims, time)`` block, so
they give bit-identical summaries.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import xarray as xr

from sdmodel.io.netcdf import decode_labels, write_netcdf

#: Percentiles over runs in the summary file.
PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)
#: Default memory of the streaming summary: bytes of one scenario's float64 runs. Up to
#: two scenarios are held at once (one filling, one being summarized), three on Dask.
MEMORY_BUDGET = 512 * 2**20

#: ``variable -> (percentiles (scenario, percentile, *dims, time), mean (scenario, ...))``
Stats = dict[str, tuple[np.ndarray, np.ndarray]]


def run_stats(block: np.ndarray, percentiles: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Percentiles (numpy's linear interpolation) and mean over axis 0 (runs).

    Parameters
    ----------
    block
        One scenario's ``(runs, *dims, time)`` values, float64, C-contiguous.
    percentiles
        Percentiles in [0, 100].

    Returns
    -------
    tuple of numpy.ndarray
        ``(percentile, *dims, time)`` and ``(*dims, time)``.
    """
    return np.percentile(block, np.asarray(percentiles, dtype=float), axis=0), block.mean(axis=0)


class StreamingSummary:
    """Per-scenario statistics of an ensemble, computed as its chunks stream by.

    Chunks may come in any order (Dask yields them as they complete). A scenario's
    buffers are freed once its statistics are computed.

    Parameters
    ----------
    shapes
        ``variable -> (*dims, time)`` shape of one run, in file order.
    n_scenarios, n_runs
        Ensemble size.
    percentiles
        Percentiles in [0, 100].
    budget
        Bytes of one scenario's float64 buffers: variables are kept, in order, while
        they fit; the others (:attr:`names` lacks them) must be read back from the file.
    """

    def __init__(
        self,
        shapes: Mapping[str, tuple[int, ...]],
        n_scenarios: int,
        n_runs: int,
        *,
        percentiles: Sequence[float] = PERCENTILES,
        budget: int = MEMORY_BUDGET,
    ) -> None:
        self.n_scenarios, self.n_runs = int(n_scenarios), int(n_runs)
        self.percentiles = tuple(float(p) for p in percentiles)
        self.shapes: dict[str, tuple[int, ...]] = {}
        used = 0
        for name, shape in shapes.items():
            size = self.n_runs * math.prod(shape) * 8
            if used + size > budget:
                break
            self.shapes[name] = tuple(shape)
            used += size
        self._buffers: dict[int, dict[str, np.ndarray]] = {}
        self._filled = [0] * self.n_scenarios
        self._futures: dict[int, Future] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sdmodel-summary")

    @property
    def names(self) -> list[str]:
        """Variables summarized in memory."""
        return list(self.shapes)

    def add(self, scenario: int, start: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Take runs ``start:start+m`` of scenario index ``scenario`` (``(m, *dims, time)``)."""
        if not self.shapes:
            return
        buffers = self._buffers.get(scenario)
        if buffers is None:
            buffers = self._buffers[scenario] = {
                name: np.empty((self.n_runs, *shape)) for name, shape in self.shapes.items()
            }
        m = 0
        for name, buf in buffers.items():
            block = arrays[name]
            m = block.shape[0]
            buf[start : start + m] = block
        self._filled[scenario] += m
        if self._filled[scenario] == self.n_runs:
            del self._buffers[scenario]
            self._futures[scenario] = self._pool.submit(self._stats, buffers)

    def _stats(self, buffers: dict[str, np.ndarray]) -> Stats:
        out = {}
        for name in list(buffers):
            out[name] = run_stats(buffers.pop(name), self.percentiles)  # free as we go
        return out

    def result(self) -> Stats:
        """Wait for every scenario's statistics; stacked per variable.

        Raises
        ------
        RuntimeError
            A scenario did not receive all its runs.
        """
        if not self.shapes:
            return {}
        missing = [s for s in range(self.n_scenarios) if s not in self._futures]
        if missing:
            raise RuntimeError(f"scenarios {missing} did not receive all runs")
        per_scenario = [self._futures[s].result() for s in range(self.n_scenarios)]
        return {
            name: (
                np.stack([p[name][0] for p in per_scenario]),
                np.stack([p[name][1] for p in per_scenario]),
            )
            for name in self.shapes
        }

    def close(self) -> None:
        """Drop buffers and pending work (idempotent)."""
        self._buffers.clear()
        for fut in self._futures.values():
            fut.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)


# ----------------------------------------------------------------------------- summary file
def _summary_attrs(attrs: Mapping[str, Any], what: str) -> dict[str, Any]:
    out = {k: v for k, v in attrs.items() if k not in {"_FillValue", "coordinates"}}
    out["long_name"] = f"{attrs.get('long_name', '')}, {what} over Monte Carlo runs"
    return out


def _percentile_attrs() -> dict[str, str]:
    return {"long_name": "percentile over Monte Carlo runs", "units": "percent"}


def summary_dataset(
    ensemble_path: str | os.PathLike,
    *,
    command: str | None = None,
    percentiles: Sequence[float] = PERCENTILES,
    ensemble_name: str | None = None,
    stats: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> xr.Dataset:
    """The summary of an ensemble file as a Dataset (see :func:`summarize`)."""
    q = np.asarray(percentiles, dtype=float)
    stats = stats or {}
    with netCDF4.Dataset(ensemble_path, "r") as nc:
        nc.set_auto_mask(False)
        global_attrs = {k: nc.getncattr(k) for k in nc.ncattrs()}
        n_scen = len(nc.dimensions["scenario"])
        coords: dict[str, Any] = {"percentile": ("percentile", q, _percentile_attrs())}
        for name in ("scenario", *(d for d in nc.dimensions if d not in ("scenario", "run"))):
            if name in nc.variables:
                var = nc[name]
                attrs = {k: var.getncattr(k) for k in var.ncattrs()}
                coords[name] = (var.dimensions, np.asarray(var[:]), attrs)
        for name, var in nc.variables.items():
            if name not in coords and var.dimensions and "run" not in var.dimensions:
                attrs = {k: var.getncattr(k) for k in var.ncattrs()}
                coords[name] = (var.dimensions, np.asarray(var[:]), attrs)
        data_vars: dict[str, Any] = {}
        for name, var in nc.variables.items():
            if var.dimensions[:3] != ("time", "scenario", "run"):
                continue
            attrs = {k: var.getncattr(k) for k in var.ncattrs()}
            inner = var.dimensions[3:]
            if name in stats:
                pct, mean = stats[name]
            else:
                var.set_var_chunk_cache(size=1 << 20)  # each chunk is read once; cache none
                shape = (*var.shape[3:], var.shape[0])  # one run: (*subscripts, time)
                pct = np.empty((n_scen, q.size, *shape))
                mean = np.empty((n_scen, *shape))
                for s in range(n_scen):
                    # (time, runs, *subscripts) on file -> (runs, *subscripts, time), as the
                    # streaming summary sees the blocks, so both give the same bits
                    block = np.moveaxis(np.asarray(var[:, s], dtype=np.float64), 0, -1)
                    pct[s], mean[s] = run_stats(np.ascontiguousarray(block), q)
            data_vars[name] = (
                ("scenario", "percentile", *inner, "time"),
                pct,
                _summary_attrs(attrs, "percentiles"),
            )
            data_vars[f"{name}_mean"] = (
                ("scenario", *inner, "time"),
                mean,
                _summary_attrs(attrs, "mean"),
            )
    ds = xr.Dataset(
        {k: xr.Variable(d, v, a) for k, (d, v, a) in data_vars.items()},
        coords={k: xr.Variable(d, v, a) for k, (d, v, a) in coords.items()},
    )
    for name in ds.coords:
        if ds[name].dtype.kind in "OSU":
            ds[name] = ds[name].astype(str)
    ds = decode_labels(ds).transpose("time", ...)
    history = global_attrs.get("history", "")
    ds.attrs = {
        **global_attrs,
        "title": f"{global_attrs.get('title', 'sdmodel ensemble')}: summary over runs",
        "history": f"{history}\n{command}" if command else history,
        "summary_of": ensemble_name or Path(ensemble_path).name,
        "summary_statistics": "percentiles "
        + "/".join(f"{p:g}" for p in q)
        + " (numpy linear interpolation) and mean over runs, per scenario",
    }
    return ds


def summarize(
    ensemble_path: str | os.PathLike,
    summary_path: str | os.PathLike,
    *,
    command: str | None = None,
    percentiles: Sequence[float] = PERCENTILES,
    ensemble_name: str | None = None,
    stats: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> Path:
    """Percentiles and mean over runs of every model variable of an ensemble file.

        Reads one variable and one scenario at a time (memory: one ``(runs, *dims, time)``
        block), computes the percentiles (numpy's linear interpolation) and the mean in
        float64 and writes ``summary_path`` (CF-1.10, atomically) with, per variable
        ``X``, ``X(time, scenario, percentile, *dims)`` and ``X_mean(time, scenario, *dims)``
    (time first, like every file; see :mod:`sdmodel.io.netcdf`).

        Parameters
        ----------
        ensemble_path
            A file written by :class:`sdmodel.io.ensemble.EnsembleWriter`.
        summary_path
            Output file.
        command
            Recorded in ``history``.
        percentiles
            Percentiles in [0, 100].
        ensemble_name
            Name of the ensemble file recorded in ``summary_of`` (default: its file name;
            give the final name when summarizing a temporary file).
        stats
            Statistics already computed (:meth:`StreamingSummary.result`, with the same
            ``percentiles``): those variables are not read back.

        Returns
        -------
        Path
            ``summary_path``.
    """
    ds = summary_dataset(
        ensemble_path,
        command=command,
        percentiles=percentiles,
        ensemble_name=ensemble_name,
        stats=stats,
    )
    return write_netcdf(ds, summary_path)
