"""Structured designs for global sensitivity analysis, built with SALib.

Two samplers whose rows are not independent draws but a design that the analysis needs
back (:mod:`sdmodel.analysis.sensitivity`):

``saltelli``
    Saltelli's scheme for Sobol indices, :func:`SALib.sample.sobol.sample` on the unit cube
    ``[0, 1]^k`` (scrambled Sobol base points). ``n`` is the *base* number ``N`` and must
    be a power of two (the balance properties of the Sobol sequence); the design has
    ``N (k + 2)`` rows, or ``N (2k + 2)`` with second-order indices.
``morris``
    Morris' elementary-effects trajectories, :func:`SALib.sample.morris.sample` on a grid
    of ``levels`` points in ``[0, 1]``; ``n`` is the number of trajectories and the design
    has ``n (k + 1)`` rows.

The unit design is then taken through each parameter's marginal by inverse CDF, so any
distribution of the spec works. Sobol indices are invariant to monotone transforms of each
input, so analysing the model outputs of the transformed design gives the indices of the
declared distributions. For Morris, the grid's levels ``0, 1/(p-1), ..., 1`` are the
quantiles of a bounded marginal (so levels 0 and 1 are its bounds, Morris' classic
design over the range); an unbounded one (normal, lognormal without truncation) takes them
on its 1st to 99th percentiles, ``0.01 + 0.98 u``, to stay finite. (Bin midpoints
``(i + 1/2) / p`` would make the jump ``Delta`` exactly half the range for every ``p``,
which a periodic response such as the Ishigami function's ``sin^2`` cannot see.) The
analysis uses the unit design itself, so ``mu*`` is the output change per step of
``Delta`` on the quantile scale, comparable across parameters of different units (SALib's
Morris analysis assumes that scale). Both refuse rank correlations: the indices assume
independent inputs.

Seeds: SALib takes a 32-bit seed; ours go to ``2**64 - 1``, so SALib's seed is the first
word of ``numpy.random.SeedSequence(seed)``: the same seed gives the bit-identical design.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sdmodel.errors import SdmodelError

#: Samplers whose design has a structure that the analysis needs.
STRUCTURED: tuple[str, ...] = ("saltelli", "morris")
#: Default number of grid levels of a Morris design.
DEFAULT_LEVELS = 4


def salib_seed(seed: int) -> int:
    """A 32-bit seed for SALib derived from one of ours (any integer in ``[0, 2**64)``)."""
    return int(np.random.SeedSequence(int(seed)).generate_state(1, np.uint32)[0])


def problem(names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """SALib's problem dict on the unit cube for parameters ``names``."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def design_rows(sampler: str, n: int, k: int, second_order: bool = False) -> int:
    """Rows of the design of ``sampler`` with ``n`` base runs/trajectories and ``k`` inputs."""
    if sampler == "saltelli":
        return n * (2 * k + 2 if second_order else k + 2)
    if sampler == "morris":
        return n * (k + 1)
    return n


def check_structured(
    sampler: str, n: int, k: int, correlated: bool, levels: int = DEFAULT_LEVELS
) -> None:
    """Refuse what the structured designs cannot honour (one-line :class:`SdmodelError`).

    Raises
    ------
    SdmodelError
        ``n`` not a power of two (saltelli) or below 2 (morris), fewer than one parameter,
        fewer than 2 levels, or a spec with rank correlations.
    """
    if k < 1:
        raise SdmodelError(f"--sampler {sampler}: the spec has no uncertain parameters")
    if correlated:
        raise SdmodelError(
            f"--sampler {sampler}: the spec has rank correlations, but Sobol and Morris "
            "indices assume independent inputs (add --independent to sample the marginals "
            "without them)"
        )
    if sampler == "saltelli" and (n < 2 or n & (n - 1)):
        lower = 2 ** max(1, int(math.log2(max(n, 2))))
        raise SdmodelError(
            f"--runs {n}: with --sampler saltelli --runs is the base number N of the Saltelli "
            f"design and must be a power of two (e.g. {lower} or {2 * lower})"
        )
    if sampler == "morris":
        if n < 2:
            raise SdmodelError(f"--runs {n}: a Morris design needs at least 2 trajectories")
        if levels < 2:
            raise SdmodelError(f"--levels {levels}: a Morris grid needs at least 2 levels")


def unit_design(
    sampler: str,
    names: tuple[str, ...],
    n: int,
    seed: int,
    *,
    second_order: bool = False,
    levels: int = DEFAULT_LEVELS,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The unit-cube design of a structured sampler and the attributes that describe it.

    Parameters
    ----------
    sampler : {"saltelli", "morris"}
    names : tuple of str
        Parameter names (columns).
    n : int
        Saltelli base number ``N`` (a power of two) or number of Morris trajectories.
    seed : int
        Our seed (``[0, 2**64)``); SALib gets :func:`salib_seed` of it.
    second_order : bool
        Saltelli: add the ``N k`` rows that second-order indices need.
    levels : int
        Morris: grid levels.

    Returns
    -------
    (numpy.ndarray, dict)
        ``(rows, k)`` float64 in ``[0, 1]``, and the file attributes (``sampler``,
        ``saltelli_base_runs`` and ``second_order``, or ``morris_levels`` and
        ``morris_trajectories``).
    """
    from SALib.sample import morris, sobol

    prob = problem(names)
    if sampler == "saltelli":
        u = sobol.sample(prob, n, calc_second_order=second_order, seed=salib_seed(seed))
        attrs: dict[str, Any] = {"saltelli_base_runs": n, "second_order": int(second_order)}
    elif sampler == "morris":
        u = morris.sample(prob, n, num_levels=levels, seed=salib_seed(seed))
        attrs = {"morris_levels": levels, "morris_trajectories": n}
    else:
        raise ValueError(f"not a structured sampler: {sampler!r}")
    u = np.ascontiguousarray(u, dtype=np.float64)
    if u.shape != (design_rows(sampler, n, len(names), second_order), len(names)):
        raise AssertionError(f"SALib returned a {u.shape} design")  # pragma: no cover
    return u, {"sampler": sampler, **attrs}


#: Morris: the quantile range of the grid of an unbounded marginal.
UNBOUNDED_RANGE = (0.01, 0.99)


def to_quantiles(sampler: str, u: np.ndarray, bounded: np.ndarray) -> np.ndarray:
    """The quantiles at which the marginals are evaluated for unit design ``u``.

    Parameters
    ----------
    sampler : {"saltelli", "morris"}
    u : numpy.ndarray
        ``(rows, k)`` unit design.
    bounded : numpy.ndarray
        ``(k,)`` bool: whether each marginal has finite bounds.

    Saltelli: ``u`` itself. Morris: ``u`` for a bounded marginal, ``0.01 + 0.98 u`` for
    an unbounded one (:data:`UNBOUNDED_RANGE`). Both are then kept inside
    ``[2^-53, 1 - 2^-53]`` (a Sobol point can be 0), as the other samplers' draws are.
    """
    q = np.array(u, dtype=np.float64, copy=True)
    if sampler == "morris":
        lo, hi = UNBOUNDED_RANGE
        q[:, ~bounded] = lo + (hi - lo) * q[:, ~bounded]
    return np.clip(q, 2.0**-53, 1.0 - 2.0**-53)
