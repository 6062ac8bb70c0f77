"""Ensemble and summary files: CF-1.10 compliance, round trip, contents, float32, figures."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import cf_units
import netCDF4
import numpy as np
import pytest
import xarray as xr

from sdmodel.experiments.sweep import SweepOptions, plan_sweep, run_chunk, run_sweep
from sdmodel.io.ensemble import PERCENTILES, RUN_CHUNK, EnsembleWriter, param_var_name
from sdmodel.io.netcdf import open_netcdf
from sdmodel.io.paths import MODEL_PATH
from sdmodel.testing import assert_cf_compliant

pytestmark = pytest.mark.skipif(not MODEL_PATH.is_file(), reason="model file missing")

N = 48
VARIABLES = ("Unemployment rate", "Wage", "WW outlays", "Adopted automation share")


def options(out: Path, **kw) -> SweepOptions:
    return SweepOptions(n_runs=N, chunk=20, out=out, variables=VARIABLES, **kw)


@pytest.fixture(scope="module")
def sweep_files(tmp_path_factory) -> tuple[SweepOptions, object]:
    out = tmp_path_factory.mktemp("ens") / "ensemble.nc"
    opts = options(out)
    return opts, run_sweep(opts, command="pytest sweep")


@pytest.mark.parametrize("which", ["ensemble", "summary"])
def test_cf_1_10_compliance(sweep_files, which) -> None:
    _, result = sweep_files
    assert_cf_compliant(getattr(result, which))


def test_every_variable_has_units_and_long_name(sweep_files) -> None:
    _, result = sweep_files
    for path in (result.ensemble, result.summary):
        with netCDF4.Dataset(path) as nc:
            for attr in ("Conventions", "title", "source", "history", "references"):
                assert nc.getncattr(attr)
            assert nc.Conventions == "CF-1.10"
            for name, var in nc.variables.items():
                if var.dtype is str:
                    assert var.long_name, name
                    continue
                assert var.long_name and isinstance(var.units, str), name
                cf_units.Unit(var.units)
            time = nc["time"]
            assert time.units == "days since 2024-01-01 00:00:00" and time.calendar == "365_day"
            assert np.all(np.diff(time[:]) > 0)
            # string labels as an integer index plus a label coordinate (CF 6.1.1)
            assert list(nc["skill_label"][:]) == ["low", "middle", "high"]
            assert nc["skill"][:].tolist() == [0, 1, 2]


def test_header_readable(sweep_files) -> None:
    """``ncdump -h`` when installed (it is not on every machine), else netCDF4's header."""
    _, result = sweep_files
    ncdump = shutil.which("ncdump")
    for path in (result.ensemble, result.summary):
        if ncdump:
            header = subprocess.run(
                [ncdump, "-h", str(path)], capture_output=True, text=True, check=True
            ).stdout
            assert 'Conventions = "CF-1.10"' in header
        else:
            with netCDF4.Dataset(path) as nc:
                header = str(nc)
            assert "CF-1.10" in header
        assert "unemployment_rate" in header


def test_layout_and_compression(sweep_files) -> None:
    _, result = sweep_files
    with netCDF4.Dataset(result.ensemble) as nc:
        wage = nc["wage"]
        assert wage.dimensions == ("time", "scenario", "run", "skill")
        assert wage.filters()["zlib"] and wage.dtype == np.float64
        assert set(wage.coordinates.split()) == {"decimal_year", "scenario_label", "skill_label"}
        assert nc["unemployment_rate"].dimensions == ("time", "scenario", "run")
        labels = list(SweepOptions(n_runs=1, out=Path("x.nc")).scenarios)
        assert nc["scenario_label"][:].tolist() == labels
        assert nc["scenario"][:].tolist() == list(range(len(labels)))
        assert nc["run"][:].tolist() == list(range(N))


def test_ensemble_round_trip_matches_the_engine(sweep_files) -> None:
    """What was written reads back in xarray exactly as the engine computed it."""
    opts, result = sweep_files
    plan = plan_sweep(opts)
    with open_netcdf(result.ensemble) as ds:
        back = ds.load()
    for s, scenario in enumerate(plan.labels):
        direct = run_chunk(*plan.task_args(s, 0, N))  # (run, *subscripts, time)
        for py, array in direct.items():
            stored = back[py].sel(scenario=scenario).transpose("run", ..., "time")
            np.testing.assert_array_equal(stored.values, array)
    for j, name in enumerate(plan.sample.names):
        var = back[param_var_name(name)]
        np.testing.assert_array_equal(var.values, plan.sample.values[:, j])
        assert var.attrs["long_name"] == name
        assert var.attrs["distribution"] == plan.sample.to_attrs(name)["distribution"]
    # a second read is identical (coordinates, attributes, values)
    with open_netcdf(result.ensemble) as again:
        xr.testing.assert_identical(back, again.load())


def test_summary_matches_ensemble(sweep_files) -> None:
    _, result = sweep_files
    with (
        open_netcdf(result.ensemble) as ens,
        open_netcdf(result.summary) as summ,
    ):
        assert summ["percentile"].values.tolist() == list(PERCENTILES)
        for name in ("unemployment_rate", "wage", "ww_outlays"):
            data = ens[name].transpose("run", ...).values  # (run, time, scenario, ...)
            expected = np.percentile(data, PERCENTILES, axis=0)  # (pct, time, scenario, ...)
            stored = summ[name].transpose("percentile", "time", "scenario", ...)
            np.testing.assert_allclose(stored.values, expected, rtol=1e-14, atol=0)
            mean = summ[f"{name}_mean"].transpose("time", "scenario", ...)
            np.testing.assert_allclose(mean.values, data.mean(axis=0), rtol=1e-13, atol=0)
            assert summ[name].attrs["units"] == ens[name].attrs["units"]
        assert summ.attrs["summary_of"] == "ensemble.nc"
        assert summ.attrs["seed"] == ens.attrs["seed"]
        xr.testing.assert_equal(summ["time"], ens["time"])


def test_summary_round_trip(sweep_files) -> None:
    _, result = sweep_files
    with open_netcdf(result.summary) as a:
        first = a.load()
    with open_netcdf(result.summary) as b:
        xr.testing.assert_identical(first, b.load())


def test_fan_charts(sweep_files) -> None:
    opts, result = sweep_files
    names = sorted(p.name for p in result.figures)
    assert names == [
        "adopted_automation_share.png",
        "unemployment_rate.png",
        "wage.png",
        "ww_outlays.png",
    ]
    for path in result.figures:
        assert path.parent == opts.figures_dir
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in opts.figures_dir.iterdir() if p.name.startswith(".")]


def test_float32(tmp_path, sweep_files) -> None:
    _, result = sweep_files
    out = tmp_path / "ensemble.nc"
    run_sweep(options(out, float32=True, figures=False))
    with netCDF4.Dataset(out) as f32, netCDF4.Dataset(result.ensemble) as f64:
        assert f32["wage"].dtype == np.float32 and f32.storage_type == "float32"
        np.testing.assert_array_equal(f32["wage"][:], np.float32(f64["wage"][:]))
        assert f32["param_scarring_factor"].dtype == np.float64
    assert out.stat().st_size < result.ensemble.stat().st_size


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_writer_takes_blocks_of_any_size_in_any_order(tmp_path, dtype) -> None:
    """Blocks straddling file chunks, out of order (Dask): every run lands in its place;
    runs never written stay missing (NaN)."""
    template = xr.Dataset(
        {"x": (("time", "skill"), np.zeros((3, 2)), {"units": "1", "long_name": "x"})},
        coords={"skill": ["a", "b"], "time": ("time", [0.0, 365.0, 730.0])},
    )
    n = 2 * RUN_CHUNK + RUN_CHUNK // 2  # the last file chunk is an edge chunk
    rng = np.random.default_rng(3)
    data = rng.standard_normal((2, n, 2, 3)).astype(dtype)  # (scenario, run, skill, time)
    cuts = [
        [0, 7, RUN_CHUNK - 1, 2 * RUN_CHUNK + 1, n],  # straddling, one chunk whole inside
        [0, RUN_CHUNK, 2 * RUN_CHUNK, n],  # whole chunks, the edge chunk too
    ]
    blocks = [(s, a, b) for s in range(2) for a, b in zip(cuts[s], cuts[s][1:], strict=False)]
    order = rng.permutation(len(blocks))
    for skip in (None, 2, 5):
        path = tmp_path / f"skip{skip}.nc"
        with EnsembleWriter(path, template, ["p", "q"], n, {}, dtype) as writer:
            for i in order:
                if i != skip:
                    s, a, b = blocks[i]
                    writer.write(s, a, {"x": data[s, a:b]})
            writer.commit()
        with netCDF4.Dataset(path) as nc:
            nc.set_auto_mask(False)
            back = np.asarray(nc["x"][:])
        assert back.dtype == dtype
        want = data.copy()
        if skip is not None:
            s, a, b = blocks[skip]
            want[s, a:b] = np.nan
        np.testing.assert_array_equal(back, np.moveaxis(want, -1, 0))  # stored time first
