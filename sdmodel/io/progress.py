"""Notes on stderr for steps that take long, so that nobody waits without knowing why.

A note is printed only where someone watches: stderr is a terminal and ``--quiet`` was
not given. Files, pipes and tests (click's CliRunner) get nothing, so a user error there
stays the one line it is.
"""

from __future__ import annotations

import sys

_QUIET = False


def set_quiet(quiet: bool) -> None:
    """Switch the notes off (``--quiet``) or back on for this process."""
    global _QUIET
    _QUIET = bool(quiet)


def enabled() -> bool:
    """Whether notes and progress bars are shown: a terminal, and not ``--quiet``."""
    return not _QUIET and sys.stderr.isatty()


def note(text: str) -> None:
    """Print ``sdmodel: <text>`` on stderr if :func:`enabled`."""
    if enabled():
        print(f"sdmodel: {text}", file=sys.stderr, flush=True)
