"""Benchmark ``sdmodel sweep``: wall time and peak memory, files included.

Usage: ``python benchmarks/sweep.py [--runs 10000 100000] [--repeat N] [--float32] [--workers N]``

Each case is one ``sdmodel sweep`` (default scenarios conservative, central, explosive;
default saved variables; yearly saves; ensemble, summary and fan charts written) in a
fresh child process, so the peak resident memory reported is that sweep's own
(``ru_maxrss`` from ``os.wait4``; with ``--workers`` it covers the main process only).
Wall time is measured around the child, interpreter start-up and imports included.
Files go to a temporary directory that is removed afterwards (``--keep DIR`` keeps them).
The load average is printed before and after: the machine may be shared. Each case also
reports the CPU seconds that other processes used while it ran (from ``/proc/stat``,
where available); with ``--repeat N`` it runs N times and reports min and median.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _busy_cpu_s() -> float:
    """CPU seconds all processes have used since boot (NaN without ``/proc/stat``)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            ticks = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return float("nan")
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # not idle, iowait


def run_case(n_runs: int, directory: Path, extra: list[str]) -> dict[str, float]:
    """One sweep of ``n_runs`` per scenario in a child process; returns its figures."""
    out = directory / f"n{n_runs}" / "ensemble.nc"
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-c",
        "from sdmodel.cli import main; main()",
        "sweep",
        "--runs",
        str(n_runs),
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]
    busy0 = _busy_cpu_s()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    own = usage.ru_utime + usage.ru_stime
    other = _busy_cpu_s() - busy0 - own  # NaN without /proc/stat
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"sweep of {n_runs} runs failed ({proc.returncode}):\n{err}")
    return {
        "wall_s": wall,
        "cpu_s": own,
        "other_cpu_s": other,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "ensemble_mb": out.stat().st_size / 1e6,
        "summary_mb": out.with_name("summary.nc").stat().st_size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (min, median)")
    parser.add_argument("--float32", action="store_true", help="pass --float32")
    parser.add_argument("--workers", type=int, default=None, help="pass --workers N")
    parser.add_argument("--keep", type=Path, default=None, help="keep the files in DIR")
    args = parser.parse_args()
    extra = ["--float32"] if args.float32 else []
    if args.workers:
        extra += ["--workers", str(args.workers)]
    directory = args.keep or Path(tempfile.mkdtemp(prefix="sdmodel-bench-"))
    print(f"load average before: {os.getloadavg()[0]:.2f} (cpus: {os.cpu_count()})")
    print(f"sdmodel sweep {' '.join(extra) or '(defaults)'}; 3 scenarios, default variables")
    header = (
        f"{'runs':>18} {'wall s':>8} {'CPU s':>7} {'other CPU s':>12} {'peak RSS MB':>12} "
        f"{'ensemble MB':>12} {'summary MB':>11}"
    )
    print(header)
    print("-" * len(header))
    try:
        for n in args.runs:
            walls = []
            for _ in range(max(1, args.repeat)):
                r = run_case(n, directory, extra)
                walls.append(r["wall_s"])
                print(
                    f"{f'3 x {n:,}':>18} {r['wall_s']:8.2f} {r['cpu_s']:7.1f} "
                    f"{r['other_cpu_s']:12.2f} {r['peak_rss_mb']:12.0f} "
                    f"{r['ensemble_mb']:12.1f} {r['summary_mb']:11.2f}",
                    flush=True,
                )
            if len(walls) > 1:
                print(
                    f"{f'3 x {n:,}':>18} wall min {min(walls):.2f} s, "
                    f"median {statistics.median(walls):.2f} s",
                    flush=True,
                )
    finally:
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
