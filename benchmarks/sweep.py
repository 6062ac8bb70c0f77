"""Benchmark ``sdmodel sweep``: wall time and peak memory, files included.

Usage: ``python benchmarks/sweep.py [--runs 10000 100000] [--repeat N] [--float32] [--workers N]
[--baseline REV]``

Each case is one ``sdmodel sweep`` (default scenarios conservative, central, explosive;
default saved variables; yearly saves; ensemble, summary and fan charts written) in a
fresh child process, so the peak resident memory reported is that sweep's own
(``ru_maxrss`` from ``os.wait4``; with ``--workers`` it covers the main process only).
Wall time is measured around the child, interpreter start-up and imports included.
Files go to a temporary directory that is removed afterwards (``--keep DIR`` keeps them).
The load average is printed before and after: the machine may be shared. Each case also
reports the CPU seconds that other processes used while it ran (from ``/proc/stat``,
where available); with ``--repeat N`` it runs N times and reports min and median.

``--baseline REV`` measures the same sweeps with the code of git revision ``REV`` (exported
with ``git archive`` into the temporary directory, with its own cache, warmed by a small
sweep first) in the same session, alternating baseline and current case by case, and
prints the ratio of the median wall times: how a change (say, the time-first file layout)
moved the speed, measured under the same machine load.
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


def export_tree(rev: str, directory: Path) -> Path:
    """The source tree of git revision ``rev`` under ``directory`` (``git archive``)."""
    root = Path(__file__).resolve().parent.parent
    tree = directory / f"tree-{rev}"
    tree.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", rev],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise SystemExit(f"--baseline {rev}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    cache = tree / ".cache"
    cache.mkdir(mode=0o700)
    return tree


def run_case(
    n_runs: int, directory: Path, extra: list[str], tree: Path | None = None
) -> dict[str, float]:
    """One sweep of ``n_runs`` per scenario in a child process; returns its figures.

    With ``tree``, the child imports ``sdmodel`` from that source tree, so the model,
    scenarios and uncertainty specification are that tree's too, and uses its own cache.
    """
    out = directory / ("baseline" if tree else "current") / f"n{n_runs}" / "ensemble.nc"
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
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
        env["SDMODEL_CACHE_DIR"] = str(tree / ".cache")
    busy0 = _busy_cpu_s()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=tree or None
    )
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


def print_row(label: str, r: dict[str, float]) -> None:
    print(
        f"{label:>18} {r['wall_s']:8.2f} {r['cpu_s']:7.1f} "
        f"{r['other_cpu_s']:12.2f} {r['peak_rss_mb']:12.0f} "
        f"{r['ensemble_mb']:12.1f} {r['summary_mb']:11.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (min, median)")
    parser.add_argument("--float32", action="store_true", help="pass --float32")
    parser.add_argument("--workers", type=int, default=None, help="pass --workers N")
    parser.add_argument("--keep", type=Path, default=None, help="keep the files in DIR")
    parser.add_argument(
        "--baseline", metavar="REV", help="also time git revision REV, alternating with HEAD"
    )
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
        trees: list[tuple[str, Path | None]] = [("", None)]
        if args.baseline:
            base = export_tree(args.baseline, directory)
            run_case(10, directory, extra, base)  # warm its cache: translation and compile
            run_case(10, directory, extra)
            trees = [(f"{args.baseline[:10]} ", base), ("current ", None)]
        for n in args.runs:
            walls: dict[str, list[float]] = {label: [] for label, _ in trees}
            for _ in range(max(1, args.repeat)):
                for label, tree in trees:  # alternating: both see the same machine load
                    r = run_case(n, directory, extra, tree)
                    walls[label].append(r["wall_s"])
                    print_row(f"{label}3 x {n:,}", r)
            for label, w in walls.items():
                if len(w) > 1:
                    print(
                        f"{f'{label}3 x {n:,}':>18} wall min {min(w):.2f} s, "
                        f"median {statistics.median(w):.2f} s",
                        flush=True,
                    )
            if args.baseline:
                (b_label, _), (c_label, _) = trees
                ratio = statistics.median(walls[c_label]) / statistics.median(walls[b_label])
                print(
                    f"3 x {n:,}: current / {args.baseline} median wall time = {ratio:.3f}",
                    flush=True,
                )
    finally:
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
