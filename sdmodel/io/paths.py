"""Where the model, the scenarios, the outputs and the translation cache live."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import pickle
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sdmodel.errors import SdmodelError

#: Root of the source checkout (the directory holding ``pyproject.toml``).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The model: single source of truth for every equation, unit and parameter.
MODEL_PATH = PROJECT_ROOT / "stocks_flows" / "ai_labour_nl.mdl"
#: Scenario definitions (TOML), keyed by the model's Vensim names.
SCENARIO_DIR = PROJECT_ROOT / "scenarios"
#: Default output directory (git-ignored).
OUTPUT_DIR = PROJECT_ROOT / "outputs"


def _cache_root() -> Path:
    """``$SDMODEL_CACHE_DIR`` or ``.cache/`` in the project root (not created)."""
    env = os.environ.get("SDMODEL_CACHE_DIR")
    return Path(env) if env else PROJECT_ROOT / ".cache"


@contextmanager
def cache_writes() -> Iterator[None]:
    """Turn a refused write in the cache into a one-line user error.

    Raises
    ------
    SdmodelError
        ``cache directory <dir> is not writable (<cause>: <path>); set
        SDMODEL_CACHE_DIR to a writable directory``, for a ``PermissionError`` or a
        read-only file system inside the block.
    """
    try:
        yield
    except OSError as exc:
        if not isinstance(exc, PermissionError) and exc.errno != errno.EROFS:
            raise
        where = f": {exc.filename}" if exc.filename else ""
        raise SdmodelError(
            f"cache directory {_cache_root()} is not writable ({exc.strerror}{where}); "
            "set SDMODEL_CACHE_DIR to a writable directory"
        ) from None


def _untrusted(st: os.stat_result) -> str | None:
    """Why a cache entry with this status may hold someone else's code (``None``: it cannot)."""
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        return f"owned by user id {st.st_uid}, not by this user ({os.geteuid()})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"writable by other users (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def check_trusted_dir(path: Path) -> None:
    """Refuse a cache directory that another user could have written code into.

    The cache holds generated Python (pysd translations, compiled engines) and pickles,
    which sdmodel imports and unpickles, so whoever can write there can run code as this
    user. A directory owned by another user, or writable by group or others (a shared
    ``/tmp`` directory, ``chmod 777``), is refused; so is its parent chain up to the cache
    root.

    Raises
    ------
    SdmodelError
        Naming the directory, why it is not trusted and what to do.
    """
    root = _cache_root()
    probe = path
    while True:
        try:
            why = _untrusted(probe.lstat())
        except FileNotFoundError:
            why = None
        if why is not None:
            raise SdmodelError(
                f"cache directory {probe} is {why}; the cache holds code that sdmodel runs, "
                f"so make it private (chmod go-w {probe}) or set SDMODEL_CACHE_DIR to a "
                "directory of your own"
            )
        if probe == root or probe == probe.parent or root not in probe.parents:
            return
        probe = probe.parent


def private_mkdir(path: Path) -> None:
    """Create ``path`` (and missing parents) writable by this user only, then check it."""
    with cache_writes():
        missing = [p for p in (path, *path.parents) if not p.exists()]
        path.mkdir(parents=True, exist_ok=True)
        for made in missing:  # only what this call created: never chmod a user's directory
            with contextlib.suppress(OSError):
                os.chmod(made, stat.S_IMODE(made.stat().st_mode) & ~0o022)
    check_trusted_dir(path)


def trusted_file(path: Path) -> bool:
    """Whether a cache file may be loaded: a regular file of this user, not writable by others."""
    try:
        st = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and _untrusted(st) is None


def cache_dir() -> Path:
    """Directory for generated files (translated models, compiled engines).

    ``$SDMODEL_CACHE_DIR`` if set, otherwise ``.cache/`` in the project root (git-ignored).
    Generated ``.py`` files never land in the source tree. Created writable by this user
    only; an existing one must be too (:func:`check_trusted_dir`).

    Raises
    ------
    SdmodelError
        If the directory cannot be created (see :func:`cache_writes`) or is not trusted.
    """
    path = _cache_root()
    private_mkdir(path)
    return path


def file_hash(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (hex); keys the caches and goes into provenance."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cached_pickle(
    subdir: str, key: str, build: Callable[[], Any], *, read: bool = True, kind: type = object
) -> tuple[Any, bool]:
    """An object stored under ``cache_dir()/subdir/key.pkl``, built and stored on a miss.

    Parameters
    ----------
    subdir, key
        Where the pickle lives (the key encodes the source file's hash and a version).
    build
        Makes the object when the cache has none (or a stale, corrupt or foreign one).
    read
        ``False``: ignore what is stored (rebuild and overwrite).
    kind
        The type a stored object must have to be trusted.

    Returns
    -------
    tuple
        (the object, whether it was built now).

    Notes
    -----
    Processes that miss the same key at once (pytest-xdist workers, Dask workers) build
    it once: the first holds ``key.lock`` (:func:`sdmodel.io.atomic.file_lock`) while it
    builds, the others wait for it and then read what it stored. The pickle is written
    under a temporary name and renamed, so no reader sees a half-written file.
    """
    from sdmodel.io.atomic import atomic_path, file_lock

    store = cache_dir() / subdir
    private_mkdir(store)
    pkl = store / f"{key}.pkl"
    if read and (found := _stored(pkl, kind)) is not _MISSING:
        return found, False
    with file_lock(store / f"{key}.lock"):  # names the lock file if it cannot be made
        if read and (found := _stored(pkl, kind)) is not _MISSING:  # built while we waited
            return found, False
        obj = build()
        with cache_writes(), atomic_path(pkl) as tmp:
            tmp.write_bytes(pickle.dumps(obj))
            os.chmod(tmp, 0o644)  # never group-writable, whatever the umask (trusted_file)
    return obj, True


_MISSING = object()


def _stored(pkl: Path, kind: type) -> Any:
    """The object pickled in ``pkl`` if it is a ``kind``; otherwise ``_MISSING``.

    A file that is not this user's own, or that others could have written, is never
    unpickled (it is rebuilt and replaced).
    """
    if not trusted_file(pkl):
        return _MISSING
    try:
        obj = pickle.loads(pkl.read_bytes())
    except Exception:  # stale or corrupt cache: rebuild
        return _MISSING
    return obj if isinstance(obj, kind) else _MISSING
