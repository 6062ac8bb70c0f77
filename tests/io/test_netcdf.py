"""CF-1.10 NetCDF output: attributes, time coordinate, round trip, atomicity, checker."""

from __future__ import annotations

import json
import os
import stat

import cf_units
import cftime
import numpy as np
import pytest
import xarray as xr

from sdmodel.errors import SdmodelError
from sdmodel.io.netcdf import read_netcdf, to_cf, write_netcdf
from sdmodel.testing import assert_cf_compliant

#: The checker crashes on string-valued coordinate variables (np.diff of strings) in this
#: check; we test monotonic time and unique labels ourselves (test_coordinates).


@pytest.fixture(scope="module")
def cf(tiny_run) -> xr.Dataset:
    return to_cf(tiny_run, command="pytest")


@pytest.fixture(scope="module")
def written(cf, tmp_path_factory) -> object:
    path = tmp_path_factory.mktemp("nc") / "tiny.nc"
    write_netcdf(cf, path)
    return path


def test_every_variable_has_cf_attributes(cf, tiny_run) -> None:
    assert "units" not in tiny_run["wage_bill"].attrs  # to_cf does not mutate its input
    assert len(cf.data_vars) == 10
    for name, var in cf.data_vars.items():
        for attr in ("units", "long_name", "comment", "vensim_units"):
            assert isinstance(var.attrs.get(attr), str) and var.attrs[attr], (name, attr)
        cf_units.Unit(var.attrs["units"])
    assert cf["wage_bill"].attrs["units"] == "year-1"
    assert cf["wage_bill"].attrs["currency"] == "EUR, constant 2024 prices"
    assert cf["average_wage"].attrs["units"] == "count-1 year-1"
    assert "currency" not in cf["employment"].attrs
    assert cf["employment"].attrs["units"] == "count"


def test_global_attributes(cf, tiny_run) -> None:
    for attr in ("title", "institution", "source", "history", "references"):
        assert cf.attrs[attr]
    assert cf.attrs["Conventions"] == "CF-1.10"
    assert "tiny.mdl" in cf.attrs["source"] and "engine numpy" in cf.attrs["source"]
    assert cf.attrs["history"].endswith(": pytest")
    assert cf.attrs["model_sha256"] == tiny_run.attrs["model_sha256"]
    assert cf.attrs["pysd_version"] and cf.attrs["sdmodel_version"]
    assert json.loads(cf.attrs["scenarios"])["overrides"] == {"Average wage": 50000.0}


def test_time_coordinate(cf, tiny_run) -> None:
    time = cf["time"]
    assert time.attrs["units"] == "days since 2024-01-01 00:00:00"
    assert time.attrs["calendar"] == "365_day"
    assert time.attrs["standard_name"] == "time" and time.attrs["axis"] == "T"
    np.testing.assert_array_equal(time.values, 91.25 * np.arange(25))  # exact
    np.testing.assert_array_equal(cf["decimal_year"].values, tiny_run["time"].values)
    assert cf["employment"].dims[0] == "time"  # time first, for CDO
    xr.testing.assert_equal(
        cf["employment"],
        tiny_run["employment"]
        .transpose("time", ...)
        .assign_coords(time=cf["time"], decimal_year=cf["decimal_year"]),
    )


def test_round_trip_is_lossless(cf, written) -> None:
    back = read_netcdf(written)
    xr.testing.assert_identical(cf, back)
    assert back["skill"].dtype.kind == "U" and back["scenario"].dtype.kind == "U"


def test_decoded_times(written) -> None:
    decoded = read_netcdf(written, decode_times=True)
    times = decoded["time"].values
    assert times[0] == cftime.DatetimeNoLeap(2024, 1, 1)
    assert times[4] == cftime.DatetimeNoLeap(2025, 1, 1)
    assert times[1] == cftime.DatetimeNoLeap(2024, 4, 2, 6)  # day 91.25 of a 365-day year
    assert times[-1] == cftime.DatetimeNoLeap(2030, 1, 1)


def test_coordinates(written) -> None:
    back = read_netcdf(written)
    assert np.all(np.diff(back["time"].values) > 0)
    for dim in ("skill", "scenario"):
        labels = list(back[dim].values)
        assert len(set(labels)) == len(labels)


def test_compliance_checker_cf_1_10(written) -> None:
    assert_cf_compliant(written)


#: Variables per file for the checker: its run time grows with the square of a file's
#: variable count (it guesses a feature type per variable by scanning all the others), so
#: the real model's ~400 variables take 6 minutes in one file and 2 s per 20.
CF_CHUNK = 20


def test_compliance_checker_real_model(real_cli_run, tmp_path) -> None:
    """Every variable of ``sdmodel run``'s real-model file passes the CF checker.

    The file is checked in parts of :data:`CF_CHUNK` variables, each rewritten by the same
    writer (:func:`write_netcdf` keeps a CF Dataset as it is, encoding included) with all
    coordinates and global attributes: every per-variable and per-file check sees exactly
    what the whole file holds. The writer emits no attribute that links data variables
    (``coordinates``, ``bounds``, ``ancillary_variables``), so no check spans two parts.
    """
    result, nc, _ = real_cli_run
    assert result.exit_code == 0, result.output
    ds = read_netcdf(nc)
    linking = {"coordinates", "bounds", "ancillary_variables", "cell_measures", "grid_mapping"}
    assert not [name for name, var in ds.variables.items() if linking & set(var.attrs)]
    names = list(ds.data_vars)
    assert len(names) > 300  # the whole model, not a subset
    for start in range(0, len(names), CF_CHUNK):
        keep = set(names[start : start + CF_CHUNK])
        part = ds.drop_vars([name for name in names if name not in keep])
        assert set(part.coords) == set(ds.coords) and part.attrs == ds.attrs
        assert_cf_compliant(write_netcdf(part, tmp_path / f"part{start}.nc"))


def test_atomic_write_leaves_nothing_on_failure(cf, tmp_path, monkeypatch) -> None:
    path = tmp_path / "out.nc"
    path.write_bytes(b"old")

    def broken(self, target, *args, **kwargs):
        with open(target, "wb") as handle:
            handle.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(SdmodelError, match="out.nc: no space left on device"):
        write_netcdf(cf, path)
    assert path.read_bytes() == b"old"  # old file untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc"]  # no temp file


def test_write_into_missing_directory(cf, tmp_path) -> None:
    with pytest.raises(SdmodelError, match="missing"):
        write_netcdf(cf, tmp_path / "missing" / "x.nc")
    assert not (tmp_path / "missing").exists()


def test_variable_without_metadata_is_refused(tiny_run) -> None:
    ds = tiny_run.copy()
    ds["extra"] = ds["employment"].drop_attrs() * 2
    with pytest.raises(SdmodelError, match="'extra'"):
        to_cf(ds)


def test_written_file_has_the_usual_permissions(written) -> None:
    """Atomic writes go through mkstemp (mode 0600); the final file gets 0666 & ~umask."""
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(written.stat().st_mode) == 0o666 & ~mask


def test_cf_waiver_is_only_for_time_first(tmp_path) -> None:
    """The CF 2.4 waiver covers time first with only untyped dimensions after it; T after
    X (a real order error) still fails."""
    from sdmodel.testing import cf_compliance

    lon = ("lon", [0.0, 1.0], {"standard_name": "longitude", "units": "degrees_east"})
    time = ("time", [0.0, 1.0], {"standard_name": "time", "units": "days since 2024-01-01"})
    attrs = {"units": "1", "long_name": "x"}
    for dims, waived in ((("time", "skill"), True), (("lon", "time"), False)):
        ds = xr.Dataset(
            {"x": (dims, np.zeros((2, 2)), attrs)},
            coords={"lon": lon, "time": time, "skill": ("skill", [0, 1], {"long_name": "k"})},
            attrs={"Conventions": "CF-1.10"},
        )
        path = tmp_path / f"{dims[0]}.nc"
        ds.to_netcdf(path)
        failed, _ = cf_compliance(path)
        order = [m for name, msgs in failed for m in msgs if "recommended order" in m]
        assert (not order) is waived, (dims, order)
