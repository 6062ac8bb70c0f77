"""Executing a sweep's chunks of runs: the chunk task, in this process or on Dask.

A chunk is a ``(scenario, start, stop)`` task of a :class:`sdmodel.experiments.sweep.Plan`;
:func:`run_chunk` integrates it (in this process, or on a Dask worker, which imports
this module by name). Its results depend only on the chunk's parameter values (the engine
is vectorized element-wise over runs), so every execution mode gives the same bits.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from sdmodel.errors import SdmodelError

if TYPE_CHECKING:
    from sdmodel.experiments.sweep import Plan

#: Smallest engine block (see :func:`run_chunk`).
MIN_BLOCK = 8
#: Largest engine block (the engine's own default block size).
ENGINE_BLOCK = 10_000
#: Seconds a Dask cluster may be without workers before a sweep gives up (--worker-timeout).
DEFAULT_WORKER_TIMEOUT = 60.0
#: How often (seconds) a Dask sweep waiting for results checks that workers remain.
WORKER_POLL_S = 1.0


# ----------------------------------------------------------------------------- chunk task
def run_chunk(
    model_path: str,
    variables: Sequence[str],
    saveper: float,
    base: dict[str, np.ndarray],
    targets: Sequence[tuple[str, tuple[int, ...] | None]],
    values: np.ndarray,
    dtype: str,
) -> dict[str, np.ndarray]:
    """Integrate one chunk of runs (the unit of work in-process and on Dask workers).

    Parameters
    ----------
    model_path
        Vensim model (compiled once per process; :func:`compile_model` memoizes).
    variables
        Python names to save.
    saveper
        Save period in years.
    base
        The scenario's constants, ``python name -> (*dims)`` values.
    targets
        Per sample column: ``(python name, element index or None for the whole)``.
    values
        ``(m, k)`` sampled values of the chunk's runs.
    dtype
        ``"f8"`` or ``"f4"``: type of the returned arrays.

    Returns
    -------
    dict
        ``python name -> (m, *dims, time)`` arrays.
    """
    from sdmodel.engine import compile_model

    cm = compile_model(model_path)
    n = values.shape[0]
    # bit-identical results whatever the chunking: numpy takes other code paths for
    # 1-element arrays (last-ulp differences), so never integrate a block of fewer than
    # MIN_BLOCK runs: pad small chunks with copies of the last run, and split big chunks
    # into equal engine blocks instead of leaving a small remainder block.
    if n < MIN_BLOCK:
        values = np.concatenate([values, np.repeat(values[-1:], MIN_BLOCK - n, axis=0)])
    m = values.shape[0]
    block = math.ceil(m / math.ceil(m / ENGINE_BLOCK))
    params = {py: np.broadcast_to(v, (m, *np.shape(v))).copy() for py, v in base.items()}
    for j, (py, index) in enumerate(targets):
        if py not in params:
            default = np.asarray(cm.constants[cm.elements[py]["name"]], dtype=float)
            params[py] = np.broadcast_to(default, (m, *default.shape)).copy()
        array = params[py]
        if index is None:
            array[...] = values[:, j].reshape((m,) + (1,) * (array.ndim - 1))
        else:
            array[(slice(None), *index)] = values[:, j]
    # plain arrays (run, time, *dims), no per-chunk xarray Dataset
    arrays, _ = cm.run_arrays(
        n_runs=m, params=params, variables=list(variables), saveper=saveper, block_size=block
    )
    return {
        py: np.ascontiguousarray(np.moveaxis(arrays[py][:n], 1, -1), dtype=dtype)
        for py in variables
    }


# ----------------------------------------------------------------------------- execution
Result = tuple[int, int, dict[str, np.ndarray]]


def in_process(plan: Plan) -> Iterator[Result]:
    """Chunks computed in order by ``threads`` background threads (0: serially here).

    With one thread, the next chunk is integrated while this thread compresses and
    writes the previous one (netCDF4 releases the GIL in the C library).
    """
    tasks = plan.tasks
    threads = plan.options.threads
    if threads < 1:
        for s, a, b in tasks:
            yield s, a, run_chunk(*plan.task_args(s, a, b))
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending: list[tuple[int, int, Future]] = []
        it = iter(tasks)
        for s, a, b in itertools.islice(it, threads):
            pending.append((s, a, pool.submit(run_chunk, *plan.task_args(s, a, b))))
        try:
            while pending:
                s, a, fut = pending.pop(0)
                for s2, a2, b2 in itertools.islice(it, 1):
                    pending.append((s2, a2, pool.submit(run_chunk, *plan.task_args(s2, a2, b2))))
                yield s, a, fut.result()
        finally:
            for _, _, fut in pending:
                fut.cancel()


def on_dask(
    plan: Plan,
    client: Any,
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
    where: str = "the Dask scheduler",
) -> Iterator[Result]:
    """Chunks as Dask tasks, a bounded number in flight, yielded as they complete.

    Dask waits for workers indefinitely; here, a cluster without any worker for
    ``worker_timeout`` seconds (none joined, or all died) ends the sweep with an error.
    A worker that dies while others remain is Dask's concern: it reschedules the
    chunk, and after repeated deaths the chunk fails with ``KilledWorker``.

    Raises
    ------
    SdmodelError
        ``Dask cluster at <where> has had no workers for <t> s ...``.
    """
    from distributed import wait

    tasks = iter(plan.tasks)
    width = max(2, 2 * sum(client.nthreads().values()))
    keys: dict[Any, tuple[int, int]] = {}

    def submit(s: int, a: int, b: int) -> Any:
        fut = client.submit(run_chunk, *plan.task_args(s, a, b), pure=False)
        keys[fut.key] = (s, a)
        return fut

    pending = [submit(*t) for t in itertools.islice(tasks, width)]
    idle_since: float | None = None
    try:
        while pending:
            try:
                done = wait(pending, timeout=WORKER_POLL_S, return_when="FIRST_COMPLETED").done
            except TimeoutError:  # distributed's TimeoutError is the builtin one
                done = set()
            if not done:
                if client.nthreads():
                    idle_since = None
                elif idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since >= worker_timeout:
                    left = len(pending) + sum(1 for _ in tasks)
                    raise SdmodelError(
                        f"Dask cluster at {where} has had no workers for "
                        f"{worker_timeout:g} s ({left} chunks not run); start workers "
                        "or run without --scheduler (see --worker-timeout)"
                    )
                continue
            idle_since = None
            for fut in [f for f in pending if f in done]:
                pending.remove(fut)
                s, a = keys.pop(fut.key)
                result = fut.result()
                fut.release()
                for t in itertools.islice(tasks, 1):
                    pending.append(submit(*t))
                yield s, a, result
    finally:
        for fut in pending:
            fut.cancel()


def check_scheduler_address(address: str) -> str:
    """``address`` if distributed's ``Client`` can take it as a scheduler address.

    Parameters
    ----------
    address
        ``protocol://host:port`` (``tcp``, ``tls``, ``ws``, ``wss``, ``ucx``: whichever
        protocols the installed distributed registers), ``host:port`` (TCP, as
        ``Client`` reads it) or ``inproc://...``. ``Client`` takes no file path here (a
        scheduler file is another argument).

    Returns
    -------
    str
        ``address`` unchanged.

    Raises
    ------
    SdmodelError
        Naming the address and what is wrong with it: spaces, an unknown protocol, a
        missing host, a missing or invalid port. Nothing is connected to.
    """
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address, parse_host_port

    expected = "expected tcp://host:port"
    if not address or any(c.isspace() for c in address):
        raise SdmodelError(f"{address!r} is not a scheduler address ({expected})")
    scheme, location = parse_address(address)  # no protocol given: tcp, as Client reads it
    known = sorted(registry.backends)
    if scheme not in known:
        raise SdmodelError(
            f"{address!r}: unknown protocol {scheme!r} (known: {', '.join(known)}; {expected})"
        )
    if scheme == "inproc":
        return address
    try:
        host, port = parse_host_port(location)
    except ValueError:
        raise SdmodelError(f"{address!r}: no valid port number ({expected})") from None
    if not host:
        raise SdmodelError(f"{address!r}: no host ({expected})")
    if not 0 < int(port) < 65536:
        raise SdmodelError(f"{address!r}: port {port} is outside 1-65535 ({expected})")
    return address


class DaskSession:
    """Client (and LocalCluster for ``--workers``) for the sweep's duration."""

    def __init__(self, workers: int | None, scheduler: str | None) -> None:
        from distributed import Client, LocalCluster

        self.cluster = None
        #: The scheduler, as error messages name it.
        self.where = scheduler or "a local cluster"
        try:
            if scheduler:
                self.client = Client(scheduler, timeout="20s")
            else:
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    # no dashboard; its HTTP server (health checks) on a free port, not
                    # on 8787 with a warning when another cluster holds that port
                    scheduler_kwargs={"dashboard_address": ":0"},
                )
                self.client = Client(self.cluster)
        except (OSError, ValueError) as exc:  # ValueError: another process's inproc://
            raise SdmodelError(f"cannot connect to Dask scheduler at {self.where}: {exc}") from None

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
