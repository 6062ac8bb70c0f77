"""How much memory a sweep needs, checked against the machine before anything is allocated.

A sweep of too many runs used to fail deep inside numpy (``ArrayMemoryError``) after
the model was compiled. :func:`check_sweep_memory` refuses it first, with one line
saying what it would need and what the machine has.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from sdmodel.errors import SdmodelError

__all__ = ["check_sweep_memory", "format_bytes", "machine_memory", "sweep_memory"]


def machine_memory() -> int | None:
    """Bytes of physical memory of this machine, or ``None`` if it cannot be told.

    ``psutil`` when installed, else ``os.sysconf`` (Linux and most Unixes).
    """
    try:
        import psutil
    except ImportError:
        pass
    else:
        return int(psutil.virtual_memory().total)
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def format_bytes(n: int) -> str:
    """``1536`` -> ``"1.5 KiB"``; binary prefixes up to EiB (beyond: a large EiB count)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.3g} EiB"


def sweep_memory(
    n_runs: int, n_params: int, chunk: int, values_per_run: Sequence[int], itemsize: int
) -> dict[str, int]:
    """A lower bound of the memory a sweep holds at once, by part (bytes).

    Parameters
    ----------
    n_runs
        Runs per scenario.
    n_params
        Uncertain parameters (columns of the sampling design).
    chunk
        Runs per chunk.
    values_per_run
        Per saved variable, the values one run saves (elements x saved times).
    itemsize
        Bytes per stored value (4 for ``--float32``, else 8).

    Returns
    -------
    dict
        ``design``: the uniform design and the parameter values drawn from it, both
        ``(n_runs, n_params)`` float64 (they coexist while the values are computed);
        ``chunk``: one chunk's saved results; ``summary``: the largest variable's runs of
        one scenario in float64, which its percentiles need at once. The engine's
        working arrays, the writer's buffers and the interpreter come on top, so the
        true peak is higher: refusing on this bound never refuses a sweep that fits.
    """
    per_run = sum(values_per_run)
    largest = max(values_per_run, default=0)
    return {
        "design": 2 * n_runs * n_params * 8,
        "chunk": min(chunk, n_runs) * per_run * itemsize,
        "summary": n_runs * largest * 8,
    }


def check_sweep_memory(parts: dict[str, int], n_runs: int, available: int | None) -> None:
    """Refuse a sweep whose lower-bound memory exceeds the machine's memory.

    Parameters
    ----------
    parts
        :func:`sweep_memory`'s estimate.
    n_runs
        The ``--runs`` value, for the message.
    available
        The machine's memory in bytes (:func:`machine_memory`); ``None``: no check.

    Raises
    ------
    SdmodelError
        ``--runs N: the sweep needs at least X of memory (...) but this machine has Y``.
    """
    need = sum(parts.values())
    if available is None or need <= available:
        return
    detail = ", ".join(f"{name} {format_bytes(size)}" for name, size in parts.items())
    raise SdmodelError(
        f"--runs {n_runs}: the sweep needs at least {format_bytes(need)} of memory "
        f"({detail}) but this machine has {format_bytes(available)}; use fewer runs"
    )
