"""Notes on stderr for steps that take long, and timings of the main steps.

A note is printed only where someone watches: stderr is a terminal and ``--quiet`` was
not given. Files, pipes and tests (click's CliRunner) get nothing, so a user error there
stays the one line it is.

Timings (``--verbose``) are printed wherever stderr goes, since they were asked for: one
line per step, ``sdmodel: timing: <step> <seconds> s``, when the step ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

_QUIET = False
_VERBOSE = False


def set_quiet(quiet: bool) -> None:
    """Switch the notes off (``--quiet``) or back on for this process."""
    global _QUIET
    _QUIET = bool(quiet)


def set_verbose(verbose: bool) -> None:
    """Switch the timing lines on (``--verbose``) or off for this process."""
    global _VERBOSE
    _VERBOSE = bool(verbose)


def enabled() -> bool:
    """Whether notes and progress bars are shown: a terminal, and not ``--quiet``."""
    return not _QUIET and sys.stderr.isatty()


def verbose() -> bool:
    """Whether timing lines are printed (``--verbose``)."""
    return _VERBOSE


def note(text: str) -> None:
    """Print ``sdmodel: <text>`` on stderr if :func:`enabled`."""
    if enabled():
        print(f"sdmodel: {text}", file=sys.stderr, flush=True)


def timing(step: str, seconds: float) -> None:
    """Print ``sdmodel: timing: <step> <seconds> s`` on stderr if :func:`verbose`."""
    if _VERBOSE:
        print(f"sdmodel: timing: {step} {seconds:.2f} s", file=sys.stderr, flush=True)


@contextmanager
def timed(step: str) -> Iterator[None]:
    """Time the ``with`` block and report it with :func:`timing` when it ends normally.

    Parameters
    ----------
    step
        Name of the step in the timing line (``translate``, ``compile``, ``integrate``,
        ``write``, ``plot``).
    """
    start = time.perf_counter()
    yield
    timing(step, time.perf_counter() - start)
