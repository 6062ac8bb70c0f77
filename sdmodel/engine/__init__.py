"""Vectorized ensemble engine: pysd's abstract model compiled to numpy with a run axis.

>>> cm = compile_model(path)                      # doctest: +SKIP
>>> ds = cm.run(n_runs=1000, params={"Adoption delay[middle]": samples})  # doctest: +SKIP
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from ..paths import cache_dir, file_hash
from .codegen import ENGINE_VERSION, compile_program
from .errors import UnknownParameterError, UnsupportedConstructError
from .runtime import CompiledModel, time_grid

__all__ = [
    "CompiledModel",
    "UnknownParameterError",
    "UnsupportedConstructError",
    "compile_model",
    "time_grid",
]

_MEMO: dict = {}


def compile_model(path: str | os.PathLike, use_cache: bool = True) -> CompiledModel:
    """Compile a Vensim model to a :class:`CompiledModel` (cached by the file's hash).

    Parameters
    ----------
    path
        The ``.mdl`` file.
    use_cache
        Reuse the compiled program stored under ``cache_dir()/engine`` (and in memory).

    Returns
    -------
    CompiledModel

    Raises
    ------
    UnsupportedConstructError
        If an element uses a construct the engine does not support.
    """
    path = Path(path)
    key = f"{file_hash(path)}-v{ENGINE_VERSION}"
    if use_cache and key in _MEMO:
        return _MEMO[key]
    store = cache_dir() / "engine"
    pkl = store / f"{key}.pkl"
    program = None
    if use_cache and pkl.exists():
        try:
            program = pickle.loads(pkl.read_bytes())
        except Exception:  # stale or corrupt cache: recompile
            program = None
    if program is None:
        from .parse import parse_model  # imports pysd: only when compiling

        program = compile_program(parse_model(path))
        store.mkdir(parents=True, exist_ok=True)
        tmp = pkl.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(program))
        tmp.replace(pkl)
    cm = CompiledModel(program, key)
    if use_cache:
        (store / f"{key}.py").write_text(cm.source(cm.default_outputs))
    _MEMO[key] = cm
    return cm
