"""CDO (the Climate Data Operators) reads every NetCDF file the project writes.

CDO is record-oriented: it needs time as the first dimension of a variable and numeric
coordinates, which is why the files store time first and string labels as an integer
index plus a ``<dim>_label`` coordinate (:mod:`sdmodel.io.netcdf`). For each kind of file
(``run``, the sweep's ensemble and summary, the shock report's ``timeseries.nc`` for one
run and for an ensemble, ``compare``) the test asks ``cdo sinfon`` for the variables it
sees, and checks ``cdo timmean`` against the time means of what xarray reads.

Needs Debian's ``cdo`` (``make test`` installs it with apt-get where it can).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner

from sdmodel.cli import main
from sdmodel.io.netcdf import LABEL_SUFFIX, read_netcdf
from tests.conftest import requires_model

CDO = shutil.which("cdo")
pytestmark = [
    requires_model,
    pytest.mark.skipif(
        CDO is None,
        reason="cdo is not installed (Debian package 'cdo'; make test installs it with "
        "apt-get when it runs as root or with sudo)",
    ),
]
ROOT = Path(__file__).resolve().parents[2]
SHOCK_FILE = ROOT / "scenarios" / "shocks" / "middle_5pct_2027.toml"
WW_GENEROUS = ROOT / "scenarios" / "policies" / "ww_generous.toml"
#: CDO's variable limit: time plus at most three more dimensions (levels, y, x).
CDO_MAX_DIMS = 4


def invoke(*args: object) -> None:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, (result.output, result.exception)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One file of every kind the project writes, from its commands."""
    d = tmp_path_factory.mktemp("cdo")
    invoke("run", "--scenario", "central", "--scenario", "explosive", "--out", d / "run.nc")
    invoke(
        "sweep", "--runs", 8, "--scenario", "central", "--scenario", "explosive", "--no-figures",
        "--vars", "Unemployment rate,Wage,WW outlays", "--out", d / "ens.nc",
    )  # fmt: skip
    invoke("shock", SHOCK_FILE, "--out", d / "shock")
    spec = d / "u.toml"
    spec.write_text(
        'description = "test"\n[[parameter]]\nname = "Scarring factor"\n'
        'distribution = "uniform"\nlower = 0.4\nupper = 0.6\nrationale = "test"\n'
    )
    invoke("shock", SHOCK_FILE, "--runs", 4, "--spec", spec, "--out", d / "shock_ens")
    invoke("compare", "--scenario", "central", "--policy-file", WW_GENEROUS, "--out", d / "cmp")
    return {
        "run": d / "run.nc",
        "ensemble": d / "ens.nc",
        "summary": d / "ens_summary.nc",
        "shock timeseries": d / "shock" / "timeseries.nc",
        "shock ensemble timeseries": d / "shock_ens" / "timeseries.nc",
        "compare": d / "cmp" / "compare.nc",
    }


def cdo(*args: object) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [CDO, *(str(a) for a in args)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def time_varying(path: Path) -> list[str]:
    """Data variables with a time dimension (time first, as every writer stores them)."""
    with netCDF4.Dataset(path) as nc:
        names = []
        for name, var in nc.variables.items():
            if "time" in var.dimensions and name not in nc.dimensions and name != "decimal_year":
                assert var.dimensions[0] == "time", (path.name, name, var.dimensions)
                assert len(var.dimensions) <= CDO_MAX_DIMS, (path.name, name, var.dimensions)
                names.append(name)
    return names


KINDS = [
    "run",
    "ensemble",
    "summary",
    "shock timeseries",
    "shock ensemble timeseries",
    "compare",
]


@pytest.mark.parametrize("kind", KINDS)
def test_cdo_sees_every_variable(files, kind) -> None:
    path = files[kind]
    proc = cdo("sinfon", path)
    skipped = set(re.findall(r"skipped variable (\w+)", proc.stderr))
    # CDO has no string type: it skips the label coordinates, and only them
    assert all(name.endswith(LABEL_SUFFIX) for name in skipped), skipped
    assert "Unsupported file structure" not in proc.stderr
    listed = set(re.findall(r"^\s+\d+ : .* : (\S+)\s*$", proc.stdout, flags=re.MULTILINE))
    expected = time_varying(path)
    assert expected and set(expected) <= listed, set(expected) - listed


@pytest.mark.parametrize("kind", KINDS)
def test_cdo_time_mean_equals_xarray(files, kind, tmp_path) -> None:
    """``cdo timmean`` of every time-varying variable equals numpy's mean over time.

    Tolerance: relative 1e-12. Both sum in float64 but in their own order; over at most
    105 saved times the rounding differences stay near 1e-14.
    """
    path = files[kind]
    out = tmp_path / "timmean.nc"
    cdo("-s", "timmean", path, out)
    ds = read_netcdf(path)
    with netCDF4.Dataset(out) as nc:
        nc.set_auto_mask(False)
        for name in time_varying(path):
            got = np.asarray(nc[name][:], dtype=float)
            want = ds[name].mean("time").values
            assert got.shape == (1, *want.shape), (name, got.shape, want.shape)
            np.testing.assert_allclose(got[0], want, rtol=1e-12, atol=0, err_msg=name)
