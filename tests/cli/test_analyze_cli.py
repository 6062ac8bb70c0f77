"""``sdmodel analyze`` and the sweep's sensitivity samplers: outputs and one-line errors.

Small designs of the Ishigami model (tests/analysis/ishigami.mdl): a foreign model swept
without scenarios, analysed from nothing but its ensemble file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdmodel.cli import main
from sdmodel.testing import assert_user_error

ANALYSIS = Path(__file__).parents[1] / "analysis"
MODEL = ANALYSIS / "ishigami.mdl"
SPEC = ANALYSIS / "ishigami_spec.toml"


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def sweep(out: Path, sampler: str, runs: int, *extra: object, spec: Path = SPEC):
    return invoke(
        "sweep", "--model", MODEL, "--spec", spec, "--sampler", sampler, "--runs", runs,
        "--seed", 3, "--out", out, "--no-figures", "--quiet", *extra,
    )  # fmt: skip


@pytest.fixture(scope="module")
def ensembles(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("ensembles")
    out = {"saltelli": tmp / "s.nc", "morris": tmp / "m.nc"}
    assert sweep(out["saltelli"], "saltelli", 64).exit_code == 0
    assert sweep(out["morris"], "morris", 16).exit_code == 0
    return out


def test_prim_writes_boxes_and_figures(ensembles, tmp_path: Path) -> None:
    out = tmp_path / "box"
    # Y > 8 needs x2 near +-pi/2 (7 sin^2 x2 close to 7) and sin(x1) > 0
    result = invoke(
        "analyze", "prim", ensembles["saltelli"], "--where", "y@1 > 8", "--out", out, "--json"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    box = doc["scenarios"]["baseline"]
    assert set(box["limits"]) <= {"x1", "x2", "x3"} and box["limits"]
    assert 0 < box["coverage"] <= 1 and 0 < box["density"] <= 1
    assert (tmp_path / "box.json").is_file() and (tmp_path / "box.csv").is_file()
    assert list((tmp_path / "box_figures").glob("prim_trajectory_*.png"))


def test_default_outputs_beside_the_ensemble(ensembles) -> None:
    result = invoke("analyze", "morris", ensembles["morris"], "--no-figures", "--vars", "y")
    assert result.exit_code == 0, result.output
    assert "mu_star" in result.output
    assert ensembles["morris"].with_name("m_morris.nc").is_file()
    assert ensembles["morris"].with_name("m_morris.csv").is_file()


@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        (("sobol", "{morris}"), "not made by 'sdmodel sweep --sampler saltelli' (morris)"),
        (("morris", "{saltelli}"), "not made by 'sdmodel sweep --sampler morris'"),
        (("sobol", "{saltelli}", "--vars", "y@2030"), "2030 is not a saved year"),
        (("sobol", "{saltelli}", "--vars", "nosuch@1"), "unknown variable 'nosuch'"),
        (("sobol", "{saltelli}", "--vars", "y@@1"), "outcome 'y@@1'"),
        (("sobol", "{saltelli}", "--second-order"), "need a sweep with --second-order"),
        (("prim", "{saltelli}", "--where", "y@1 >"), "expected a number"),
        (("prim", "{saltelli}", "--where", "y@1 > 100"), "no run of"),
        (("sobol", "{dir}/missing.nc"), "ensemble file not found"),
    ],
)
def test_analyze_user_errors(ensembles, tmp_path: Path, args, culprit: str) -> None:
    where = {"morris": ensembles["morris"], "saltelli": ensembles["saltelli"], "dir": tmp_path}
    out = tmp_path / "result"
    result = invoke("analyze", *(a.format(**where) for a in args), "--out", out)
    assert_user_error(result, culprit, out.with_suffix(".nc"))
    assert not out.with_suffix(".json").exists() and not out.with_suffix(".csv").exists()


def test_sweep_sampler_errors(tmp_path: Path) -> None:
    out = tmp_path / "e.nc"
    assert_user_error(sweep(out, "saltelli", 100), "--runs 100: with --sampler saltelli", out)
    assert_user_error(sweep(out, "lhs", 10, "--levels", 6), "--levels needs --sampler", out)
    correlated = tmp_path / "corr.toml"
    correlated.write_text(
        SPEC.read_text() + '\n[[correlation]]\nbetween = ["x1", "x2"]\nrank = 0.5\n'
    )
    assert_user_error(
        sweep(out, "morris", 4, spec=correlated), "the spec has rank correlations", out
    )


def test_independent_drops_the_correlations_and_says_so(ensembles, tmp_path: Path) -> None:
    """``--independent`` samples the marginals alone: the same design as the spec without
    its correlation table, and the file names the dropped correlation."""
    from sdmodel.io.netcdf import open_netcdf

    correlated = tmp_path / "corr.toml"
    correlated.write_text(
        SPEC.read_text() + '\n[[correlation]]\nbetween = ["x1", "x2"]\nrank = 0.5\n'
    )
    out = tmp_path / "i.nc"
    assert sweep(out, "saltelli", 64, "--independent", spec=correlated).exit_code == 0
    with open_netcdf(out) as got, open_netcdf(ensembles["saltelli"]) as plain:
        assert got.attrs["dropped_rank_correlations"] == "x1 ~ x2: 0.5"
        assert "dropped_rank_correlations" not in plain.attrs
        assert (got["design_unit"].values == plain["design_unit"].values).all()
        assert (got["y"].values == plain["y"].values).all()


def test_design_and_runs_do_not_depend_on_chunks(ensembles, tmp_path: Path) -> None:
    from sdmodel.testing import file_contents

    again = tmp_path / "s.nc"
    assert sweep(again, "saltelli", 64, "--chunk", 7).exit_code == 0
    assert file_contents(again) == file_contents(ensembles["saltelli"])


def test_another_model_saves_its_time_varying_variables(tmp_path: Path) -> None:
    from sdmodel.io.netcdf import open_netcdf

    out = tmp_path / "r.nc"
    result = invoke("sweep", "--model", MODEL, "--spec", SPEC, "--runs", 8, "--out", out)
    assert result.exit_code == 0, result.output
    assert "1 scenarios x 8 runs" in result.output
    with open_netcdf(out) as ds:
        model = sorted(str(v) for v in ds.data_vars if "time" in ds[v].dims)
        assert model == ["y"]  # the auxiliary; the constants are the param_* variables
        assert list(ds["scenario"].values) == ["baseline"]
        assert ds.attrs["title"] == "Monte Carlo ensemble of ishigami.mdl runs"
    assert not (tmp_path / "r_figures").exists()  # no fan chart applies: no empty folder
