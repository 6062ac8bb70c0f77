"""CF-1.10 NetCDF output (see DESIGN.md, "Output contract").

Every data variable gets ``units`` (UDUNITS-2, via :mod:`sdmodel.model.units`), ``long_name``
(Vensim name), ``comment`` and ``vensim_units``; money variables also get ``currency``.
Model time in decimal years becomes a CF time coordinate in ``days since <start>`` on the
``365_day`` calendar, so a model year is exactly 365 days and the model's binary time
steps (1/16 year) stay exact; a ``decimal_year`` coordinate keeps the model's own time.
Every variable is stored time first, ``(time, scenario, [run,] *subscripts)``, the
order CDO and other record-oriented tools require (CF 2.4 recommends T, Z, Y, X among the
spatio-temporal dimensions and has none of the others here). A dimension labelled by
strings (``scenario``, ``skill``) is stored as an integer index coordinate ``0..n-1`` and a
string label coordinate ``<dim>_label`` (CF 6.1.1 labels), because CDO and most Fortran
readers skip string coordinate variables; :func:`read_netcdf` and :func:`open_netcdf`
restore the string coordinates, so ``ds.sel(scenario="central")`` works on what they
return. Files are written atomically.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sdmodel.errors import SdmodelError
from sdmodel.io.atomic import atomic_path, write_error
from sdmodel.model.units import CURRENCY, is_money, money_phrase, to_udunits
from sdmodel.version import __version__

CONVENTIONS = "CF-1.10"
TITLE = "AI and the Dutch labour market: system-dynamics scenario runs"
INSTITUTION = "sdmodel project (open-source system-dynamics model)"
REFERENCES = (
    "SER adviesaanvraag AI en de toekomst van werk (2023); "
    "model equations and sources: stocks_flows/ai_labour_nl.mdl and scenarios/*.toml"
)
CALENDAR = "365_day"
DAYS_PER_YEAR = 365
#: Suffix of the string label coordinate of a dimension stored as an integer index.
LABEL_SUFFIX = "_label"


def is_cf(ds: xr.Dataset) -> bool:
    """Whether ``ds`` already went through :func:`to_cf`."""
    return ds.attrs.get("Conventions") == CONVENTIONS


def _cf_time(ds: xr.Dataset) -> xr.Dataset:
    years = np.asarray(ds["time"].values, dtype=float)
    start = math.floor(years[0])
    days = (years - start) * DAYS_PER_YEAR
    ds = ds.assign_coords(time=("time", days), decimal_year=("time", years))
    ds["time"].attrs = {
        "standard_name": "time",
        "long_name": "time",
        "axis": "T",
        "units": f"days since {start:04d}-01-01 00:00:00",
        "calendar": CALENDAR,
    }
    ds["decimal_year"].attrs = {
        "long_name": "model time in decimal years (Vensim Time)",
        "units": "1",
        "comment": f"{start} + days / {DAYS_PER_YEAR} on the {CALENDAR} calendar",
    }
    return ds


def to_cf(ds: xr.Dataset, *, command: str | None = None) -> xr.Dataset:
    """CF-1.10 version of a run Dataset (from :func:`sdmodel.experiments.runner.run_scenarios`).

    Parameters
    ----------
    ds
        Dataset whose variables carry ``long_name`` and ``vensim_units`` attributes and
        whose ``time`` coordinate is in decimal years.
    command
        Command line recorded in ``history`` (default: "python API").

    Raises
    ------
    SdmodelError
        If a variable lacks ``vensim_units``/``long_name`` or has unknown units.
    """
    if is_cf(ds):
        return ds
    ds = ds.copy()
    if "time" in ds.coords:
        ds = _cf_time(ds)
        # time first: CDO reads nothing else (see the module docstring)
        ds = ds.transpose("time", ...)
    for name, var in ds.data_vars.items():
        if "vensim_units" not in var.attrs or "long_name" not in var.attrs:
            raise SdmodelError(f"variable {name!r} has no model metadata (vensim_units)")
        vensim_units = var.attrs["vensim_units"]
        vensim_name = var.attrs.setdefault("vensim_name", var.attrs["long_name"])
        var.attrs["units"] = to_udunits(vensim_units, vensim_name)
        var.attrs.setdefault("comment", "")
        if is_money(vensim_units):
            # UDUNITS has no currency: the unit string stays clean ("year-1") and the
            # long name says what the number is in, where no reader can miss it
            var.attrs["currency"] = CURRENCY
            var.attrs["long_name"] = f"{vensim_name} ({money_phrase(vensim_units)})"
    for dim in ds.dims:
        if dim in ds.coords and ds[dim].dtype.kind in "USO":
            ds[dim] = ds[dim].astype(str)
            ds[dim].attrs.setdefault("long_name", str(dim))
    engine = ds.attrs.get("engine", "pysd")
    model_file = ds.attrs.get("model_file", "unknown model")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    ds.attrs = {
        "Conventions": CONVENTIONS,
        "title": TITLE,
        "institution": INSTITUTION,
        "source": f"{model_file} run with sdmodel {__version__}, engine {engine}",
        "history": f"{now}: {command or 'python API'}",
        "references": REFERENCES,
        "sdmodel_version": __version__,
        **{k: v for k, v in ds.attrs.items() if k not in {"Conventions", "history"}},
    }
    return ds


def label_name(dim: str) -> str:
    """Name of the label coordinate of a string-labelled dimension (``skill_label``)."""
    return f"{dim}{LABEL_SUFFIX}"


def encode_labels(ds: xr.Dataset) -> xr.Dataset:
    """String dimension coordinates as an integer index plus a ``<dim>_label`` coordinate.

    The label coordinate keeps the string coordinate's attributes; the index gets a
    ``long_name`` that points to it. :func:`decode_labels` inverts this exactly.
    """
    new: dict[str, Any] = {}
    for dim in ds.dims:
        dim = str(dim)
        if dim in ds.coords and ds[dim].dtype.kind in "USO":
            coord = ds[dim]
            index_attrs = {
                "long_name": f"{dim} index (0-based; the names are in {label_name(dim)})",
                "units": "1",
            }
            new[dim] = (dim, np.arange(ds.sizes[dim], dtype="i4"), index_attrs)
            new[label_name(dim)] = (dim, coord.values.astype(str), dict(coord.attrs))
    return ds.assign_coords(new) if new else ds


def decode_labels(ds: xr.Dataset) -> xr.Dataset:
    """Inverse of :func:`encode_labels`: ``<dim>_label`` becomes the ``<dim>`` coordinate."""
    new: dict[str, Any] = {}
    drop = []
    for dim in ds.dims:
        dim = str(dim)
        label = ds.coords.get(label_name(dim))
        if label is not None and label.dims == (dim,) and label.dtype.kind in "USO":
            new[dim] = (dim, label.values.astype(str), dict(label.attrs))
            drop.append(label_name(dim))
    if not new:
        return ds
    out = ds.drop_vars(drop).assign_coords(new)
    out.set_close(ds.close)  # closing the result closes the file
    return out


def _encoding(ds: xr.Dataset) -> dict[str, dict]:
    encoding: dict[str, dict] = {}
    for name, var in ds.variables.items():
        if var.dtype.kind in "US":
            encoding[str(name)] = {"dtype": str}
        elif name in ds.coords:
            encoding[str(name)] = {"_FillValue": None}
        else:
            encoding[str(name)] = {"zlib": True, "complevel": 4}
    return encoding


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike, *, command: str | None = None) -> Path:
    """Write ``ds`` as CF-1.10 NetCDF-4, atomically.

    The file is written to a temporary name in the target directory and renamed into
    place; on any failure the temporary file is removed and nothing is left under
    ``path``.

    Parameters
    ----------
    ds
        Run Dataset (converted with :func:`to_cf` unless it already is CF).
    path
        Target file.
    command
        Command line for the ``history`` attribute.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    cf = encode_labels(to_cf(ds, command=command))
    with atomic_path(path) as tmp:
        try:
            cf.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=_encoding(cf))
        except (OSError, RuntimeError) as exc:  # netCDF4: "NetCDF: HDF error" on a full disk
            raise write_error(path, exc) from exc
    return path


def read_netcdf(path: str | os.PathLike, *, decode_times: bool = False) -> xr.Dataset:
    """Open a file written by :func:`write_netcdf` (loaded into memory, file closed).

    With ``decode_times=False`` the result is identical to what was written; with
    ``True`` time becomes ``cftime.DatetimeNoLeap`` objects.
    """
    decoder: bool | xr.coders.CFDatetimeCoder = decode_times
    if decode_times:
        decoder = xr.coders.CFDatetimeCoder(use_cftime=True)
    with xr.open_dataset(path, decode_times=decoder) as ds:
        return decode_labels(ds.load())


def open_netcdf(path: str | os.PathLike, **kwargs: Any) -> xr.Dataset:
    """Open a file the project wrote, lazily, with its string coordinates restored.

    ``kwargs`` go to :func:`xarray.open_dataset` (``decode_times`` defaults to False, as
    in :func:`read_netcdf`; ``chunks={}`` gives dask arrays). Close the result, or use it
    as a context manager.
    """
    return decode_labels(xr.open_dataset(path, **{"decode_times": False, **kwargs}))
