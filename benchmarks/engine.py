"""Benchmark the ensemble engine against pysd on the project model.

Usage: ``python benchmarks/engine.py [--model PATH] [--sizes 1 1000 10000 100000] [--core 0]``

Each engine size runs in a fresh subprocess (so ``ru_maxrss`` is that run's peak memory),
saving ``sdmodel.variables.DEFAULT_SAVED`` (the default saved variables of runs and
sweeps) at SAVEPER, with every scalar constant perturbed per run by a factor in [0.8, 1.2]
(an honest Monte Carlo load: no run-independent shortcuts). Everything is pinned to one
core. pysd's seconds per run are measured in this process on the same model, saving the
same variables (3 runs, after one warm-up run). The load average is printed before and
after: the machine is shared, so timings are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
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
from sdmodel.variables import DEFAULT_SAVED


def saved_variables(cm, variables: list | None) -> list:
    """Python names of the benchmarked variables (default: ``DEFAULT_SAVED``)."""
    return [cm.resolve(v) for v in (variables or DEFAULT_SAVED)]


def engine_once(model: Path, n: int, variables: list | None = None) -> dict:
    """Run N runs once (in this process) and report seconds and peak RSS."""
    cm = compile_model(model)
    names = saved_variables(cm, variables)
    rng = np.random.default_rng(0)
    params = {k: v * rng.uniform(0.8, 1.2, n) for k, v in cm.constants.items() if np.ndim(v) == 0}
    cm.run(1, params={k: v[:1] for k, v in params.items()}, variables=names)  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    ds = cm.run(n, params=params, variables=names)
    sec, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "n": n,
        "seconds": sec,
        "cpu_seconds": cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "saved_mb": ds.nbytes / 2**20,
        "shape": dict(ds.sizes),
    }


def pysd_seconds_per_run(model: Path, variables: list | None, repeats: int = 3) -> float:
    """pysd's mean wall-clock seconds per run, saving the same variables."""
    import pysd

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copy = Path(tmp) / model.name
        shutil.copy(model, copy)
        m = pysd.read_vensim(str(copy))
        cols = saved_variables(compile_model(model), variables)
        m.run(return_columns=cols)
        t0 = time.perf_counter()
        for _ in range(repeats):
            m.run(return_columns=cols)
        return (time.perf_counter() - t0) / repeats


def load() -> str:
    """The load average, as ``uptime`` prints it."""
    return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=MODEL_PATH)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 1000, 10000, 100000])
    ap.add_argument(
        "--variables",
        nargs="+",
        default=None,
        help="saved variables (default: sdmodel.variables.DEFAULT_SAVED)",
    )
    ap.add_argument("--core", type=int, default=0, help="CPU core to pin to")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.sched_setaffinity(0, {args.core})  # inherited by the child processes
    if args.child is not None:
        print(json.dumps(engine_once(args.model, args.child, args.variables)))
        return
    cm = compile_model(args.model)  # fill the cache once
    names = saved_variables(cm, args.variables)
    cols = sum(int(np.prod(cm.elements[v]["shape"])) for v in names)
    what = "custom variables" if args.variables else "sdmodel.variables.DEFAULT_SAVED"
    print(f"model: {args.model}")
    print(f"saved: {len(names)} variables ({cols} columns) = {what}")
    print(f"pinned to core {args.core} of {os.cpu_count()}; before: {load()}")
    rates = {}
    for n in args.sizes:
        cmd = [
            sys.executable,
            __file__,
            "--model",
            str(args.model),
            "--child",
            str(n),
            "--core",
            str(args.core),
        ]
        if args.variables:
            cmd += ["--variables", *args.variables]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rates[n] = n / r["seconds"]
        print(
            f"engine N={n:>7}: {r['seconds']:8.3f} s (cpu {r['cpu_seconds']:7.3f} s) "
            f"{rates[n]:11.1f} runs/s  peak RSS {r['peak_rss_mb']:7.1f} MiB  "
            f"(saved data {r['saved_mb']:.1f} MiB)"
        )
    spr = pysd_seconds_per_run(args.model, args.variables)
    print(f"pysd (same variables, mean of 3 runs): {spr:.3f} s/run  {1 / spr:.3f} runs/s")
    for n, rate in rates.items():
        print(f"throughput ratio engine/pysd at N={n:>7}: {rate * spr:10.0f}x")
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
