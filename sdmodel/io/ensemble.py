"""Streaming CF-1.10 NetCDF writer for Monte Carlo ensembles, and their summary.

An ensemble file has dimensions ``time``, ``scenario``, ``run`` and the subscript
dimensions (``skill``); every saved model variable is stored as
``(time, scenario, run, *subscripts)`` (time first, as in :mod:`sdmodel.io.netcdf`, so CDO
reads it), and every sampled parameter as ``param_<name>(run)``. ``scenario`` and the
string-labelled subscripts are integer indices with ``<dim>_label`` coordinates
(:func:`sdmodel.io.netcdf.encode_labels`). Chunks of runs are written as they are
computed, so memory stays bounded however many runs there are. The file is written under a
temporary name in the target directory and renamed into place only when complete; any
error or interrupt removes the temporary file.

The conventions (CF time in ``days since`` on the ``365_day`` calendar, ``decimal_year``,
labels, ``units``/``long_name`` everywhere, global provenance) are those of
:func:`sdmodel.io.netcdf.to_cf`: the writer takes a one-run template Dataset that went
through ``to_cf`` and copies its attributes.

:func:`summarize` (from :mod:`sdmodel.experiments.summary`, re-exported here) writes the
5/25/50/75/95th percentiles and the mean over runs of an ensemble file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import netCDF4
import numpy as np
import xarray as xr

from sdmodel.experiments.summary import PERCENTILES, summarize
from sdmodel.io.atomic import finish, temp_beside, write_error
from sdmodel.io.netcdf import encode_labels

__all__ = ["COMPLEVEL", "PERCENTILES", "RUN_CHUNK", "EnsembleWriter", "param_var_name", "summarize"]

#: Runs per NetCDF chunk (independent of the computation chunk size, so that the file
#: layout, and so its bytes, do not depend on ``--chunk``).
RUN_CHUNK = 1000
#: zlib level: 1 compresses shuffled model output almost as well as 4 and much faster.
COMPLEVEL = 1


def param_var_name(name: str) -> str:
    """NetCDF variable name of a sampled parameter.

    ``"Automation midpoint OOM[high]"`` -> ``"param_automation_midpoint_oom_high"``.
    """
    return "param_" + re.sub(r"\W+", "_", name).strip("_").lower()


def _attr_value(value: Any) -> Any:
    """An attribute value netCDF4 accepts (lists become arrays, bools ints)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | tuple):
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return np.asarray(value, dtype=float)
        return json.dumps(list(value))
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def _set_attrs(var: Any, attrs: Mapping[str, Any]) -> None:
    for key, value in attrs.items():
        if value is None or key == "_FillValue":
            continue
        var.setncattr(key, _attr_value(value))


class EnsembleWriter:
    """Write an ensemble NetCDF file chunk by chunk, atomically.

    Use as a context manager: the file appears under ``path`` only after
    :meth:`commit`; leaving the block without committing (error, ``KeyboardInterrupt``)
    removes the temporary file.

    Parameters
    ----------
    path : path-like
        Final file name.
    template : xarray.Dataset
        CF Dataset (from :func:`sdmodel.io.netcdf.to_cf`) without ``scenario``/``run``
        dimensions: its data variables, coordinates and global attributes define the
        file's variables, CF time axis and attributes.
    scenarios : sequence of str
        Scenario labels.
    n_runs : int
        Number of runs per scenario.
    params : mapping
        ``variable name -> (values (n_runs,), attributes)`` of the sampled parameters.
    dtype : numpy dtype
        Storage type of the model variables (float64 or float32).
    design : (numpy.ndarray, list of str), optional
        A structured sampler's unit-cube design ``(n_runs, k)`` and the names of the
        parameter variables of its columns: stored as ``design_unit(run, parameter)``
        with the names in ``parameter_label`` (:mod:`sdmodel.experiments.designs`).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        template: xr.Dataset,
        scenarios: Sequence[str],
        n_runs: int,
        params: Mapping[str, tuple[np.ndarray, Mapping[str, Any]]],
        dtype: Any = np.float64,
        design: tuple[np.ndarray, Sequence[str]] | None = None,
    ) -> None:
        self.path = Path(path)
        self.template = template
        self.scenarios = list(scenarios)
        self.n_runs = int(n_runs)
        self.dtype = np.dtype(dtype)
        self.variables = [str(v) for v in template.data_vars]
        self.tmp = temp_beside(self.path)
        self._nc: netCDF4.Dataset | None = None
        self._committed = False
        self.run_chunk = max(1, min(self.n_runs, RUN_CHUNK))
        # runs of file chunks not yet complete: (scenario, chunk index) -> (runs, arrays)
        self._staged: dict[tuple[int, int], tuple[int, dict[str, np.ndarray]]] = {}
        try:
            self._nc = netCDF4.Dataset(self.tmp, "w", format="NETCDF4")
            self._create(params)
            if design is not None:
                self._create_design(*design)
        except (OSError, RuntimeError) as exc:  # netCDF4: "NetCDF: HDF error" on a full disk
            self.abort()
            raise write_error(self.path, exc) from exc
        except BaseException:
            self.abort()
            raise

    # -- file layout ---------------------------------------------------------------------
    def _create(self, params: Mapping[str, tuple[np.ndarray, Mapping[str, Any]]]) -> None:
        nc = self._nc
        assert nc is not None
        scenario = xr.DataArray(self.scenarios, dims="scenario", attrs={"long_name": "scenario"})
        tmpl = encode_labels(self.template.assign_coords(scenario=scenario))
        _set_attrs(nc, tmpl.attrs)
        nc.createDimension("time", tmpl.sizes["time"])
        nc.createDimension("scenario", len(self.scenarios))
        nc.createDimension("run", self.n_runs)
        for dim in tmpl.dims:
            if dim not in nc.dimensions:
                nc.createDimension(str(dim), tmpl.sizes[dim])
        run = nc.createVariable("run", "i4", ("run",))
        run[:] = np.arange(self.n_runs, dtype="i4")
        _set_attrs(
            run,
            {
                "long_name": "Monte Carlo run (row of the sampling design, same in every scenario)",
                "units": "1",
            },
        )
        for name, coord in tmpl.coords.items():
            if coord.dtype.kind in "USO":
                var = nc.createVariable(str(name), str, coord.dims)
                var[:] = np.asarray(coord.values, dtype=object)
            else:
                var = nc.createVariable(str(name), coord.dtype, coord.dims)
                var[:] = coord.values
            _set_attrs(var, coord.attrs)
        run_chunk = self.run_chunk
        aux = [str(c) for c in tmpl.coords if c not in tmpl.dims]
        for name in self.variables:
            tv = self.template[name]
            if tv.dims[:1] != ("time",):
                raise ValueError(f"template variable {name!r} is not time first: {tv.dims}")
            dims = ("time", "scenario", "run", *(str(d) for d in tv.dims[1:]))
            var = nc.createVariable(
                name,
                self.dtype,
                dims,
                zlib=True,
                complevel=COMPLEVEL,
                shuffle=True,
                chunksizes=(tv.shape[0], 1, run_chunk, *tv.shape[1:]),
                fill_value=self.dtype.type(np.nan),
            )
            # no chunk cache (1 byte: smaller than a chunk): :meth:`write` passes whole
            # chunks only, and HDF5 compresses and writes each at once. A cache would hold
            # dirty chunks back until close (the default, 64 MiB per variable, ~2 GB),
            # where compressing them would wait for nothing else to overlap with.
            var.set_var_chunk_cache(size=1, nelems=1)
            _set_attrs(var, tv.attrs)
            used = [c for c in aux if set(tmpl[c].dims) <= set(dims)]
            if used:
                var.setncattr("coordinates", " ".join(used))
        for name, (values, attrs) in params.items():
            var = nc.createVariable(name, "f8", ("run",), zlib=True, complevel=COMPLEVEL)
            _set_attrs(var, attrs)
            var[:] = np.asarray(values, dtype="f8")

    def _create_design(self, unit: np.ndarray, names: Sequence[str]) -> None:
        nc = self._nc
        assert nc is not None
        nc.createDimension("parameter", len(names))
        index = nc.createVariable("parameter", "i4", ("parameter",))
        index[:] = np.arange(len(names), dtype="i4")
        _set_attrs(
            index,
            {
                "long_name": "parameter index (0-based; the names are in parameter_label)",
                "units": "1",
            },
        )
        label = nc.createVariable("parameter_label", str, ("parameter",))
        label[:] = np.asarray(list(names), dtype=object)
        _set_attrs(label, {"long_name": "NetCDF variable of the sampled parameter"})
        var = nc.createVariable("design_unit", "f8", ("run", "parameter"), zlib=True)
        _set_attrs(
            var,
            {
                "long_name": "sampling design on the unit cube (before the inverse CDFs)",
                "units": "1",
                "coordinates": "parameter_label",
            },
        )
        var[:] = np.asarray(unit, dtype="f8")

    # -- writing ----------------------------------------------------------------------------
    def write(self, scenario: int, start: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Write runs ``start:start+m`` of scenario index ``scenario``.

        ``arrays[name]`` has shape ``(m, *subscripts, time)``: ``m`` runs of the template
        variable with time last, as the engine computes them (the file stores them time
        first). Blocks may come in any order. Runs that fill a file chunk
        (:data:`RUN_CHUNK` runs) are written at once; the others are copied and kept
        until the rest of their chunk arrives, so every chunk is compressed once.
        """
        assert self._nc is not None, "writer is closed"
        rc = self.run_chunk
        stop = start + next(iter(arrays.values())).shape[0]
        for k in range(start // rc, (stop - 1) // rc + 1):
            lo, hi = k * rc, min((k + 1) * rc, self.n_runs)
            a, b = max(start, lo), min(stop, hi)
            if (a, b) == (lo, hi):
                self._write_chunk(
                    scenario, lo, {n: v[a - start : b - start] for n, v in arrays.items()}
                )
                continue
            filled, staged = self._staged.get((scenario, k), (0, {}))
            if not staged:
                shape = {n: (hi - lo, *arrays[n].shape[1:]) for n in self.variables}
                staged = {n: np.full(s, np.nan, self.dtype) for n, s in shape.items()}
            for name, buf in staged.items():
                buf[a - lo : b - lo] = arrays[name][a - start : b - start]
            filled += b - a
            if filled == hi - lo:
                del self._staged[(scenario, k)]
                self._write_chunk(scenario, lo, staged)
            else:
                self._staged[(scenario, k)] = (filled, staged)

    def _write_chunk(self, scenario: int, start: int, arrays: Mapping[str, np.ndarray]) -> None:
        assert self._nc is not None
        try:
            for name in self.variables:
                block = np.moveaxis(arrays[name], -1, 0)  # (time, runs, *subscripts)
                self._nc[name][:, scenario, start : start + block.shape[1]] = block
        except (OSError, RuntimeError) as exc:  # "NetCDF: HDF error" on a full disk
            raise write_error(self.path, exc) from exc

    def close(self) -> Path:
        """Close the (temporary) file, so it can be read back; returns its path."""
        if self._nc is not None:
            # chunks still incomplete (not all runs written): the runs that came, the
            # others missing (NaN, the fill value)
            for (scenario, k), (_, staged) in sorted(self._staged.items()):
                self._write_chunk(scenario, k * self.run_chunk, staged)
            self._staged.clear()
            nc, self._nc = self._nc, None
            try:
                nc.close()
            except (OSError, RuntimeError) as exc:  # the last chunks flushed on a full disk
                raise write_error(self.path, exc) from exc
        return self.tmp

    def commit(self) -> Path:
        """Close the file (if open) and move it to its final name.

        Inside a :func:`sdmodel.io.atomic.transaction` the rename waits for its end.
        """
        try:
            self.close()
            finish(self.tmp, self.path)
            self._committed = True
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        """Close and delete the temporary file (idempotent)."""
        if self._nc is not None:
            with contextlib.suppress(Exception):
                self._nc.close()
            self._nc = None
        with contextlib.suppress(FileNotFoundError):
            self.tmp.unlink()

    def __enter__(self) -> EnsembleWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.abort()
