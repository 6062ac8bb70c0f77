"""Marginal distributions of uncertain parameters, sampled by their inverse CDF.

Used by :mod:`sdmodel.experiments.uncertainty` (which re-exports everything here) to build the
``[[parameter]]`` entries of an uncertainty spec: ``uniform``, ``loguniform``,
``triangular``, ``normal`` and ``lognormal`` (both optionally truncated) and ``discrete``.
Invalid parameters raise :class:`SpecError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from sdmodel.errors import SdmodelError

#: Truncation bounds must keep at least this much probability mass.
MIN_TRUNCATED_MASS = 1e-9


class SpecError(SdmodelError, ValueError):
    """An uncertainty spec is invalid; the message names the file and the entry."""


def _num(value: Any, what: str) -> float:
    """Return ``value`` as a finite float or raise :class:`SpecError`."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise SpecError(f"{what} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise SpecError(f"{what} must be finite, got {value!r}")
    return out


def _opt_num(value: Any, what: str) -> float | None:
    return None if value is None else _num(value, what)


# ----------------------------------------------------------------------------- distributions
@dataclass(frozen=True)
class Distribution:
    """A univariate marginal distribution, sampled by its inverse CDF.

    Continuous subclasses define their parameters as dataclass fields, ``_check`` and the
    scipy distribution ``_dist``; fields named ``lower``/``upper`` bound (truncate) the
    distribution, applied by CDF rescaling. Invalid parameters raise :class:`SpecError`.
    """

    kind: ClassVar[str] = ""
    #: TOML keys accepted besides the field names (e.g. lognormal ``mean_log``).
    aliases: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        for f in fields(self):
            val = getattr(self, f.name)
            object.__setattr__(self, f.name, _opt_num(val, f.name) if val is not None else None)
            if val is None and f.default is MISSING:
                raise SpecError(f"{f.name} is required")
        self._check()
        lower, upper = self._truncation
        if lower is not None and upper is not None and not lower < upper:
            raise SpecError(f"lower bound {lower:g} must be below upper bound {upper:g}")
        lo, hi = self._cdf_limits
        if not hi - lo >= MIN_TRUNCATED_MASS:
            raise SpecError(
                f"truncation to [{self.bounds[0]:g}, {self.bounds[1]:g}] keeps probability "
                f"mass {hi - lo:.3g} (< {MIN_TRUNCATED_MASS:g}): it excludes (almost) all mass"
            )

    @classmethod
    def keys(cls) -> frozenset[str]:
        """TOML keys accepted for this distribution (besides ``distribution``)."""
        return frozenset(f.name for f in fields(cls)) | cls.aliases

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> Distribution:
        """Build from the distribution keys of a TOML ``[[parameter]]`` table."""
        return cls(**table)

    def _check(self) -> None:
        """Check parameter values (subclasses)."""

    @property
    def _dist(self) -> Any:
        raise NotImplementedError

    @property
    def _truncation(self) -> tuple[float | None, float | None]:
        return getattr(self, "lower", None), getattr(self, "upper", None)

    @property
    def _cdf_limits(self) -> tuple[float, float]:
        lower, upper = self._truncation
        return (
            0.0 if lower is None else float(self._dist.cdf(lower)),
            1.0 if upper is None else float(self._dist.cdf(upper)),
        )

    @property
    def bounds(self) -> tuple[float, float]:
        """Support ``(lower, upper)`` after truncation, possibly infinite."""
        lo, hi = (float(x) for x in self._dist.support())
        lower, upper = self._truncation
        return (lo if lower is None else max(lo, lower), hi if upper is None else min(hi, upper))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF of the (truncated) distribution at probabilities ``u`` in (0, 1)."""
        lo, hi = self._cdf_limits
        x = self._dist.ppf(lo + np.asarray(u, dtype=float) * (hi - lo))
        return np.clip(x, *self.bounds)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """CDF of the (truncated) distribution."""
        lo, hi = self._cdf_limits
        return np.clip((self._dist.cdf(x) - lo) / (hi - lo), 0.0, 1.0)

    def params(self) -> dict[str, Any]:
        """Defining parameters (``None`` for absent optional ones)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_attrs(self) -> dict[str, Any]:
        """JSON-able flat description: ``distribution`` plus the set parameters."""
        out: dict[str, Any] = {"distribution": self.kind}
        for key, val in self.params().items():
            if val is not None:
                out[key] = list(val) if isinstance(val, tuple) else val
        return out


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on ``[lower, upper]``."""

    lower: float
    upper: float
    kind: ClassVar[str] = "uniform"

    def _check(self) -> None:
        if not np.isfinite(self.upper - self.lower):
            raise SpecError(
                f"uniform from {self.lower:g} to {self.upper:g}: the width of the range is not "
                "a finite number (it overflows a float)"
            )

    @property
    def _dist(self) -> Any:
        return stats.uniform(loc=self.lower, scale=self.upper - self.lower)


@dataclass(frozen=True)
class LogUniform(Uniform):
    """Log-uniform (reciprocal) on ``[lower, upper]`` with ``0 < lower < upper``."""

    kind: ClassVar[str] = "loguniform"

    def _check(self) -> None:
        if self.lower <= 0:
            raise SpecError(f"log-uniform bounds must be positive, got lower = {self.lower:g}")

    @property
    def _dist(self) -> Any:
        return stats.loguniform(self.lower, self.upper)


@dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular with ``lower <= mode <= upper`` and ``lower < upper``."""

    lower: float
    mode: float
    upper: float
    kind: ClassVar[str] = "triangular"

    def _check(self) -> None:
        if self.lower < self.upper and not self.lower <= self.mode <= self.upper:
            raise SpecError(
                f"mode {self.mode:g} outside [lower, upper] = [{self.lower:g}, {self.upper:g}]"
            )

    @property
    def _dist(self) -> Any:
        width = self.upper - self.lower
        return stats.triang((self.mode - self.lower) / width, loc=self.lower, scale=width)


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal with ``mean`` and ``sd > 0``, optionally truncated to ``[lower, upper]``."""

    mean: float
    sd: float
    lower: float | None = None
    upper: float | None = None
    kind: ClassVar[str] = "normal"

    def _check(self) -> None:
        if self.sd <= 0:
            raise SpecError(f"sd must be positive, got {self.sd:g}")

    @property
    def _dist(self) -> Any:
        return stats.norm(loc=self.mean, scale=self.sd)


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Log-normal: ``log X ~ N(log(median), sigma)``, optionally truncated.

    In TOML give ``median`` or ``mean_log`` (= log of the median), not both.
    """

    median: float
    sigma: float
    lower: float | None = None
    upper: float | None = None
    kind: ClassVar[str] = "lognormal"
    aliases: ClassVar[frozenset[str]] = frozenset({"mean_log"})

    def _check(self) -> None:
        if self.median <= 0:
            raise SpecError(f"median must be positive, got {self.median:g}")
        if self.sigma <= 0:
            raise SpecError(f"sigma (sd of log) must be positive, got {self.sigma:g}")
        if self.lower is not None and self.lower < 0:
            raise SpecError(f"lognormal lower truncation must be >= 0, got {self.lower:g}")

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> Distribution:
        table = dict(table)
        if "mean_log" in table:
            if "median" in table:
                raise SpecError("give either median or mean_log, not both")
            table["median"] = math.exp(_num(table.pop("mean_log"), "mean_log"))
        return cls(**table)

    @property
    def _dist(self) -> Any:
        return stats.lognorm(self.sigma, scale=self.median)


@dataclass(frozen=True)
class Discrete(Distribution):
    """Discrete choice among ``values`` with ``probabilities`` (default equal).

    Values are stored sorted (with their probabilities) so the inverse CDF is monotone,
    which rank correlation needs.
    """

    values: tuple[float, ...]
    probabilities: tuple[float, ...] | None = None
    kind: ClassVar[str] = "discrete"

    def __post_init__(self) -> None:
        vals = [_num(v, "each value") for v in _seq(self.values, "values")]
        if not vals or len(set(vals)) != len(vals):
            raise SpecError(f"values must be a non-empty list of distinct numbers, got {vals}")
        probs = [1.0 / len(vals)] * len(vals)
        if self.probabilities is not None:
            probs = [_num(p, "each probability") for p in _seq(self.probabilities, "probs")]
            if len(probs) != len(vals):
                raise SpecError(f"{len(probs)} probabilities for {len(vals)} values")
            if min(probs) < 0:
                raise SpecError(f"probabilities must be non-negative, got {probs}")
            if abs(sum(probs) - 1.0) > 1e-6:
                raise SpecError(f"probabilities must sum to 1, they sum to {sum(probs):.6g}")
        order = np.argsort(vals)
        object.__setattr__(self, "values", tuple(vals[i] for i in order))
        object.__setattr__(self, "probabilities", tuple(probs[i] for i in order))

    @property
    def _cum(self) -> np.ndarray:
        cum = np.cumsum(np.asarray(self.probabilities, dtype=float))
        return cum / cum[-1]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self._cum, np.asarray(u, dtype=float), side="right")
        return np.asarray(self.values, dtype=float)[np.minimum(idx, len(self.values) - 1)]

    def cdf(self, x: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(np.asarray(self.values), np.asarray(x, dtype=float), side="right")
        return np.concatenate([[0.0], self._cum])[idx]

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.values[0], self.values[-1])


def _seq(value: Any, what: str) -> Sequence[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise SpecError(f"{what} must be a list, got {value!r}")
    return value


#: Distribution classes by the TOML ``distribution`` string.
DISTRIBUTIONS: dict[str, type[Distribution]] = {
    cls.kind: cls for cls in (Uniform, Triangular, Normal, LogNormal, LogUniform, Discrete)
}
