"""Issue 13: a Dask cluster that fails in the middle of a sweep gets a clean answer.

Each case starts a real cluster (``dask scheduler`` and ``dask worker --no-nanny``
processes, so that a SIGKILL is a real death nobody restarts) and runs ``sdmodel sweep
--scheduler`` in a subprocess, so that everything the user would see on stderr,
distributed's own log records included, is asserted. The sweep kills workers or the
scheduler itself when the first chunk reaches the ensemble writer (a patched
``EnsembleWriter.write``), so the fault always strikes mid-sweep with chunks left.

* all workers die: exit 2 within about ``--worker-timeout``, one line;
* one of two workers dies while running a chunk: Dask runs it on the other, and the
  ensemble is bit-identical to a local sweep's;
* that, with ``allowed-failures = 0``: ``KilledWorker``, exit 2, one line naming the chunk;
* the scheduler dies, or stops answering (SIGSTOP): exit 2, one line, no hang.

A failed sweep leaves a previous ensemble, its summary and fan charts byte-identical and
no temporary beside them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sdmodel.io.paths import PROJECT_ROOT
from sdmodel.testing import file_contents
from tests.conftest import requires_model
from tests.io.test_safety import invoke, snapshot, temporaries

pytest.importorskip("distributed")

#: ``--worker-timeout`` of the sweeps (seconds).
TIMEOUT = 3
#: Seconds beyond TIMEOUT that a failing sweep may take after the fault (a loaded 2-core
#: machine; the sweep polls every second and closes its client).
SLACK = 15
#: Eight chunks of one run: the sweep is still running when the first chunk is written.
SWEEP = ("sweep", "--runs", "8", "--scenario", "central", "--chunk", "1", "--quiet")
#: Seconds the cluster may take to start (interpreters importing distributed).
START_TIMEOUT = 60
#: Seconds a sweep may take at most: longer is a hang (the sweep itself takes ~10 s).
SWEEP_TIMEOUT = 120


@dataclass
class Cluster:
    """A scheduler and its workers, each a process of its own."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]


@pytest.fixture
def shared_cache() -> Path:
    """The suite's cache (the real model is translated and compiled there once)."""
    from sdmodel.io.paths import cache_dir

    return cache_dir()


@pytest.fixture
def start_cluster(tmp_path, shared_cache) -> Iterator[Callable[..., Cluster]]:
    """``start_cluster(n_workers, **scheduler_env)``: a running cluster, killed at the end."""
    processes: list[subprocess.Popen] = []
    env = {**os.environ, "SDMODEL_CACHE_DIR": str(shared_cache), "PYTHONPATH": str(PROJECT_ROOT)}

    def spawn(module: str, *args: str, log: Path, **extra: str) -> subprocess.Popen:
        with log.open("w") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                env={**env, **extra},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        processes.append(proc)
        return proc

    def start(n_workers: int, **scheduler_env: str) -> Cluster:
        file = tmp_path / "scheduler.json"
        scheduler = spawn(
            "distributed.cli.dask_scheduler",
            *("--host", "127.0.0.1", "--port", "0", "--no-dashboard"),
            *("--scheduler-file", str(file)),
            log=tmp_path / "scheduler.log",
            **scheduler_env,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not file.is_file() or not file.read_text().strip():  # written once listening
            assert scheduler.poll() is None, (tmp_path / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.05)
        address = json.loads(file.read_text())["address"]
        workers = [
            spawn(
                "distributed.cli.dask_worker",
                *(address, "--nthreads", "1", "--no-nanny", "--no-dashboard"),
                log=tmp_path / f"worker{i}.log",
            )
            for i in range(n_workers)
        ]
        from distributed import Client

        with Client(address, timeout="20s") as client:
            client.wait_for_workers(n_workers, timeout=START_TIMEOUT)
        return Cluster(address, scheduler, workers)

    yield start
    for proc in processes:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)  # a stopped scheduler cannot die otherwise
            proc.kill()
        proc.wait()


def planted(out: Path) -> dict[str, bytes]:
    """A previous ensemble ``prev.nc``, its summary and fan charts (stand-ins)."""
    from sdmodel.plots.fans import FANS

    (out / "prev_figures").mkdir(parents=True)
    charts = [f"prev_figures/{fan.name}.png" for fan in FANS]
    for name in ("prev.nc", "prev_summary.nc", *charts):
        (out / name).write_bytes(f"previous {name}".encode())
    return snapshot(out)


def sweep_with_fault(
    kill: str, *args: object, cache: Path
) -> tuple[subprocess.CompletedProcess, float]:
    """``sdmodel sweep ARGS`` in a fresh interpreter that runs ``kill`` (Python source, one
    line that may use ``os``, ``signal`` and ``client``, the sweep's Dask client) when the
    first chunk reaches the writer.

    Returns the process and the seconds from the fault to its exit. A sweep that hangs
    fails the test after SWEEP_TIMEOUT seconds.
    """
    with tempfile.TemporaryDirectory() as tmp:
        stamp = Path(tmp) / "fault"
        script = textwrap.dedent(
            f"""
            import os, signal, time
            import sdmodel.io.ensemble as io
            original = io.EnsembleWriter.write
            def write(self, *a, **k):
                if not os.path.exists({str(stamp)!r}):
                    from distributed import default_client
                    client = default_client()
                    {kill}
                    open({str(stamp)!r}, "w").write(repr(time.time()))
                return original(self, *a, **k)
            io.EnsembleWriter.write = write
            from sdmodel.cli import main
            main()
            """
        )
        env = {**os.environ, "SDMODEL_CACHE_DIR": str(cache), "PYTHONPATH": str(PROJECT_ROOT)}
        proc = subprocess.run(
            [sys.executable, "-c", script, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=SWEEP_TIMEOUT,
            env=env,
            cwd=PROJECT_ROOT,
        )
        ended = time.time()
        assert stamp.is_file(), f"the fault never struck:\n{proc.stderr}"
        return proc, ended - float(stamp.read_text())


def assert_one_line(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit status 2 and one line on stderr that holds every fragment."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sdmodel: error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def assert_untouched(out: Path, before: dict[str, bytes]) -> None:
    assert snapshot(out) == before
    assert temporaries(out) == []
    assert not [p for p in out.iterdir() if p.name.startswith(".")], list(out.iterdir())


# --- all workers die ---------------------------------------------------------------------
@requires_model
def test_all_workers_die_mid_sweep(tmp_path, shared_cache, start_cluster) -> None:
    cluster = start_cluster(2)
    out = tmp_path / "out"
    before = planted(out)
    pids = [w.pid for w in cluster.workers]
    kill = f"for pid in {pids}: os.kill(pid, signal.SIGKILL)"
    proc, after = sweep_with_fault(
        kill,
        *SWEEP,
        *("--scheduler", cluster.address, "--worker-timeout", TIMEOUT),
        *("--out", out / "prev.nc"),
        cache=shared_cache,
    )
    line = assert_one_line(
        proc, cluster.address, f"lost all its workers and has had none for {TIMEOUT} s"
    )
    assert "chunks not run" in line and "start workers" in line
    assert TIMEOUT <= after < TIMEOUT + SLACK
    assert all(w.wait(10) == -signal.SIGKILL for w in cluster.workers)
    assert_untouched(out, before)


# --- one worker of two dies: Dask reschedules ----------------------------------------------
def kill_busy_worker() -> str:
    """Source that SIGKILLs one worker that is running a chunk, none other."""
    return (
        "busy = [a for a, keys in client.processing().items() if keys]; "
        "[pid] = client.run(os.getpid, workers=busy[:1]).values(); "
        "os.kill(pid, signal.SIGKILL)"
    )


@requires_model
def test_one_worker_of_two_dies_and_the_sweep_recovers(
    tmp_path, shared_cache, start_cluster
) -> None:
    cluster = start_cluster(2)
    reference = tmp_path / "local" / "ensemble.nc"
    result = invoke(*SWEEP, "--chunk", "8", "--no-figures", "--out", reference)
    assert result.exit_code == 0, result.output
    out = tmp_path / "dask" / "ensemble.nc"
    proc, _ = sweep_with_fault(
        kill_busy_worker(),
        *SWEEP,
        *("--no-figures", "--scheduler", cluster.address, "--worker-timeout", TIMEOUT),
        *("--out", out),
        cache=shared_cache,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no log records of the rescheduling
    died = [w for w in cluster.workers if w.poll() is not None]
    assert [w.returncode for w in died] == [-signal.SIGKILL]  # the fault struck one
    for name in ("ensemble.nc", "summary.nc"):  # the chunks streamed into the summary too
        local, dask = file_contents(reference.with_name(name)), file_contents(out.with_name(name))
        assert local.keys() == dask.keys()
        for key in local:
            assert local[key] == dask[key], (name, key)
    assert temporaries(out.parent) == []


@requires_model
def test_killed_worker_is_one_line(tmp_path, shared_cache, start_cluster) -> None:
    # no retries: the chunk that was running on the killed worker fails (KilledWorker)
    cluster = start_cluster(2, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0")
    out = tmp_path / "out"
    before = planted(out)
    proc, after = sweep_with_fault(
        kill_busy_worker(),
        *SWEEP,
        *("--scheduler", cluster.address, "--worker-timeout", TIMEOUT),
        *("--out", out / "prev.nc"),
        cache=shared_cache,
    )
    line = assert_one_line(
        proc, "Dask gave up on the chunk of scenario 'central', run ", cluster.address
    )
    assert "1 worker(s)" in line and "allowed-failures = 0" in line and "chunks not run" in line
    assert after < SLACK  # at once, no timeout
    assert_untouched(out, before)


# --- the scheduler dies, or hangs -----------------------------------------------------------
@requires_model
@pytest.mark.parametrize("sig", ["SIGKILL", "SIGSTOP"])
def test_scheduler_dies_or_hangs_mid_sweep(tmp_path, shared_cache, start_cluster, sig) -> None:
    cluster = start_cluster(1)
    out = tmp_path / "out"
    before = planted(out)
    proc, after = sweep_with_fault(
        f"os.kill({cluster.scheduler.pid}, signal.{sig})",
        *SWEEP,
        *("--scheduler", cluster.address, "--worker-timeout", TIMEOUT),
        *("--out", out / "prev.nc"),
        cache=shared_cache,
    )
    if sig == "SIGKILL":
        assert_one_line(proc, f"lost the connection to the Dask scheduler at {cluster.address}")
        assert after < SLACK
    else:
        assert_one_line(
            proc, f"Dask scheduler at {cluster.address} has not answered for {TIMEOUT} s"
        )
        assert TIMEOUT <= after < TIMEOUT + SLACK
    assert "chunks not run" in proc.stderr
    assert_untouched(out, before)
