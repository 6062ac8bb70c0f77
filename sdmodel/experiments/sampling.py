"""Samplers for uncertainty specs: Latin hypercube, scrambled Sobol and plain random.

The whole design is generated once, ``n x k`` float64 (100,000 runs x 40 parameters is
32 MB), and callers slice rows for their chunks, so the values of run ``i`` depend only on
the seed, the sampler, the number of runs ``n`` and ``i``, never on chunking or workers.

Pipeline: uniform design in [0, 1)^k (``scipy.stats.qmc`` or ``Generator.random``) ->
Gaussian copula for the correlated columns (Spearman ``rho`` -> Pearson
``2 sin(pi rho / 6)`` of the normal scores, Cholesky) -> inverse CDF of each marginal
(truncation by CDF rescaling, see :mod:`sdmodel.experiments.uncertainty`). Uncorrelated columns skip
the copula, so they keep the exact Latin-hypercube stratification.

Examples
--------
>>> s = sample(load_spec("uncertainty.toml"), 1000, seed=42)  # doctest: +SKIP
>>> s.as_params(0, 100)["Adoption delay[middle]"].shape       # doctest: +SKIP
(100,)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats
from scipy.stats import qmc

from sdmodel.errors import SdmodelError
from sdmodel.experiments.designs import (
    DEFAULT_LEVELS,
    STRUCTURED,
    check_structured,
    to_quantiles,
    unit_design,
)
from sdmodel.experiments.uncertainty import UncertaintySpec

SamplerName = Literal["lhs", "sobol", "random", "saltelli", "morris"]

#: Sampler names accepted by :func:`sample`: three of independent draws, and the two
#: structured designs of global sensitivity analysis (:mod:`sdmodel.experiments.designs`).
SAMPLERS: tuple[str, ...] = ("lhs", "sobol", "random", *STRUCTURED)
#: The samplers of independent draws (any number of runs; correlations honoured).
INDEPENDENT: tuple[str, ...] = SAMPLERS[:3]

# Uniform draws are kept inside [2^-53, 1 - 2^-53] so that normal scores and unbounded
# inverse CDFs stay finite (an LHS or scrambled-Sobol point can be exactly 0).
_U_MIN = 2.0**-53
_U_MAX = 1.0 - 2.0**-53


#: Largest sampling seed. numpy's SeedSequence takes any non-negative integer, but the
#: seed is recorded in the output files as a NetCDF attribute, whose widest integer type
#: is unsigned 64-bit.
SEED_MAX = 2**64 - 1


def check_seed(seed: int) -> int:
    """``seed`` if it is a usable sampling seed.

    Parameters
    ----------
    seed
        The seed of the parameter draws.

    Returns
    -------
    int
        ``seed`` unchanged.

    Raises
    ------
    SdmodelError
        If ``seed`` is outside ``[0, SEED_MAX]`` (the message gives the range).
    """
    if not 0 <= seed <= SEED_MAX:
        raise SdmodelError(
            f"{seed} is outside the allowed range [0, 2**64 - 1] "
            f"(0 to {SEED_MAX}; the seed is stored as an unsigned 64-bit attribute)"
        )
    return seed


def _generator(seed: int | np.random.Generator | None) -> tuple[np.random.Generator, int | None]:
    """Return ``(generator, recorded seed)``; a fresh entropy seed is drawn for ``None``."""
    if isinstance(seed, np.random.Generator):
        return seed, None
    if seed is None:
        # recorded, so still reproducible: 63 bits of OS entropy, so that the seed fits an
        # int64 NetCDF attribute and `--seed` takes it back (SeedSequence's own entropy
        # has 128 bits and could be neither)
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or a Generator, got {seed!r}")
    return np.random.default_rng(int(seed)), int(seed)


def uniform_design(
    n: int, k: int, rng: np.random.Generator, sampler: SamplerName = "lhs"
) -> np.ndarray:
    """An ``n x k`` design of uniform draws in (0, 1).

    Parameters
    ----------
    n, k : int
        Number of runs (rows) and parameters (columns); ``n >= 1``.
    rng : numpy.random.Generator
        Source of randomness (consumed).
    sampler : {"lhs", "sobol", "random"}
        ``"lhs"``: Latin hypercube (random position within each stratum);
        ``"sobol"``: scrambled Sobol, the first ``n`` points of the ``2^m >= n`` points
        drawn with ``random_base2`` (balance properties hold exactly only when ``n`` is a
        power of two); ``"random"``: independent uniforms.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"number of runs must be a positive integer, got {n!r}")
    if k == 0:
        return np.empty((n, 0))
    if sampler == "lhs":
        u = qmc.LatinHypercube(d=k, rng=rng).random(n)
    elif sampler == "sobol":
        m = max(0, math.ceil(math.log2(n)))
        u = qmc.Sobol(d=k, scramble=True, rng=rng).random_base2(m)[:n]
    elif sampler == "random":
        u = rng.random((n, k))
    else:
        raise ValueError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}")
    return np.clip(np.ascontiguousarray(u, dtype=np.float64), _U_MIN, _U_MAX)


def copula_pearson(rank: np.ndarray) -> np.ndarray:
    """Pearson correlation of the normal scores giving Spearman ``rank``: ``2 sin(pi r/6)``."""
    out = 2.0 * np.sin(np.pi * np.asarray(rank, dtype=float) / 6.0)
    np.fill_diagonal(out, 1.0)
    return out


def apply_copula(u: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Impose Spearman rank correlation ``rank`` (k x k) on independent uniforms ``u``.

    Only the columns with a non-zero off-diagonal correlation are transformed (normal
    scores, multiplied by the Cholesky factor of :func:`copula_pearson`, back through the
    normal CDF); the others are returned unchanged. The marginals stay uniform.
    """
    rank = np.asarray(rank, dtype=float)
    off = rank - np.diag(np.diag(rank))
    cols = np.flatnonzero(np.any(off != 0.0, axis=0))
    out = np.array(u, dtype=np.float64, copy=True)
    if cols.size == 0:
        return out
    chol = np.linalg.cholesky(copula_pearson(rank[np.ix_(cols, cols)]))
    z = stats.norm.ppf(out[:, cols]) @ chol.T
    out[:, cols] = np.clip(stats.norm.cdf(z), _U_MIN, _U_MAX)
    return out


@dataclass(frozen=True, eq=False)
class Sample:
    """A full sampling design: row ``i`` holds the parameter values of run ``i``.

    Attributes
    ----------
    spec : UncertaintySpec
        The spec the sample was drawn from.
    values : numpy.ndarray
        ``(n, k)`` float64, read-only; column ``j`` is ``names[j]``.
    names : tuple of str
        Parameter names as in the spec (``"Adoption delay[middle]"``).
    sampler : str
        ``"lhs"``, ``"sobol"`` or ``"random"``.
    seed : int or None
        The integer seed (``None`` when a Generator was passed).
    unit : numpy.ndarray or None
        Structured samplers (``saltelli``, ``morris``): the ``(n, k)`` unit-cube design
        the analysis needs (:func:`sdmodel.experiments.designs.unit_design`); else None.
    design : dict
        Structured samplers: the design's attributes (``saltelli_base_runs``,
        ``second_order``, ``morris_levels``, ``morris_trajectories``); else empty.
    """

    spec: UncertaintySpec = field(repr=False)
    values: np.ndarray = field(repr=False)
    names: tuple[str, ...]
    sampler: str
    seed: int | None
    unit: np.ndarray | None = field(default=None, repr=False)
    design: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.values.shape[0]

    @property
    def n(self) -> int:
        """Number of runs."""
        return self.values.shape[0]

    def _range(self, start: int, stop: int | None) -> slice:
        stop = self.n if stop is None else stop
        if not 0 <= start <= stop <= self.n:
            raise IndexError(f"rows [{start}, {stop}) outside the sample of {self.n} runs")
        return slice(start, stop)

    def rows(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows ``start:stop`` (a read-only view, ``(stop - start, k)``)."""
        return self.values[self._range(start, stop)]

    def as_params(self, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
        """Values of runs ``start:stop`` by spec name, each a contiguous ``(stop-start,)``."""
        block = self.rows(start, stop)
        return {name: np.ascontiguousarray(block[:, j]) for j, name in enumerate(self.names)}

    def to_attrs(self, name: str) -> dict[str, Any]:
        """JSON-able flat description of parameter ``name`` (for NetCDF attributes).

        Keys: ``name``, ``distribution`` and its parameters (e.g. ``lower``, ``mode``,
        ``upper``; lists for discrete ``values``/``probabilities``), ``source`` and/or
        ``rationale``, ``sampler`` and ``seed`` (omitted when unknown), and
        ``rank_correlations``: a JSON object string ``{other name: rho}`` (omitted if none).
        """
        i = self.spec.index(name)
        out = self.spec.parameters[i].to_attrs()
        out["sampler"] = self.sampler
        if self.seed is not None:
            out["seed"] = self.seed
        corr = {
            self.names[j]: float(r)
            for j, r in enumerate(self.spec.rank_correlation()[i])
            if j != i and r != 0.0
        }
        if corr:
            out["rank_correlations"] = json.dumps(corr)
        return out

    def attrs(self) -> dict[str, Any]:
        """JSON-able global description: sampler, seed, number of runs, parameter names."""
        out: dict[str, Any] = {
            "sampler": self.sampler,
            "n_samples": self.n,
            "uncertain_parameters": list(self.names),
        }
        if self.seed is not None:
            out["seed"] = self.seed
        out.update(self.design)
        if self.spec.description:
            out["uncertainty_description"] = self.spec.description
        if self.spec.path is not None:
            out["uncertainty_spec"] = str(self.spec.path)
        return out


def sample(
    spec: UncertaintySpec,
    n: int,
    seed: int | np.random.Generator | None = None,
    sampler: SamplerName = "lhs",
    *,
    rng: np.random.Generator | None = None,
    second_order: bool = False,
    levels: int = DEFAULT_LEVELS,
) -> Sample:
    """Draw the full ``n``-run design for ``spec``.

    Parameters
    ----------
    spec : UncertaintySpec
        Checked spec (see :func:`sdmodel.experiments.uncertainty.load_spec` and ``validate``).
    n : int
        Number of runs.
    seed : int or numpy.random.Generator, optional
        Same integer seed, sampler and ``n`` give bit-identical values. ``None`` draws a
        fresh seed from OS entropy and records it in :attr:`Sample.seed`.
    sampler : {"lhs", "sobol", "random", "saltelli", "morris"}
        Latin hypercube (default), scrambled Sobol, plain random, or the structured
        designs of :mod:`sdmodel.experiments.designs`, for which ``n`` is the Saltelli base
        number ``N`` (a power of two; ``N (k + 2)`` rows, ``N (2k + 2)`` with
        ``second_order``) or the number of Morris trajectories (``n (k + 1)`` rows), and
        ``seed`` must be an integer.
    rng : numpy.random.Generator, optional
        Alternative to ``seed`` (give one of them); its state is consumed.
    second_order : bool
        Saltelli only: the extra rows for second-order indices.
    levels : int
        Morris only: the number of grid levels.

    Returns
    -------
    Sample
    """
    if rng is not None:
        if seed is not None:
            raise ValueError("give either seed or rng, not both")
        seed = rng
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}")
    if sampler in STRUCTURED:
        return _structured(spec, n, seed, sampler, second_order, levels)
    gen, recorded = _generator(seed)
    u = apply_copula(uniform_design(n, len(spec), gen, sampler), spec.rank_correlation())
    values = np.empty_like(u)
    for j, param in enumerate(spec.parameters):
        values[:, j] = param.distribution.ppf(u[:, j])
    values.flags.writeable = False
    return Sample(spec, values, spec.names, sampler, recorded)


def _structured(
    spec: UncertaintySpec, n: int, seed: Any, sampler: str, second_order: bool, levels: int
) -> Sample:
    """:func:`sample` for the structured samplers (``saltelli``, ``morris``)."""
    if seed is None:
        _, seed = _generator(None)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"--sampler {sampler} needs an integer seed, got {seed!r}")
    rank = spec.rank_correlation()
    correlated = bool(np.any(rank - np.diag(np.diag(rank)) != 0.0))
    check_structured(sampler, n, len(spec), correlated, levels)
    unit, attrs = unit_design(
        sampler, spec.names, n, int(seed), second_order=second_order, levels=levels
    )
    bounded = np.array([np.isfinite(p.distribution.bounds).all() for p in spec.parameters])
    q = to_quantiles(sampler, unit, bounded)
    values = np.empty_like(q)
    for j, param in enumerate(spec.parameters):
        values[:, j] = param.distribution.ppf(q[:, j])
    values.flags.writeable = False
    unit.flags.writeable = False
    return Sample(spec, values, spec.names, sampler, int(seed), unit, attrs)
