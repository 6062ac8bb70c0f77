"""Atomic outputs: write beside the target under a temporary name, then rename.

An interrupted or failing write leaves no file (and no truncated file) under the final
name. A command that writes several files (``sdmodel run``: the NetCDF and its plot;
``sdmodel sweep``: ensemble, summary and fan charts) wraps them in one
:func:`transaction`: every writer's temporary is kept until the block ends and then
renamed onto its target, so an interruption anywhere (Ctrl-C, SIGTERM, an error) leaves
the previous outputs as they were, byte for byte. Temporaries are removed on any error,
KeyboardInterrupt and SIGTERM included (:func:`terminate_on_sigterm`); those of a killed
process (SIGKILL, power loss) carry its process id in their name and are removed by the
next write into the same directory (:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from sdmodel.errors import SdmodelError

#: Free space below which a failed write is reported as a full disk (bytes): HDF5 and
#: matplotlib report ENOSPC as generic errors ("NetCDF: HDF error"), so a write that
#: fails with less than this left on the target's file system names the cause.
FULL_DISK_MARGIN = 4 * 2**20
#: ``.<target name>.<pid>.<random>.tmp``: the temporary files and directories made here.
_TEMP = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temporaries(directory: str | os.PathLike, target: str | None = None) -> list[Path]:
    """Remove temporaries in ``directory`` left by processes that no longer run.

    Parameters
    ----------
    directory
        Where to look (not recursive).
    target
        Only temporaries of this file name (default: all of them).

    Returns
    -------
    list of Path
        What was removed. A temporary of a live process (another run writing there now)
        is kept; so is any file whose name does not follow this module's pattern.

    Notes
    -----
    Process ids are those of this machine: on a file system shared between machines a
    temporary of a live process elsewhere whose id is free here would be removed too.
    """
    removed: list[Path] = []
    try:
        with os.scandir(directory) as found:
            entries = list(found)
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match or (target is not None and match["target"] != target):
            continue
        if _alive(int(match["pid"])):
            continue
        path = Path(entry.path)
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


def write_error(path: str | os.PathLike, exc: BaseException) -> SdmodelError:
    """One-line error for a failed write of ``path``, naming a full disk as such.

    Parameters
    ----------
    path
        The file being written (its final name).
    exc
        What the writer raised: an ``OSError`` or a library's own error (netCDF4 raises
        ``RuntimeError("NetCDF: HDF error")`` when the disk is full).
    """
    path = Path(path)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        cause = "no space left on device"
    else:
        strerror = exc.strerror if isinstance(exc, OSError) else None
        cause = strerror or str(exc) or type(exc).__name__
        probe = path.parent
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        with contextlib.suppress(OSError):
            if shutil.disk_usage(probe).free < FULL_DISK_MARGIN:
                cause = f"no space left on device ({cause})"
    return SdmodelError(f"cannot write {path}: {cause}")


def temp_beside(path: str | os.PathLike) -> Path:
    """Create an empty temporary file in ``path``'s directory, with the usual file mode.

    For writers that keep a file open across many calls (the streaming ensemble writer);
    they hand it to :func:`finish` when done and delete it on failure. Others use
    :func:`atomic_path`. Stale temporaries of ``path`` (of processes that died) are
    removed first.

    Raises
    ------
    SdmodelError
        If the directory is not writable (names ``path``).
    """
    path = Path(path)
    remove_stale_temporaries(path.parent, path.name)
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
        )
    except OSError as exc:
        raise write_error(path, exc) from exc
    os.close(fd)
    os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
    return Path(tmp_name)


class Transaction:
    """Files written by one command, renamed onto their targets together at the end."""

    def __init__(self) -> None:
        self._pending: dict[Path, Path] = {}  # final -> temporary
        self._lock = threading.Lock()  # the sweep draws its fan charts in a thread

    def defer(self, tmp: Path, final: Path) -> None:
        """Keep ``tmp`` until :meth:`commit` renames it onto ``final``."""
        with self._lock:
            previous = self._pending.pop(Path(final), None)
            self._pending[Path(final)] = Path(tmp)
        if previous is not None and previous != Path(tmp):  # written twice: keep the last
            with contextlib.suppress(FileNotFoundError):
                previous.unlink()

    @property
    def finals(self) -> list[Path]:
        """Targets written so far, in order."""
        with self._lock:
            return list(self._pending)

    def commit(self) -> None:
        """Rename every temporary onto its target (in the order they were written)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        items = list(pending.items())
        for k, (final, tmp) in enumerate(items):
            try:
                os.replace(tmp, final)
            except OSError as exc:
                for _, rest in items[k:]:
                    with contextlib.suppress(FileNotFoundError):
                        rest.unlink()
                raise write_error(final, exc) from exc

    def abort(self) -> None:
        """Delete every temporary; the targets stay as they were."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for tmp in pending.values():
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


_ACTIVE: list[Transaction] = []


@contextlib.contextmanager
def transaction() -> Iterator[Transaction]:
    """Defer the renames of every atomic write inside the block to its end.

    On success every file written in the block (by :func:`atomic_path` or
    :func:`finish`, from any thread) is renamed onto its target; on any exception,
    KeyboardInterrupt and SystemExit included, the temporaries are deleted and the
    previous files under the targets' names are left untouched. Nested blocks join the
    outermost one.
    """
    if _ACTIVE:
        yield _ACTIVE[0]
        return
    tx = Transaction()
    _ACTIVE.append(tx)
    try:
        yield tx
    except BaseException:
        _ACTIVE.remove(tx)
        tx.abort()
        raise
    _ACTIVE.remove(tx)
    tx.commit()


def finish(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Move a completed temporary onto ``path`` (at the end of an open transaction).

    Raises
    ------
    SdmodelError
        If the rename fails (names ``path``).
    """
    if _ACTIVE:
        _ACTIVE[0].defer(Path(tmp), Path(path))
        return
    try:
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise write_error(path, exc) from exc


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s directory; rename it onto ``path`` on success.

    Inside a :func:`transaction` the rename waits for the end of the transaction.

    Parameters
    ----------
    path
        The final file name.

    Yields
    ------
    Path
        Where to write. It exists (empty) when yielded.

    Raises
    ------
    SdmodelError
        If the directory is not writable, the disk is full or the rename fails (names
        ``path``).
    """
    path = Path(path)
    tmp = temp_beside(path)
    try:
        yield tmp
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise write_error(path, exc) from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    finish(tmp, path)


class Terminated(SystemExit):
    """SIGTERM, raised in the main thread so that ``finally`` blocks clean up."""


def terminate_on_sigterm() -> Callable[[], None] | None:
    """Make SIGTERM raise :class:`Terminated` (exit status 143) in the main thread.

    Python's default for SIGTERM ends the process at once, skipping the clean-up that
    removes temporaries; raised as an exception it unwinds like Ctrl-C.

    Returns
    -------
    callable or None
        Restores the previous handler; ``None`` outside the main thread, where signal
        handlers cannot be installed (nothing was changed).
    """
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):  # noqa: ARG001 (signal's signature)
        raise Terminated(128 + signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def file_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) against other processes.

    For caches that several processes fill at once (pytest-xdist or Dask workers): the
    first to take the lock builds the entry while the others wait, then find it built.
    The lock is advisory (``fcntl.flock``) and released when the block ends or the
    process dies. Where ``fcntl`` is missing (Windows) it does nothing: the atomic
    renames still keep every reader from seeing a half-written file.

    Parameters
    ----------
    path
        The lock file; its directory must exist. It stays behind (empty).

    Raises
    ------
    SdmodelError
        If the lock file cannot be created (names ``path``).
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    path = Path(path)
    try:
        handle = path.open("ab")
    except OSError as exc:
        raise SdmodelError(f"cannot write {path}: {exc.strerror or exc}") from exc
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def check_output_dir(out: str | os.PathLike) -> None:
    """Fail early if ``out`` cannot become a writable directory; creates nothing.

    Raises
    ------
    SdmodelError
        If ``out`` is a file, or its nearest existing ancestor is not a writable
        directory (names ``out``).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SdmodelError(f"output path {out} exists and is not a directory")
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise SdmodelError(f"output directory {out} cannot be created or written ({probe})")


def make_output_dir(path: str | os.PathLike) -> Path:
    """Create the output directory ``path`` (and its parents) if missing.

    Raises
    ------
    SdmodelError
        ``cannot create output directory <path>: <cause>`` (a read-only source tree for
        the default ``outputs/``, a file in the way, a full disk).
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SdmodelError(
            f"cannot create output directory {path}: {exc.strerror or exc}; give another with --out"
        ) from None
    return path


@contextlib.contextmanager
def output_dir(out: str | os.PathLike) -> Iterator[list[Path]]:
    """Create ``out`` and yield a list for the files written into it, as one transaction.

    Append each file's path before writing it (through :func:`atomic_path`). The files
    appear under their names together when the block ends (:func:`transaction`); on any
    failure or interruption none does, the previous files in ``out`` are left as they
    were, and the directories this call created for ``out`` are removed again.
    """
    out = Path(out)
    missing = [p for p in (out, *out.parents) if not p.exists()]
    make_output_dir(out)
    written: list[Path] = []
    try:
        with transaction():
            yield written
    except BaseException:
        if missing:  # the topmost directory this call created, with all below it
            shutil.rmtree(missing[-1], ignore_errors=True)
        raise
