"""CF-1.10 NetCDF output (see DESIGN.md, "Output contract").

Every data variable gets ``units`` (UDUNITS-2, via :mod:`sdmodel.model.units`), ``long_name``
(Vensim name), ``comment`` and ``vensim_units``; money variables also get ``currency``.
Model time in decimal years becomes a CF time coordinate in ``days since <start>`` on the
``365_day`` calendar, so a model year is exactly 365 days and the model's binary time
steps (1/16 year) stay exact; a ``decimal_year`` coordinate keeps the model's own time.
Files are written atomically.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

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
        # CF 2.4: extra dimensions go left of T
        ds = ds.transpose(..., "time")
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
    cf = to_cf(ds, command=command)
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
        return ds.load()
