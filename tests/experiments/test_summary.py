"""Summary statistics: streamed in memory during a sweep or read back from the file, same bits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sdmodel.experiments.summary import PERCENTILES, StreamingSummary, run_stats, summarize
from sdmodel.experiments.sweep import SweepOptions, run_sweep
from sdmodel.io.paths import MODEL_PATH
from sdmodel.testing import file_contents

SHAPES = {"a": (4,), "b": (3, 4), "c": (4,)}


def chunks(n_scen: int, n: int, size: int, dtype=np.float64, seed: int = 0):
    """Random ``(scenario, start, arrays)`` chunks and the full per-scenario arrays."""
    rng = np.random.default_rng(seed)
    full = {
        name: rng.standard_normal((n_scen, n, *shape)).astype(dtype)
        for name, shape in SHAPES.items()
    }
    out = [
        (s, a, {name: v[s, a : a + size] for name, v in full.items()})
        for s in range(n_scen)
        for a in range(0, n, size)
    ]
    return out, full


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_streaming_equals_direct_whatever_the_order(dtype) -> None:
    parts, full = chunks(3, 50, 7, dtype)
    order = np.random.default_rng(1).permutation(len(parts))  # Dask: as they complete
    stream = StreamingSummary(SHAPES, 3, 50)
    try:
        for i in order:
            stream.add(*parts[i])
        stats = stream.result()
    finally:
        stream.close()
    assert sorted(stats) == sorted(SHAPES)
    for name, values in full.items():
        pct, mean = stats[name]
        assert pct.shape == (3, len(PERCENTILES), *SHAPES[name])
        for s in range(3):
            want = run_stats(np.ascontiguousarray(values[s], dtype=np.float64), PERCENTILES)
            assert np.array_equal(pct[s], want[0]) and np.array_equal(mean[s], want[1])
            assert np.array_equal(pct[s], np.percentile(values[s].astype(float), PERCENTILES, 0))


def test_budget_keeps_leading_variables_that_fit() -> None:
    per_run = {name: 8 * int(np.prod(shape)) for name, shape in SHAPES.items()}
    n = 10
    assert StreamingSummary(SHAPES, 1, n, budget=0).names == []
    assert StreamingSummary(SHAPES, 1, n, budget=n * per_run["a"]).names == ["a"]
    both = n * (per_run["a"] + per_run["b"])
    assert StreamingSummary(SHAPES, 1, n, budget=both).names == ["a", "b"]
    assert StreamingSummary(SHAPES, 1, n).names == ["a", "b", "c"]


def test_incomplete_scenario_is_an_error() -> None:
    parts, _ = chunks(2, 20, 5)
    stream = StreamingSummary(SHAPES, 2, 20)
    try:
        for part in parts[:-1]:
            stream.add(*part)
        with pytest.raises(RuntimeError, match=r"\[1\]"):
            stream.result()
    finally:
        stream.close()


@pytest.mark.skipif(not MODEL_PATH.is_file(), reason="model file missing")
@pytest.mark.parametrize("float32", [False, True])
def test_in_memory_summary_equals_read_back(tmp_path, float32) -> None:
    """Streamed (whole or in part) and read-back summaries are the same file, bit for bit."""
    base = SweepOptions(
        n_runs=40,
        chunk=15,
        variables=("Unemployment rate", "Wage", "AWf balance"),
        figures=False,
        float32=float32,
    )
    # the budget per scenario: all three variables, only the first, none
    budgets = {"all": base.summary_memory, "part": 40 * 8 * 30, "none": 0}
    files = {}
    for key, budget in budgets.items():
        out = tmp_path / key / "ensemble.nc"
        out.parent.mkdir()
        run_sweep(dataclasses.replace(base, out=out, summary_memory=budget), command="x")
        files[key] = out
    # the same ensemble summarized from disk alone, as a user would
    again = summarize(files["all"], tmp_path / "again.nc", command="x", ensemble_name="ensemble.nc")
    want = file_contents(files["all"].with_name("summary.nc"))
    for path in (*(p.with_name("summary.nc") for p in files.values()), again):
        got = file_contents(path)
        assert got.keys() == want.keys()
        for name in want:
            assert got[name] == want[name], (path, name)
