"""Benchmark the ensemble engine against pysd on the project model.

Usage: ``python benchmarks/engine.py [--model PATH] [--sizes 1 1000 10000 100000]``

Each engine size runs in a fresh subprocess (so ``ru_maxrss`` is that run's peak memory),
saving the default outputs at SAVEPER, with every scalar constant perturbed per run by a
factor in [0.8, 1.2] (an honest Monte Carlo load: no run-independent shortcuts). pysd's
seconds per run are measured on the same model (3 runs, after one warm-up run).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from sdmodel.engine import compile_model
from sdmodel.paths import MODEL_PATH


def engine_once(model: Path, n: int, variables: list | None = None) -> dict:
    """Run N runs once (in this process) and report seconds and peak RSS."""
    cm = compile_model(model)
    rng = np.random.default_rng(0)
    params = {k: v * rng.uniform(0.8, 1.2, n) for k, v in cm.constants.items()
              if np.ndim(v) == 0}
    cm.run(1, params={k: v[:1] for k, v in params.items()})  # exec/compile warm-up
    t0 = time.perf_counter()
    ds = cm.run(n, params=params, variables=variables)
    sec = time.perf_counter() - t0
    return {"n": n, "seconds": sec, "peak_rss_mb":
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "saved_mb": ds.nbytes / 2**20}


def pysd_seconds_per_run(model: Path, repeats: int = 3) -> float:
    import pysd

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copy = Path(tmp) / model.name
        shutil.copy(model, copy)
        m = pysd.read_vensim(str(copy))
        cols = compile_model(model).default_outputs
        m.run(return_columns=cols)
        t0 = time.perf_counter()
        for _ in range(repeats):
            m.run(return_columns=cols)
        return (time.perf_counter() - t0) / repeats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=MODEL_PATH)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 1000, 10000, 100000])
    ap.add_argument("--variables", nargs="+", default=None,
                    help="saved variables (default: the model's default outputs)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(engine_once(args.model, args.child, args.variables)))
        return
    compile_model(args.model)  # fill the cache once
    print(f"model: {args.model}")
    best = 0.0
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--model", str(args.model), "--child", str(n)]
        if args.variables:
            cmd += ["--variables", *args.variables]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        best = max(best, n / r["seconds"])
        print(f"engine N={n:>7}: {r['seconds']:8.3f} s  {n / r['seconds']:12.1f} runs/s  "
              f"peak RSS {r['peak_rss_mb']:8.1f} MB  (saved data {r['saved_mb']:.1f} MB)")
    spr = pysd_seconds_per_run(args.model)
    print(f"pysd: {spr:.3f} s/run  {1 / spr:.3f} runs/s")
    print(f"throughput ratio engine/pysd (best N): {best * spr:.0f}x")


if __name__ == "__main__":
    main()
