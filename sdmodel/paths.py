"""Where the model, the scenarios, the outputs and the translation cache live."""

from __future__ import annotations

import errno
import hashlib
import os
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sdmodel.errors import SdmodelError

#: Root of the source checkout (the directory holding ``pyproject.toml``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
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


def cache_dir() -> Path:
    """Directory for generated files (translated models, compiled engines).

    ``$SDMODEL_CACHE_DIR`` if set, otherwise ``.cache/`` in the project root (git-ignored).
    Generated ``.py`` files never land in the source tree.

    Raises
    ------
    SdmodelError
        If the directory cannot be created (see :func:`cache_writes`).
    """
    path = _cache_root()
    with cache_writes():
        path.mkdir(parents=True, exist_ok=True)
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
    it once: the first holds ``key.lock`` (:func:`sdmodel.atomic.file_lock`) while it
    builds, the others wait for it and then read what it stored. The pickle is written
    under a temporary name and renamed, so no reader sees a half-written file.
    """
    from sdmodel.atomic import atomic_path, file_lock

    store = cache_dir() / subdir
    pkl = store / f"{key}.pkl"
    if read and (found := _stored(pkl, kind)) is not _MISSING:
        return found, False
    with cache_writes():
        store.mkdir(parents=True, exist_ok=True)
    with file_lock(store / f"{key}.lock"):  # names the lock file if it cannot be made
        if read and (found := _stored(pkl, kind)) is not _MISSING:  # built while we waited
            return found, False
        obj = build()
        with cache_writes(), atomic_path(pkl) as tmp:
            tmp.write_bytes(pickle.dumps(obj))
    return obj, True


_MISSING = object()


def _stored(pkl: Path, kind: type) -> Any:
    """The object pickled in ``pkl`` if it is a ``kind``; otherwise ``_MISSING``."""
    if not pkl.is_file():
        return _MISSING
    try:
        obj = pickle.loads(pkl.read_bytes())
    except Exception:  # stale or corrupt cache: rebuild
        return _MISSING
    return obj if isinstance(obj, kind) else _MISSING
