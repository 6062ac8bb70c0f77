"""Where the model, the scenarios, the outputs and the translation cache live."""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Root of the source checkout (the directory holding ``pyproject.toml``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The model: single source of truth for every equation, unit and parameter.
MODEL_PATH = PROJECT_ROOT / "stocks_flows" / "ai_labour_nl.mdl"
#: Scenario definitions (TOML), keyed by the model's Vensim names.
SCENARIO_DIR = PROJECT_ROOT / "scenarios"
#: Default output directory (git-ignored).
OUTPUT_DIR = PROJECT_ROOT / "outputs"


def cache_dir() -> Path:
    """Directory for generated files (translated models, compiled engines).

    ``$SDMODEL_CACHE_DIR`` if set, otherwise ``.cache/`` in the project root (git-ignored).
    Generated ``.py`` files never land in the source tree.
    """
    env = os.environ.get("SDMODEL_CACHE_DIR")
    path = Path(env) if env else PROJECT_ROOT / ".cache"
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
    """
    from sdmodel.atomic import atomic_path

    store = cache_dir() / subdir
    pkl = store / f"{key}.pkl"
    if read and pkl.is_file():
        try:
            obj = pickle.loads(pkl.read_bytes())
        except Exception:  # stale or corrupt cache: rebuild
            obj = None
        if isinstance(obj, kind):
            return obj, False
    obj = build()
    store.mkdir(parents=True, exist_ok=True)
    with atomic_path(pkl) as tmp:
        tmp.write_bytes(pickle.dumps(obj))
    return obj, True
