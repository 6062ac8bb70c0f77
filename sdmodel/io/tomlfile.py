"""Reading the project's TOML input files (scenarios, policies, shocks) with one error style.

Every problem raises :class:`~sdmodel.errors.SdmodelError` with a message of one line
that names the file, so that the command line can print it and exit with status 2.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from sdmodel.errors import SdmodelError

__all__ = ["read_toml"]


def read_toml(path: str | os.PathLike, what: str) -> dict[str, Any]:
    """The parsed contents of a TOML input file.

    Parameters
    ----------
    path
        The ``.toml`` file.
    what
        What the file is, for the message when it is missing (``"shock file"`` gives
        ``shock file not found: <path>``).

    Returns
    -------
    dict
        The top-level table.

    Raises
    ------
    SdmodelError
        If the file is missing, cannot be read, is not UTF-8 text (a binary file), or is
        malformed TOML (``<path>: malformed TOML: <parser message with line and column>``).
    """
    path = Path(path)
    if not path.is_file():
        raise SdmodelError(f"{what} not found: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SdmodelError(f"{path}: malformed TOML: {' '.join(str(exc).split())}") from exc
    except UnicodeDecodeError as exc:  # a binary file, or text in another encoding
        raise SdmodelError(
            f"{path}: not a UTF-8 text file (TOML is UTF-8): byte {exc.object[exc.start]:#04x} "
            f"at offset {exc.start} is {exc.reason}"
        ) from None
    except OSError as exc:
        raise SdmodelError(f"{path}: cannot read: {exc.strerror or exc}") from None
