"""Translate the Vensim model with pysd, caching the generated Python outside the tree.

pysd writes the translated ``.py`` next to the ``.mdl``. To keep the source tree clean,
the ``.mdl`` is copied to ``cache_dir()/pysd/<sha256>/<stem>.mdl`` and translated there;
a translation is reused while the model file's hash is unchanged. Translation happens in
a temporary directory that is renamed into place, so concurrent processes never load a
half-written file, and under a lock (``<sha256>.lock``), so that processes starting
together (pytest-xdist workers) translate a model once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pysd

from sdmodel.errors import SdmodelError
from sdmodel.io.atomic import file_lock
from sdmodel.io.paths import (
    MODEL_PATH,
    cache_dir,
    cache_writes,
    check_trusted_dir,
    file_hash,
    private_mkdir,
    trusted_file,
)
from sdmodel.io.progress import note, timed


def translation_dir(mdl_path: str | os.PathLike = MODEL_PATH) -> Path:
    """Cache directory holding the translation of this exact model file (by hash)."""
    return cache_dir() / "pysd" / file_hash(mdl_path)


def translate(mdl_path: str | os.PathLike = MODEL_PATH) -> Path:
    """Translate ``mdl_path`` with pysd unless a cached translation exists.

    Parameters
    ----------
    mdl_path
        Vensim text model (``.mdl``).

    Returns
    -------
    Path
        The translated ``.py`` file in the cache.

    Raises
    ------
    SdmodelError
        If the model file is missing, pysd cannot translate it, or the cache directory
        is not writable.
    """
    mdl_path = Path(mdl_path)
    if not mdl_path.is_file():
        raise SdmodelError(f"model file not found: {mdl_path}")
    final = translation_dir(mdl_path)
    py_file = final / f"{mdl_path.stem}.py"
    if _intact(final, py_file):
        return py_file
    private_mkdir(final.parent)
    with file_lock(final.parent / f"{final.name}.lock"):  # one process translates
        if not _intact(final, py_file):
            if final.exists():  # truncated, edited or foreign: translate again
                with cache_writes():
                    shutil.rmtree(final)
            _translate_into(mdl_path, final)
    return py_file


def _digest_file(py_file: Path) -> Path:
    return py_file.with_name(py_file.name + ".sha256")


def _intact(final: Path, py_file: Path) -> bool:
    """Whether ``py_file`` is the complete translation this process (or another) wrote.

    The translation's SHA-256 is recorded beside it when it is made; a file that no
    longer matches (truncated by a full disk or a killed process, or edited), or that
    is not this user's own private file, is not loaded but translated again.
    """
    if not final.is_dir():
        return False
    check_trusted_dir(final)
    digest = _digest_file(py_file)
    if not (trusted_file(py_file) and trusted_file(digest)):
        return False
    try:
        return digest.read_text(encoding="ascii").strip() == file_hash(py_file)
    except (OSError, UnicodeDecodeError):
        return False


def _translate_into(mdl_path: Path, final: Path) -> None:
    """Translate ``mdl_path`` in a temporary directory and rename it to ``final``."""
    py_file = final / f"{mdl_path.stem}.py"
    with cache_writes():
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name[:16]}-", dir=final.parent))
    try:
        with cache_writes():
            shutil.copyfile(mdl_path, tmp / mdl_path.name)
        note(f"translating {mdl_path} with pysd (first use of this model file, about a minute)")
        try:
            with warnings.catch_warnings():
                # a file without a {UTF-8} header line is read as UTF-8 (what we want);
                # pysd's two-line warning would precede the one-line error of a bad file
                warnings.filterwarnings("ignore", message="No encoding specified")
                pysd.read_vensim(str(tmp / mdl_path.name), initialize=False)
        except Exception as exc:  # pysd raises many kinds; report them as one
            raise SdmodelError(f"pysd cannot translate {mdl_path}: {exc}") from exc
        with cache_writes():
            for made in tmp.iterdir():  # never group-writable, whatever the umask
                if made.is_file():
                    os.chmod(made, 0o644)
            translated = tmp / py_file.name
            _digest_file(translated).write_text(file_hash(translated) + "\n", encoding="ascii")
        try:
            os.rename(tmp, final)
        except OSError:
            if not py_file.is_file():  # not a lost race with another process
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def load_model(mdl_path: str | os.PathLike = MODEL_PATH) -> pysd.py_backend.model.Model:
    """Load the pysd model for ``mdl_path``, translating it first if needed.

    Parameters
    ----------
    mdl_path
        Vensim text model (``.mdl``); defaults to the project's model.

    Returns
    -------
    pysd.py_backend.model.Model
        An initialized model, ready for ``run``.
    """
    with timed("translate"):
        py_file = translate(mdl_path)
        try:
            return pysd.load(str(py_file))
        except Exception as exc:
            raise SdmodelError(
                f"pysd cannot load {py_file}, the translation of {mdl_path}: {exc}"
            ) from exc
