"""Rank correlations between the entries of an uncertainty specification.

``[[correlation]]`` tables give Spearman rank correlations between pairs of entries; a
``[correlation_matrix]`` table gives a full matrix. Both are checked here: each rank lies
strictly inside (-1, 1), and the matrix (and the Pearson matrix ``2 sin(pi rho / 6)``
that the Gaussian copula of :mod:`sdmodel.experiments.sampling` uses) is symmetric, has
a unit diagonal and is positive definite. Problems raise :class:`SpecError` naming the
file and the entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sdmodel.experiments.distributions import SpecError, _num

__all__ = ["Correlation", "check_correlation_matrix", "parse_correlations"]


@dataclass(frozen=True)
class Correlation:
    """Spearman rank correlation ``rank`` between two spec entries (by name)."""

    between: tuple[str, str]
    rank: float

    def __post_init__(self) -> None:
        b = self.between
        if isinstance(b, str | bytes) or not isinstance(b, Sequence) or len(b) != 2:
            raise SpecError(f"between must list exactly two parameter names, got {b!r}")
        if not all(isinstance(x, str) for x in b):
            raise SpecError(f"between must list parameter names, got {b!r}")
        object.__setattr__(self, "between", (b[0], b[1]))
        rank = _num(self.rank, "rank")
        if not -1.0 < rank < 1.0:
            raise SpecError(f"rank correlation must lie strictly in (-1, 1), got {rank:g}")
        object.__setattr__(self, "rank", rank)


def check_correlation_matrix(matrix: Any, names: Sequence[str], where: str) -> np.ndarray:
    """Check a rank-correlation matrix: square, symmetric, unit diagonal, positive definite.

    Also checks the Pearson matrix ``2 sin(pi rho / 6)`` the Gaussian copula uses.
    Returns the matrix as float array; raises :class:`SpecError` naming ``where``/``names``.
    """
    try:
        m = np.asarray(matrix, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{where}: correlation matrix is not numeric: {exc}") from None
    k = len(names)
    if m.shape != (k, k):
        raise SpecError(f"{where}: correlation matrix has shape {m.shape}, expected {(k, k)}")
    if not np.all(np.isfinite(m)):
        raise SpecError(f"{where}: correlation matrix has non-finite entries")
    if not np.allclose(m, m.T, atol=1e-12, rtol=0):
        i, j = np.unravel_index(np.argmax(np.abs(m - m.T)), m.shape)
        raise SpecError(
            f"{where}: correlation matrix is not symmetric: "
            f"[{names[i]!r}, {names[j]!r}] = {m[i, j]:g} but the transpose is {m[j, i]:g}"
        )
    bad = np.flatnonzero(np.abs(np.diag(m) - 1.0) > 1e-12)
    if bad.size:
        raise SpecError(
            f"{where}: correlation matrix diagonal must be 1, but {names[bad[0]]!r} "
            f"has {m[bad[0], bad[0]]:g}"
        )
    if np.any(np.abs(m) > 1.0):
        raise SpecError(f"{where}: correlation matrix has entries outside [-1, 1]")
    for label, mat in (("rank", m), ("copula (2 sin(pi rho/6))", 2 * np.sin(np.pi * m / 6))):
        try:
            np.linalg.cholesky(mat)
        except np.linalg.LinAlgError:
            eig = float(np.linalg.eigvalsh(mat).min())
            raise SpecError(
                f"{where}: {label} correlation matrix among {list(names)} is not positive "
                f"definite (smallest eigenvalue {eig:.3g})"
            ) from None
    return m


def parse_correlations(data: Mapping[str, Any], where: str) -> list[Correlation]:
    """The pairwise correlations of a parsed spec: its ``[[correlation]]`` tables, then
    the non-zero upper triangle of its ``[correlation_matrix]``.

    Parameters
    ----------
    data : mapping
        The parsed TOML document.
    where : str
        The file, for messages.

    Returns
    -------
    list of Correlation
    """
    corrs = []
    for n, entry in enumerate(data.get("correlation", []), 1):
        label = f"correlation #{n}" + (
            f" {entry.get('between')!r}" if isinstance(entry, Mapping) else ""
        )
        try:
            if not isinstance(entry, Mapping) or set(entry) != {"between", "rank"}:
                raise SpecError("must be a table with exactly the keys 'between' and 'rank'")
            corrs.append(Correlation(entry["between"], entry["rank"]))
        except SpecError as exc:
            raise SpecError(f"{where}: {label}: {exc}") from None
    if "correlation_matrix" in data:
        cm = data["correlation_matrix"]
        if not isinstance(cm, Mapping) or set(cm) != {"parameters", "rank"}:
            raise SpecError(f"{where}: [correlation_matrix] needs exactly 'parameters' and 'rank'")
        names = cm["parameters"]
        if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
            raise SpecError(f"{where}: [correlation_matrix] parameters must be a list of names")
        m = check_correlation_matrix(cm["rank"], names, f"{where}: [correlation_matrix]")
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                if m[i, j] != 0.0:
                    try:
                        corrs.append(Correlation((names[i], names[j]), m[i, j]))
                    except SpecError as exc:
                        raise SpecError(f"{where}: [correlation_matrix]: {exc}") from None
    return corrs
