"""Atomic file writes: write to a temporary file beside the target, then rename.

An interrupted or failing write leaves no file (and no truncated file) under the final
name; the temporary file is removed on any error, KeyboardInterrupt included.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sdmodel.errors import SdmodelError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_beside(path: str | os.PathLike) -> Path:
    """Create an empty temporary file in ``path``'s directory, with the usual file mode.

    For writers that keep a file open across many calls (the streaming ensemble writer);
    they rename it onto ``path`` when done and delete it on failure. Others use
    :func:`atomic_path`.

    Raises
    ------
    SdmodelError
        If the directory is not writable (names ``path``).
    """
    path = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise SdmodelError(f"cannot write {path}: {exc.strerror or exc}") from exc
    os.close(fd)
    os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
    return Path(tmp_name)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s directory; rename it onto ``path`` on success.

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
        If the directory is not writable or the rename fails (names ``path``).
    """
    path = Path(path)
    tmp = temp_beside(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise SdmodelError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


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


@contextlib.contextmanager
def output_dir(out: str | os.PathLike) -> Iterator[list[Path]]:
    """Create ``out`` and yield a list for the files written into it.

    Append each file's path before writing it (through :func:`atomic_path`). On any
    failure the listed files are removed, and ``out`` too if this call created it, so
    a failing command leaves nothing behind.
    """
    out = Path(out)
    existed = out.exists()
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        yield written
    except BaseException:
        for path in written:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        if not existed:
            shutil.rmtree(out, ignore_errors=True)
        raise
