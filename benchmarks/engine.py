"""Benchmark the ensemble engine against pysd on the project model.

Usage: ``python benchmarks/engine.py [--sizes 1 1000 10000 100000] [--repeats 3] [--core 0]
[--load all|sweep] [--api arrays|dataset] [--backend numpy|jax]``

The model runs 2024-2050 at its TIME STEP and saves ``sdmodel.model.variables.DEFAULT_SAVED``
(the default saved variables of runs and sweeps) at SAVEPER. Two parameter loads:

``all`` (default)
    every scalar constant perturbed per run by a factor in [0.8, 1.2]: the worst case, as
    nothing is run-invariant and nothing can be hoisted out of the time loop.
``sweep``
    the sweep's own Monte Carlo load: a Latin hypercube sample of
    ``scenarios/uncertainty.toml`` (drawn in this process, handed to the child in a file).

Each size runs in a fresh child process pinned to one core, so ``ru_maxrss`` is that
run's peak memory. The child times the first call (which also pays the first touch of the
freshly allocated output memory) and then ``--repeats`` further calls, reporting the best
(``timeit`` practice: the minimum is the least disturbed by the shared machine). Repeats
are skipped for sizes above 10,000 (and for those the peak RSS is the first call's).
``--api arrays`` (default) times :meth:`CompiledModel.run_arrays`; ``dataset`` times
:meth:`CompiledModel.run`, which wraps the same arrays (views, no copy) in an xarray
Dataset and so also imports xarray and pandas. ``--backend jax`` times the engine with its
time loop compiled by XLA (:mod:`sdmodel.engine.jaxloop`); its first call at each size
includes the compilation (seconds), the best of the repeats does not. pysd's seconds per
run are measured in this process on the same model, saving the same variables (3 runs
after a warm-up run).
The load average is printed before and after: the machine is shared, so timings are noisy.
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
from sdmodel.io.paths import MODEL_PATH
from sdmodel.model.variables import DEFAULT_SAVED

MAX_REPEAT_SIZE = 10_000


def saved_variables(cm, variables: list | None) -> list:
    """Python names of the benchmarked variables (default: ``DEFAULT_SAVED``)."""
    return [cm.resolve(v) for v in (variables or DEFAULT_SAVED)]


def load_params(cm, n: int, load: str, sample_file: Path | None) -> dict:
    """Per-run parameters of the benchmark load (see the module docstring)."""
    if load == "all":
        rng = np.random.default_rng(0)
        return {k: v * rng.uniform(0.8, 1.2, n) for k, v in cm.constants.items() if np.ndim(v) == 0}
    with np.load(sample_file) as f:
        names = [str(x) for x in f["names"]]
        return {name: f["values"][:n, j].copy() for j, name in enumerate(names)}


def rss_mib() -> float:
    """Current resident memory in MiB (Linux)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def engine_child(args: argparse.Namespace) -> dict:
    """Run N runs (first call, then repeats) in this process; report seconds and memory."""
    n = args.child
    cm = compile_model(args.model)
    names = saved_variables(cm, args.variables)
    params = load_params(cm, n, args.load, args.sample_file)
    run = cm.run if args.api == "dataset" else cm.run_arrays

    def call(*a, **k):
        return run(*a, backend=args.backend, **k)

    call(1, params={k: v[:1] for k, v in params.items()}, variables=names)  # warm-up
    before = rss_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    out = call(n, params=params, variables=names)
    first, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    arrays = out.data_vars.values() if args.api == "dataset" else out[0].values()
    saved = sum(a.nbytes for a in arrays)
    del out, arrays
    best = first
    for _ in range(args.repeats if n <= MAX_REPEAT_SIZE else 0):
        t0 = time.perf_counter()
        out = call(n, params=params, variables=names)
        best = min(best, time.perf_counter() - t0)
        del out
    return {
        "n": n,
        "first": first,
        "cpu_first": cpu,
        "best": best,
        "repeats": args.repeats if n <= MAX_REPEAT_SIZE else 0,
        "rss_before_mib": before,
        "peak_rss_mib": peak,
        "saved_bytes": saved,
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


def write_sweep_sample(n: int, path: Path) -> int:
    """Draw the sweep's Latin hypercube sample of ``n`` runs into ``path``; return width."""
    from sdmodel.experiments.sampling import sample
    from sdmodel.experiments.sweep import DEFAULT_SEED, DEFAULT_SPEC
    from sdmodel.experiments.uncertainty import load_spec

    drawn = sample(load_spec(DEFAULT_SPEC), n, seed=DEFAULT_SEED)
    np.savez(path, names=np.array(drawn.names), values=drawn.values)
    return len(drawn.names)


def load() -> str:
    """The load average, as ``uptime`` prints it."""
    return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=MODEL_PATH)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 1000, 10000, 100000])
    ap.add_argument("--repeats", type=int, default=3, help="timed calls after the first")
    ap.add_argument("--load", choices=["all", "sweep"], default="all")
    ap.add_argument("--api", choices=["arrays", "dataset"], default="arrays")
    ap.add_argument("--backend", choices=["numpy", "jax"], default="numpy")
    ap.add_argument("--variables", nargs="+", default=None, help="default: DEFAULT_SAVED")
    ap.add_argument("--core", type=int, default=0, help="CPU core to pin to")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--sample-file", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.sched_setaffinity(0, {args.core})  # inherited by the child processes
    if args.child is not None:
        print(json.dumps(engine_child(args)))
        return
    cm = compile_model(args.model)  # fill the cache once
    names = saved_variables(cm, args.variables)
    cols = sum(int(np.prod(cm.elements[v]["shape"])) for v in names)
    what = "custom variables" if args.variables else "sdmodel.model.variables.DEFAULT_SAVED"
    print(f"model: {args.model}")
    print(f"saved: {len(names)} variables ({cols} columns) = {what}")
    with tempfile.TemporaryDirectory() as tmp:
        sample_file = Path(tmp) / "sample.npz"
        if args.load == "sweep":
            k = write_sweep_sample(max(args.sizes), sample_file)
            print(f"load: sweep (LHS sample of scenarios/uncertainty.toml, {k} columns)")
        else:
            print("load: all (every scalar constant varied per run)")
        print(f"api: CompiledModel.{'run' if args.api == 'dataset' else 'run_arrays'}")
        print(f"backend: {args.backend}")
        print(f"pinned to core {args.core} of {os.cpu_count()}; before: {load()}")
        rates = {}
        for n in args.sizes:
            cmd = [sys.executable, __file__, "--model", str(args.model), "--child", str(n)]
            cmd += ["--core", str(args.core), "--repeats", str(args.repeats)]
            cmd += ["--load", args.load, "--api", args.api, "--sample-file", str(sample_file)]
            cmd += ["--backend", args.backend]
            if args.variables:
                cmd += ["--variables", *args.variables]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rates[n] = n / r["best"]
            best = f"best of {r['repeats'] + 1} {r['best']:7.3f} s" if r["repeats"] else ""
            print(
                f"engine N={n:>7}: first {r['first']:7.3f} s (cpu {r['cpu_first']:7.3f}) "
                f"{best:>22}  {rates[n]:9.0f} runs/s  peak RSS {r['peak_rss_mib']:7.1f} MiB "
                f"= {r['peak_rss_mib'] * 2**20 / 1e9:5.3f} GB (before run "
                f"{r['rss_before_mib']:5.1f} MiB; saved data {r['saved_bytes'] / 1e9:5.3f} GB)"
            )
    spr = pysd_seconds_per_run(args.model, args.variables)
    print(f"pysd (same variables, mean of 3 runs): {spr:.3f} s/run  {1 / spr:.3f} runs/s")
    for n, rate in rates.items():
        print(f"throughput ratio engine/pysd at N={n:>7}: {rate * spr:10.0f}x")
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
