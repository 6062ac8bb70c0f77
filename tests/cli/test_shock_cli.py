"""``sdmodel shock``: one shock from a file or flags, the stress grid, ensembles, and
user errors (exit 2, one line naming the culprit, nothing written)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdmodel.cli import main
from sdmodel.io.netcdf import read_netcdf
from sdmodel.testing import assert_user_error
from tests.conftest import requires_model

SHOCK_FILE = (
    Path(__file__).resolve().parents[2] / "scenarios" / "shocks" / ("middle_5pct_2027.toml")
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: An uncertainty specification of one parameter, for small ensembles.
SMALL_SPEC = (
    'description = "test"\n[[parameter]]\nname = "Scarring factor"\n'
    'distribution = "uniform"\nlower = 0.4\nupper = 0.6\nrationale = "test"\n'
)
pytestmark = requires_model


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_shock_file_writes_report(tmp_path):
    out = tmp_path / "report"
    result = invoke("shock", SHOCK_FILE, "--out", out)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Peak WW recipients" in result.stdout and "middle_5pct_2027" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "comparison.png",
        "metrics.csv",
        "table.txt",
        "timeseries.nc",
    ]
    assert (out / "comparison.png").read_bytes().startswith(PNG_MAGIC)
    ds = read_netcdf(out / "timeseries.nc")
    assert ds.attrs["Conventions"] == "CF-1.10"
    assert list(ds["case"].values) == ["baseline", "middle_5pct_2027"]
    assert "sdmodel shock" in ds.attrs["history"]
    assert ds["ww_outlays"].attrs["units"] and ds["awf_balance"].attrs["long_name"]
    assert ds.sizes["time"] == 105  # SAVEPER 0.25 from 2024 to 2050
    rows = list(csv.DictReader((out / "metrics.csv").read_text().splitlines()))
    extra = {r["metric"]: float(r["median"]) for r in rows if r["column"] == "shock_minus_baseline"}
    # the central baseline's WW peak is the AI wave of about 2030, which the 2027 shock
    # barely moves; the shock's own effect shows in the extra outlays and extra LTU
    assert extra["extra_ww_outlays"] > 0 and extra["peak_extra_ltu"] > 0
    assert (out / "table.txt").read_text().strip() in result.stdout


def test_explicit_run_subcommand_and_flags(tmp_path):
    out = tmp_path / "flags"
    result = invoke(
        "shock",
        "run",
        "--share",
        "0.02",
        "--skill",
        "high",
        "--months",
        "3",
        "--demand-depth",
        "0.02",
        "--policy",
        "WW maximum duration=12",
        "--out",
        out,
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert "WW maximum duration=12" in result.stdout
    assert (out / "metrics.csv").is_file()


def test_grid(tmp_path):
    out = tmp_path / "grid"
    result = invoke(
        "shock",
        "grid",
        "--sizes",
        "1%,0.1",  # a percent and a fraction: the same convention as --share
        "--months",
        "3,36",
        "--skill",
        "middle",
        "--policy",
        "WW replacement rate lower=0.8",
        "--outlay-threshold",
        "0.007",
        "--out",
        out,
    )
    assert result.exit_code == 0, (result.output, result.exception)
    rows = list(csv.DictReader((out / "grid.csv").read_text().splitlines()))
    assert len(rows) == 2 * (1 + 4)
    assert {r["variant"] for r in rows} == {
        "current policy",
        "policy WW replacement rate lower=0.8",
    }
    assert (out / "heatmaps.png").read_bytes().startswith(PNG_MAGIC)
    assert "runs in one engine call" in result.stdout


def test_ensemble_with_small_spec(tmp_path):
    spec = tmp_path / "u.toml"
    spec.write_text(SMALL_SPEC)
    out = tmp_path / "ens"
    result = invoke("shock", SHOCK_FILE, "--runs", 6, "--seed", 3, "--spec", spec, "--out", out)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "6 runs: median [5%, 95%]" in result.stdout
    ds = read_netcdf(out / "timeseries.nc")
    assert list(ds["quantile"].values) == [0.05, 0.5, 0.95]


def test_ensemble_without_seed_records_the_one_it_drew(tmp_path):
    """``--runs`` without ``--seed`` draws a seed, writes it to the file, and that seed
    given back reproduces the report (it once crashed writing a 128-bit seed)."""
    spec = tmp_path / "u.toml"
    spec.write_text(SMALL_SPEC)
    first, second = tmp_path / "first", tmp_path / "second"
    result = invoke("shock", SHOCK_FILE, "--runs", 4, "--spec", spec, "--out", first)
    assert result.exit_code == 0, (result.output, result.exception)
    seed = read_netcdf(first / "timeseries.nc").attrs["seed"]
    assert 0 <= seed < 2**63
    result = invoke(
        "shock", SHOCK_FILE, "--runs", 4, "--spec", spec, "--seed", seed, "--out", second
    )
    assert result.exit_code == 0, (result.output, result.exception)
    assert (first / "metrics.csv").read_bytes() == (second / "metrics.csv").read_bytes()


GOOD = SHOCK_FILE.read_text()


@pytest.mark.parametrize(
    ("text", "culprit"),
    [
        (GOOD.replace("0.05", "1.5"), "displacement.share"),
        (GOOD.replace("= 12", "= -1"), "duration_months"),
        (GOOD.replace("2027.0", "2060.0"), "displacement.start"),
        (GOOD.replace('"middle"', '"experts"'), "experts"),
        (GOOD + "typo = 1\n", "typo"),
        (GOOD + "[shock]\nshare = 1\n", "shock"),
        (GOOD + '[policy]\n"Bijstand take up" = 0.5\n', "Bijstand take up"),
        (GOOD + "[policy\n", "malformed TOML"),
    ],
)
def test_invalid_shock_files(tmp_path, text, culprit):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "out"
    result = invoke("shock", path, "--out", out)
    assert_user_error(result, culprit, out)
    assert str(path) in result.stderr


@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        (("--share", "1.2"), "--share"),
        (("--share", "0.1", "--months", "0"), "--months"),
        (("--share", "0.1", "--start", "2051"), "--start"),
        (("--share", "0.1", "--skill", "nobody"), "nobody"),
        (("--share", "0.1", "--policy", "Scarring factor=0.1"), "Scarring factor"),
        (("--share", "0.1", "--scenario", "nope"), "nope"),
        (("--share", "0.1", "--runs", "0"), "--runs"),
        ((str(Path("missing.toml")),), "missing.toml"),
        (("grid", "--sizes", "1%,200%"), "--sizes: '200%' is outside 0-1"),
        (("grid", "--sizes", "0.01,5"), "--sizes: '5' is ambiguous"),
        (("--share", "5"), "--share: '5' is ambiguous: give a fraction"),
        (("--share", "-1%"), "--share: '-1%' is outside 0-1"),
        (("grid", "--outlay-threshold", "x"), "--outlay-threshold: 'x' is not a share"),
        (("grid", "--months", "0,3"), "--months"),
        (("grid", "--skill", "all,x"), "--skill"),
        (("grid", "--policy", "GDP 2024=1"), "GDP 2024"),
    ],
)
def test_invalid_flags(tmp_path, args, culprit):
    out = tmp_path / "out"
    result = invoke("shock", *args, "--out", out)
    assert_user_error(result, culprit, out)
