"""Vectorized ensemble engine: pysd's abstract model compiled to numpy with a run axis.

>>> cm = compile_model(path)                      # doctest: +SKIP
>>> ds = cm.run(n_runs=1000, params={"Adoption delay[middle]": samples})  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

from ..io.paths import cache_dir, cache_writes, cached_pickle, file_hash
from ..io.progress import note, timed
from .codegen import ENGINE_VERSION, Program, compile_program
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
        If an element uses a construct the engine does not support (a
        :class:`~sdmodel.errors.SdmodelError` naming the file, the element and the
        construct).
    """
    with timed("compile"):  # or load the compiled program from the caches
        return _compile(Path(path), use_cache)


def _compile(path: Path, use_cache: bool) -> CompiledModel:
    key = f"{file_hash(path)}-v{ENGINE_VERSION}"
    if use_cache and key in _MEMO:
        return _MEMO[key]

    def build() -> Program:
        from .parse import parse_model  # imports pysd: only when compiling

        note(f"compiling the engine for {path} (first use of this model file, about 30 s)")

        try:
            return compile_program(parse_model(path))
        except UnsupportedConstructError as exc:  # name the file for the command line
            raise UnsupportedConstructError(exc.element, exc.construct, path) from None

    program, built = cached_pickle("engine", key, build, read=use_cache, kind=Program)
    cm = CompiledModel(program, key)
    source = cache_dir() / "engine" / f"{key}.py"
    if use_cache and (built or not source.exists()):  # generated code, for reading
        with cache_writes():
            source.write_text(cm.source(cm.default_outputs))
    _MEMO[key] = cm
    return cm
