"""The Python API: sdmodel.run_scenarios and sdmodel.sweep, the library behind the CLI."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import sdmodel
from sdmodel.cli import main
from sdmodel.errors import SdmodelError
from sdmodel.io.netcdf import read_netcdf
from sdmodel.io.paths import PROJECT_ROOT
from tests.conftest import requires_model


@requires_model
def test_run_scenarios_is_what_run_writes(tmp_path) -> None:
    ds = sdmodel.run_scenarios(["central"], {"Reinstatement strength": 0.5})
    out = tmp_path / "run.nc"
    args = ["run", "--scenario", "central", "--set", "Reinstatement strength=0.5"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = read_netcdf(out)
    assert set(ds.data_vars) == set(written.data_vars)
    for name in ("unemployment_rate", "ww_outlays", "wage", "employment"):
        np.testing.assert_array_equal(ds[name].values, written[name].values)
        for key in ("units", "long_name", "vensim_name", "vensim_units"):
            assert ds[name].attrs[key] == written[name].attrs[key], (name, key)
    assert ds["ww_outlays"].attrs["units"] == "year-1"  # UDUNITS, not Vensim's EUR/Year
    assert ds.attrs["Conventions"] == "CF-1.10"
    raw = sdmodel.run_scenarios(["central"], {"Reinstatement strength": 0.5}, cf=False)
    assert (
        raw["ww_outlays"].attrs["vensim_units"] == "EUR/Year"
        and "units" not in raw["ww_outlays"].attrs
    )
    assert ds["ww_outlays"].dims[0] == "time" and raw["ww_outlays"].dims[-1] == "time"
    own_order = raw["ww_outlays"].transpose(*ds["ww_outlays"].dims)
    np.testing.assert_array_equal(own_order.values, ds["ww_outlays"].values)


@requires_model
def test_run_scenarios_checks_ranges() -> None:
    with pytest.raises(SdmodelError, match="Wage adjustment time.*below the minimum"):
        sdmodel.run_scenarios(["central"], {"Wage adjustment time": 0})


@requires_model
def test_sweep_returns_paths_and_lazy_datasets(tmp_path) -> None:
    out = tmp_path / "api.nc"
    result = sdmodel.sweep(runs=16, scenarios=["central"], out=out, figures=False)
    assert result.ensemble == out and result.summary == tmp_path / "api_summary.nc"
    with result.open_ensemble() as ens, result.open_summary() as summary:
        assert ens.sizes["run"] == 16 and list(summary["scenario"].values) == ["central"]
        assert not ens["unemployment_rate"].variable._in_memory  # opened, not yet read
        assert summary["ww_outlays"].attrs["long_name"].startswith("WW outlays (EUR")
        median = summary["unemployment_rate"].sel(percentile=50.0)
        direct = ens["unemployment_rate"].median("run")
        np.testing.assert_allclose(median.values, direct.values, rtol=1e-12)


def test_import_is_light() -> None:
    heavy = "('xarray', 'pysd', 'numpy')"
    code = f"import sys, sdmodel; print(sorted(m for m in {heavy} if m in sys.modules))"
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    ).stdout.strip()
    assert found == "[]"
