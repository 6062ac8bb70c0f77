"""Executing a sweep's chunks of runs: the chunk task, in this process or on Dask.

A chunk is a ``(scenario, start, stop)`` task of a :class:`sdmodel.experiments.sweep.Plan`;
:func:`run_chunk` integrates it (in this process, or on a Dask worker, which imports
this module by name). Its results depend only on the chunk's parameter values (the engine
is vectorized element-wise over runs), so every execution mode gives the same bits.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import math
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
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
    backend: str = "numpy",
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
    backend
        The engine's backend (:meth:`sdmodel.engine.CompiledModel.run`); sweeps use numpy.

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
        n_runs=m,
        params=params,
        variables=list(variables),
        saveper=saveper,
        block_size=block,
        backend=backend,
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

    Dask waits for workers (and for a lost scheduler) indefinitely, or long; here every
    fault of the cluster ends the sweep with one :class:`SdmodelError` within about
    ``worker_timeout`` seconds: no worker for that long (none joined, or all died), a
    scheduler that does not answer for that long, a lost connection to the scheduler
    (it died), or a chunk whose workers all died while running it (``KilledWorker``,
    after ``distributed.scheduler.allowed-failures`` retries). A worker that dies while
    others remain is otherwise Dask's concern: it reschedules the chunk on another, and
    the results are the same bits (they depend only on the chunk's parameter values).
    When the workers die after a chunk finished but before its result was fetched, the
    fetch waits up to ``worker_timeout`` before the count of idle seconds starts, so
    that sweep ends within about twice ``worker_timeout``.

    Parameters
    ----------
    plan
        The sweep's plan (its :attr:`~sdmodel.experiments.sweep.Plan.tasks`).
    client
        A connected ``distributed.Client``.
    worker_timeout
        Seconds without any worker, or without an answer from the scheduler, before
        the sweep gives up (``--worker-timeout``).
    where
        The scheduler, as error messages name it (its address).

    Yields
    ------
    tuple
        ``(scenario index, start, arrays)`` per chunk, in completion order.

    Raises
    ------
    SdmodelError
        One line naming the scheduler, what went wrong, how many chunks did not run
        and what to do.
    """
    from distributed import KilledWorker, wait

    tasks = iter(plan.tasks)
    total = len(plan.tasks)
    pending: list[Any] = []
    keys: dict[Any, tuple[int, int, int]] = {}

    def not_run() -> str:
        return f"{len(pending) + sum(1 for _ in tasks)} of {total} chunks not run"

    def lost() -> SdmodelError:
        return SdmodelError(
            f"lost the connection to the Dask scheduler at {where} ({not_run()}); "
            "check that the scheduler is running, or run without --scheduler"
        )

    def nthreads() -> int:
        """Threads of the cluster's workers; the scheduler must answer in time."""
        if client.status != "running":
            raise lost()
        try:
            return sum(client.nthreads(callback_timeout=worker_timeout).values())
        except TimeoutError:  # distributed's TimeoutError is the builtin one
            raise SdmodelError(
                f"Dask scheduler at {where} has not answered for {worker_timeout:g} s "
                f"({not_run()}); check the scheduler, or run without --scheduler "
                "(see --worker-timeout)"
            ) from None
        except OSError:  # CommClosedError included: the scheduler went away
            raise lost() from None

    def submit(s: int, a: int, b: int) -> None:
        fut = client.submit(run_chunk, *plan.task_args(s, a, b), pure=False)
        keys[fut.key] = (s, a, b)
        pending.append(fut)

    def poll() -> list[Any]:
        """The futures done within WORKER_POLL_S, in submission order."""
        try:
            done = wait(pending, timeout=WORKER_POLL_S, return_when="FIRST_COMPLETED").done
        except TimeoutError:
            return []
        except CancelledError:  # the client cancels all when it loses the scheduler
            if client.status == "running":
                raise
            raise lost() from None
        return [f for f in pending if f in done]

    def fetch(fut: Any) -> dict[str, np.ndarray] | None:
        """A done chunk's arrays, or None if they do not come within ``worker_timeout``.

        They do not when the worker holding them died after the chunk finished: Dask
        then computes the chunk again, on another worker if there is one.
        """
        try:
            return fut.result(timeout=worker_timeout)
        except TimeoutError:
            return None
        except KilledWorker as exc:
            s, a, b = keys[fut.key]
            runs = f"runs {a}-{b - 1}" if b - a > 1 else f"run {a}"
            n = exc.allowed_failures + 1
            raise SdmodelError(
                f"Dask gave up on the chunk of scenario {plan.labels[s]!r}, {runs}: "
                f"{n} worker(s) of the cluster at {where} died while running it "
                f"(distributed.scheduler.allowed-failures = {n - 1}; {not_run()}); "
                "check the workers' logs (out of memory?), or run without --scheduler"
            ) from None
        except CancelledError:
            if client.status == "running":
                raise
            raise lost() from None

    threads = nthreads()
    had_workers = threads > 0
    for t in itertools.islice(tasks, max(2, 2 * threads)):
        submit(*t)
    idle_since: float | None = None
    try:
        while pending:
            progressed = False
            for fut in poll():
                result = fetch(fut)
                if result is None:
                    continue
                progressed, had_workers, idle_since = True, True, None
                s, a, _ = keys.pop(fut.key)
                pending.remove(fut)
                fut.release()
                for t in itertools.islice(tasks, 1):
                    submit(*t)
                yield s, a, result
            if progressed:
                continue
            if nthreads():
                had_workers, idle_since = True, None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= worker_timeout:
                if had_workers:
                    state = "lost all its workers and has had none"
                else:
                    state = "has had no workers"
                raise SdmodelError(
                    f"Dask cluster at {where} {state} for {worker_timeout:g} s "
                    f"({not_run()}); start workers or run without --scheduler "
                    "(see --worker-timeout)"
                )
    finally:
        if client.status == "running":  # else the client has cancelled them itself
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
    """Client (and LocalCluster for ``--workers``) for the sweep's duration.

    While it is open, the client's log records about faults that the sweep handles and
    reports itself, in one line, are dropped (:class:`_HandledFaults`).
    """

    def __init__(self, workers: int | None, scheduler: str | None) -> None:
        from distributed import Client, LocalCluster

        self.cluster = None
        #: The scheduler, as error messages name it.
        self.where = scheduler or "a local cluster"
        self._quiet = _HandledFaults()
        for name in _HANDLED_LOGGERS:
            logging.getLogger(name).addFilter(self._quiet)
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
            self._unfilter()
            raise SdmodelError(f"cannot connect to Dask scheduler at {self.where}: {exc}") from None

    def close(self) -> None:
        """Close the client (and the local cluster)."""
        try:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()
            # the asyncio tasks of stopped fetches log when collected (they are in
            # reference cycles): here, under the filter, not at some later moment
            gc.collect()
        finally:
            self._unfilter()

    def _unfilter(self) -> None:
        for name in _HANDLED_LOGGERS:
            logging.getLogger(name).removeFilter(self._quiet)


#: Starts of distributed's log messages about faults that :func:`on_dask` handles.
_HANDLED_FAULTS = ("Couldn't gather", "Batched Comm Closed", "Failed to reconnect to scheduler")
#: The loggers that write them (asyncio: the tasks of a cancelled fetch, see below).
_HANDLED_LOGGERS = ("distributed.client", "distributed.batched", "asyncio")


class _HandledFaults(logging.Filter):
    """Drops distributed's log records of faults that :func:`on_dask` handles itself.

    The sweep reports every fault of the cluster in one line; these records, written to
    stderr by distributed's logging, would only bury it:

    * ``Couldn't gather N keys, rescheduling``: a finished chunk's result was on a
      worker that died; Dask computes it again elsewhere (or :func:`on_dask` reports
      that the cluster has no workers left).
    * ``Task exception was never retrieved ... AllExit`` (asyncio, with a traceback):
      the tasks of a fetch that :func:`on_dask` stopped after ``worker_timeout``.
    * ``Batched Comm Closed`` (with a traceback): a message to a scheduler that has
      just died was not sent.
    * ``Failed to reconnect to scheduler``, or an ``asyncio.CancelledError`` with its
      traceback: a client that lost its scheduler is trying to reconnect, and closing
      it, after :func:`on_dask` has reported the loss, ends that attempt.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[0] if record.exc_info else None
        if record.name == "asyncio":
            return not (exc is not None and exc.__name__ == "AllExit")
        if str(record.msg).startswith(_HANDLED_FAULTS):
            return False
        return not (exc is not None and issubclass(exc, asyncio.CancelledError))
