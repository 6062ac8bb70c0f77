"""``sdmodel sweep``: determinism, chunking, Dask, sampled marginals, invalid specs, atomicity.

Small ensembles (64 to 160 runs, yearly saves, three variables) on the real model keep
this file fast.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from sdmodel.cli import main
from sdmodel.errors import SdmodelError
from sdmodel.experiments.distributions import Discrete
from sdmodel.experiments.sweep import DEFAULT_SPEC, SweepOptions, run_sweep
from sdmodel.experiments.uncertainty import load_spec
from sdmodel.io.ensemble import param_var_name
from sdmodel.io.netcdf import open_netcdf
from sdmodel.io.paths import MODEL_PATH
from sdmodel.testing import file_contents

pytestmark = pytest.mark.skipif(not MODEL_PATH.is_file(), reason="model file missing")

VARS = "Unemployment rate,Wage,AWf balance"
N = 160
#: KS test level for the sampled marginals (LHS makes the empirical CDF very close).
KS_LEVEL = 0.01


def sweep(out: Path, *args: str) -> object:
    """Run ``sdmodel sweep`` in-process with small defaults; returns the click Result."""
    argv = ["sweep", "--out", str(out), "--vars", VARS, "--quiet", "--no-figures", *args]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The same sweep four ways: chunk 64, again, chunk 50, Dask with 2 workers."""
    base = tmp_path_factory.mktemp("sweeps")
    paths = {}
    for key, extra in {
        "a": ["--chunk", "64"],
        "again": ["--chunk", "64"],
        "chunk50": ["--chunk", "50"],
    }.items():
        (base / key).mkdir()
        paths[key] = base / key / "ensemble.nc"
        result = sweep(paths[key], "--runs", str(N), *extra)
        assert result.exit_code == 0, result.output
    return paths


def test_same_seed_bit_identical(runs) -> None:
    a, again = file_contents(runs["a"]), file_contents(runs["again"])
    assert a.keys() == again.keys()
    for key in a:
        assert a[key] == again[key], key


def test_chunk_size_does_not_matter(runs) -> None:
    a, other = file_contents(runs["a"]), file_contents(runs["chunk50"])
    for key in a:
        assert a[key] == other[key], key


def same_summary(a: Path, b: Path) -> None:
    """The summaries next to two ensemble files are identical (but for history)."""
    first, second = (file_contents(p.with_name("summary.nc")) for p in (a, b))
    assert first.keys() == second.keys()
    for key in first:
        assert first[key] == second[key], key


def test_summary_does_not_depend_on_chunks(runs) -> None:
    same_summary(runs["a"], runs["chunk50"])


def test_different_seed_differs(tmp_path, runs) -> None:
    out = tmp_path / "ensemble.nc"
    assert sweep(out, "--runs", str(N), "--seed", "1").exit_code == 0
    with netCDF4.Dataset(out) as b, netCDF4.Dataset(runs["a"]) as a:
        assert int(b.seed) == 1
        assert not np.array_equal(a["wage"][:], b["wage"][:])


def test_dask_local_cluster_equals_in_process(tmp_path, runs) -> None:
    pytest.importorskip("distributed")
    out = tmp_path / "ensemble.nc"
    result = sweep(out, "--runs", str(N), "--chunk", "40", "--workers", "2")
    assert result.exit_code == 0, result.output
    a, dask = file_contents(runs["a"]), file_contents(out)
    for key in a:
        assert a[key] == dask[key], key
    same_summary(runs["a"], out)  # chunks streamed into the summary as they completed


def test_existing_scheduler_equals_in_process(tmp_path, runs) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},  # not 8787: tests run in parallel
    ) as cluster:
        out = tmp_path / "ensemble.nc"
        result = sweep(
            out, "--runs", str(N), "--chunk", "100", "--scheduler", cluster.scheduler_address
        )
        assert result.exit_code == 0, result.output
    a, remote = file_contents(runs["a"]), file_contents(out)
    for key in a:
        assert a[key] == remote[key], key


def test_samples_shared_across_scenarios_and_provenance(runs) -> None:
    with netCDF4.Dataset(runs["a"]) as nc:
        assert list(nc["scenario_label"][:]) == ["conservative", "central", "explosive"]
        assert nc.dimensions["run"].size == N
        assert int(nc.seed) == 20241125 and nc.sampler == "lhs" and int(nc.n_runs) == N
        assert nc.uncertainty_spec_toml == DEFAULT_SPEC.read_text(encoding="utf-8")
        assert len(nc.model_sha256) == 64 and len(nc.uncertainty_spec_sha256) == 64
        assert "sdmodel sweep" in nc.history and "--runs 160" in nc.history
        for name in ("param_matching_elasticity", "param_automation_ceiling_high"):
            assert nc[name].dimensions == ("run",)


def test_sampled_marginals_match_distributions(runs) -> None:
    """KS test (level 0.01) per continuous parameter; exact LHS counts for discrete ones."""
    spec = load_spec(DEFAULT_SPEC)
    with netCDF4.Dataset(runs["a"]) as nc:
        for p in spec.parameters:
            values = np.asarray(nc[param_var_name(p.name)][:])
            assert nc[param_var_name(p.name)].long_name == p.name
            dist = p.distribution
            lo, hi = dist.bounds
            assert values.min() >= lo and values.max() <= hi, p.name
            if isinstance(dist, Discrete):
                counts = np.array([(values == v).sum() for v in dist.values])
                np.testing.assert_allclose(counts / N, dist.probabilities, atol=1.5 / N)
            else:
                assert stats.kstest(values, dist.cdf).pvalue > KS_LEVEL, p.name


def test_sampled_values_reach_the_model(runs) -> None:
    """The sampled constants change the outcome: runs differ in every scenario."""
    with netCDF4.Dataset(runs["a"]) as nc:
        assert "param_scarring_factor" in nc.variables
        last = np.asarray(nc["unemployment_rate"][-1])  # (scenario, run) at the last time
        assert np.std(last, axis=1).min() > 0


SPEC_OK = """
[[parameter]]
name = "Scarring factor"
distribution = "uniform"
lower = 0.3
upper = 0.8
rationale = "model comment"

[[parameter]]
name = "Matching elasticity"
distribution = "uniform"
lower = 0.3
upper = 0.7
rationale = "model comment"
"""

BAD_SPECS = {
    "unknown constant": (
        SPEC_OK.replace("Scarring factor", "Scaring factor"),
        "Scaring factor",
    ),
    "unknown element": (
        SPEC_OK.replace('"Scarring factor"', '"Automation ceiling[medium]"'),
        "Automation ceiling[medium]",
    ),
    "element of a scalar": (
        SPEC_OK.replace('"Scarring factor"', '"Scarring factor[low]"'),
        "Scarring factor[low]",
    ),
    "not a constant": (
        SPEC_OK.replace('"Scarring factor"', '"Unemployment rate"'),
        "Unemployment rate",
    ),
    "bad bounds": (SPEC_OK.replace("upper = 0.8", "upper = 0.2"), "Scarring factor"),
    "bad distribution": (
        SPEC_OK.replace('"uniform"', '"gamma"', 1),
        "Scarring factor",
    ),
    "missing rationale": (
        SPEC_OK.replace('rationale = "model comment"', "", 1),
        "Scarring factor",
    ),
    "non-PD correlation": (
        SPEC_OK
        + """
[[parameter]]
name = "Course duration"
distribution = "uniform"
lower = 0.25
upper = 2.0
source = "model comment"

[[correlation]]
between = ["Scarring factor", "Matching elasticity"]
rank = 0.9
[[correlation]]
between = ["Scarring factor", "Course duration"]
rank = 0.9
[[correlation]]
between = ["Matching elasticity", "Course duration"]
rank = -0.9
""",
        "not positive definite",
    ),
    "malformed TOML": ("[[parameter]\nname = 1", "malformed TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_invalid_spec_exits_2_naming_the_entry(tmp_path, case) -> None:
    text, needle = BAD_SPECS[case]
    spec = tmp_path / "spec.toml"
    spec.write_text(text, encoding="utf-8")
    out = tmp_path / "out" / "ensemble.nc"
    out.parent.mkdir()
    result = CliRunner().invoke(
        main, ["sweep", "--spec", str(spec), "--out", str(out), "--runs", "8", "--quiet"]
    )
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sdmodel: error:"), result.output
    assert needle in lines[0] and "spec.toml" in lines[0], lines[0]
    assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--vars", "No such variable"], "No such variable"),
        (["--scenario", "no_such_scenario"], "no_such_scenario"),
        (["--runs", "0"], "--runs"),
        (["--saveper", "0.3"], "--saveper"),
        (["--workers", "2", "--scheduler", "tcp://x:1"], "--scheduler"),
    ],
)
def test_invalid_options_exit_2(tmp_path, args, needle) -> None:
    out = tmp_path / "ensemble.nc"
    result = CliRunner().invoke(main, ["sweep", "--out", str(out), "--quiet", *args])
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
def test_interrupted_sweep_leaves_no_file(tmp_path, monkeypatch, error) -> None:
    from sdmodel.io import ensemble as ensemble_io

    calls = []
    original = ensemble_io.EnsembleWriter.write

    def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise error("interrupted")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ensemble_io.EnsembleWriter, "write", failing)
    options = SweepOptions(
        n_runs=40, chunk=10, out=tmp_path / "ensemble.nc", variables=("Wage",), figures=False
    )
    with pytest.raises((error, SdmodelError)):
        run_sweep(options)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_survives_failed_sweep(tmp_path) -> None:
    out = tmp_path / "ensemble.nc"
    out.write_bytes(b"old")
    spec = tmp_path / "bad.toml"
    spec.write_text(BAD_SPECS["unknown constant"][0], encoding="utf-8")
    result = sweep(out, "--spec", str(spec))
    assert result.exit_code == 2
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "ensemble.nc"]


def test_sobol_and_random_samplers(tmp_path) -> None:
    for sampler in ("sobol", "random"):
        out = tmp_path / sampler / "ensemble.nc"
        out.parent.mkdir()
        options = SweepOptions(
            n_runs=64,
            sampler=sampler,
            out=out,
            variables=("Unemployment rate",),
            scenarios=("central",),
            figures=False,
        )
        run_sweep(options)
        again = dataclasses.replace(options, out=out.with_name("again.nc"), chunk=7)
        run_sweep(again)
        a, b = file_contents(out), file_contents(again.out)
        assert all(a[k] == b[k] for k in a), sampler
        with netCDF4.Dataset(out) as nc:
            assert nc.sampler == sampler


def test_sweep_json_matches_the_summary_file(tmp_path) -> None:
    import json

    out = tmp_path / "e.nc"
    result = sweep(
        out,
        "--runs",
        "16",
        "--scenario",
        "central",
        "--json",
        "--vars",
        "Unemployment rate,Labour income share,WW outlays",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["files"]["ensemble"] == str(out) and doc["runs_per_scenario"] == 16
    assert doc["files"]["summary"] == str(tmp_path / "e_summary.nc")
    with open_netcdf(tmp_path / "e_summary.nc") as ds:
        years = ds["decimal_year"].values
        pct = [float(p) for p in ds["percentile"].values]
        assert len(doc["summary"]) == 3 * 3  # three years, three indicators
        for row in doc["summary"]:
            k = int(np.argmin(np.abs(years - row["year"])))
            var = ds[row["variable"]].sel(scenario=row["scenario"]).isel(time=k)
            assert row["p50"] == float(var.isel(percentile=pct.index(50.0)))
            assert row["p5"] <= row["p50"] <= row["p95"]
