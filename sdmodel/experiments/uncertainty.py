"""Uncertainty specification: which model constants are uncertain, and how.

An uncertainty spec is a TOML file with one ``[[parameter]]`` table per uncertain model
constant, named by its Vensim name, either as a whole (one draw applied to every element of a
subscripted constant) or per subscript element (``"Adoption delay[middle]"``; for several
subscripts ``"X[a, b]"``). Every entry needs a non-empty ``source`` or ``rationale``.
Optional ``[[correlation]]`` tables give Spearman rank correlations between entries, which
the samplers (:mod:`sdmodel.experiments.sampling`) impose with a Gaussian copula.
Optional ``[[exclusion]]`` tables (``name``, ``kind``, ``reason``) list the constants
with a plausible range that the spec holds fixed (:mod:`sdmodel.experiments.coverage`).

Format
------
.. code-block:: toml

    description = "Uncertain parameters of the AI labour-market model"

    [[parameter]]
    name = "Automation midpoint OOM[high]"
    distribution = "triangular"   # uniform|triangular|normal|lognormal|loguniform|discrete
    lower = 2.0
    mode = 3.0
    upper = 4.5
    source = "..."                # or rationale = "..."

    [[parameter]]
    name = "Wage adjustment time"
    distribution = "lognormal"
    median = 2.0                  # or mean_log = 0.69 (log of the median)
    sigma = 0.4                   # sd of log
    lower = 0.5                   # optional truncation
    upper = 5.0
    rationale = "..."

    [[parameter]]
    name = "Matching elasticity"
    distribution = "discrete"
    values = [0.4, 0.5, 0.6]
    probabilities = [0.25, 0.5, 0.25]   # optional, default equal
    rationale = "..."

    [[correlation]]
    between = ["Wage adjustment time", "Matching elasticity"]
    rank = -0.3

Distribution parameters: ``uniform``/``loguniform``: ``lower``, ``upper``; ``triangular``:
``lower``, ``mode``, ``upper``; ``normal``: ``mean``, ``sd`` and optional ``lower``/``upper``
truncation; ``lognormal``: ``median`` or ``mean_log``, ``sigma`` and optional truncation;
``discrete``: ``values`` and optional ``probabilities``. Unknown keys are errors (typos).

Instead of (or besides) pairs, a full matrix may be given, checked for symmetry, unit
diagonal and positive definiteness::

    [correlation_matrix]
    parameters = ["A", "B", "C"]
    rank = [[1.0, 0.2, 0.0], [0.2, 1.0, -0.1], [0.0, -0.1, 1.0]]

:func:`load_spec` checks everything that can be checked without the model;
:func:`validate` checks the names against the model's constants and subscript elements.
All problems raise :class:`SpecError`, whose message names the file and the entry.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sdmodel.errors import SdmodelError
from sdmodel.experiments.correlation import (
    Correlation,
    check_correlation_matrix,
    parse_correlations,
)
from sdmodel.experiments.coverage import Exclusion, parse_exclusions
from sdmodel.experiments.distributions import (
    DISTRIBUTIONS,
    MIN_TRUNCATED_MASS,
    Discrete,
    Distribution,
    LogNormal,
    LogUniform,
    Normal,
    SpecError,
    Triangular,
    Uniform,
)
from sdmodel.io.tomlfile import read_toml
from sdmodel.model.naming import normalize

__all__ = [
    "DISTRIBUTIONS",
    "MIN_TRUNCATED_MASS",
    "Correlation",
    "Discrete",
    "Distribution",
    "LogNormal",
    "LogUniform",
    "Normal",
    "Parameter",
    "SpecError",
    "Triangular",
    "UncertaintySpec",
    "Uniform",
    "check_correlation_matrix",
    "constant_elements",
    "load_spec",
    "name_key",
    "parse_spec",
    "split_name",
    "validate",
]


# ----------------------------------------------------------------------------- parameters
_NAME_RE = re.compile(r"^\s*([^\[\]]+?)\s*(?:\[([^\[\]]+)\])?\s*$")


def split_name(name: str) -> tuple[str, tuple[str, ...] | None]:
    """Split ``"Var[a, b]"`` into ``("Var", ("a", "b"))``; ``("Var", None)`` if whole."""
    m = _NAME_RE.match(name) if isinstance(name, str) else None
    if m is None:
        raise SpecError(f"malformed name {name!r}: expected 'Variable' or 'Variable[element]'")
    elements = None if m[2] is None else tuple(e.strip() for e in m[2].split(","))
    if elements is not None and not all(elements):
        raise SpecError(f"malformed name {name!r}: empty subscript element")
    return m[1], elements


def _element_key(elements: Sequence[str]) -> str:
    return ",".join(normalize(e) for e in elements)


def name_key(name: str) -> str:
    """Normalized spec name: ``"Adoption_Delay[ Middle ]"`` -> ``"adoption delay[middle]"``."""
    var, els = split_name(name)
    return normalize(var) if els is None else f"{normalize(var)}[{_element_key(els)}]"


@dataclass(frozen=True)
class Parameter:
    """One uncertain model constant (whole, or one subscript element of it).

    Parameters
    ----------
    name : str
        Vensim name, optionally with a subscript element: ``"Adoption delay[middle]"``.
    distribution : Distribution
        Marginal distribution.
    source, rationale : str, optional
        Where the numbers come from; at least one must be a non-empty string.
    """

    name: str
    distribution: Distribution
    source: str | None = None
    rationale: str | None = None

    def __post_init__(self) -> None:
        split_name(self.name)
        if not isinstance(self.distribution, Distribution):
            raise SpecError(f"distribution must be a Distribution, got {self.distribution!r}")
        for key in ("source", "rationale"):
            val = getattr(self, key)
            if val is not None and not isinstance(val, str):
                raise SpecError(f"{key} must be a string, got {val!r}")
        if not ((self.source or "").strip() or (self.rationale or "").strip()):
            raise SpecError("missing source or rationale (a non-empty string is required)")

    @property
    def variable(self) -> str:
        """Vensim name of the constant, without subscripts."""
        return split_name(self.name)[0]

    @property
    def elements(self) -> tuple[str, ...] | None:
        """Subscript elements, or ``None`` for the whole constant."""
        return split_name(self.name)[1]

    @property
    def key(self) -> str:
        """Normalized name (``"adoption delay[middle]"``), unique within a spec."""
        return name_key(self.name)

    @property
    def bounds(self) -> tuple[float, float]:
        """Support of the distribution."""
        return self.distribution.bounds

    def to_attrs(self) -> dict[str, Any]:
        """JSON-able flat description (name, distribution, its parameters, source)."""
        out: dict[str, Any] = {"name": self.name, **self.distribution.to_attrs()}
        if self.source:
            out["source"] = self.source
        if self.rationale:
            out["rationale"] = self.rationale
        return out


# ----------------------------------------------------------------------------- the spec
@dataclass(frozen=True)
class UncertaintySpec:
    """Uncertain parameters plus their rank correlations.

    Parameters
    ----------
    parameters : sequence of Parameter
        In sampling (column) order. Keys must be unique and a constant may not appear both
        whole and per element.
    correlations : sequence of Correlation
        Pairwise rank correlations; unlisted pairs are independent.
    description : str
        Free text.
    path : Path, optional
        File the spec came from (used in error messages).
    exclusions : sequence of Exclusion
        Constants with a plausible range that the spec holds fixed, with the reason
        (:mod:`sdmodel.experiments.coverage`).
    """

    parameters: tuple[Parameter, ...]
    correlations: tuple[Correlation, ...] = ()
    description: str = ""
    path: Path | None = field(default=None, compare=False)
    exclusions: tuple[Exclusion, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "correlations", tuple(self.correlations))
        object.__setattr__(self, "exclusions", tuple(self.exclusions))
        where = self.origin
        seen: dict[str, str] = {}
        whole: dict[str, str] = {}
        parts: dict[str, str] = {}
        for p in self.parameters:
            if p.key in seen:
                raise SpecError(f"{where}: parameter {p.name!r} is listed twice")
            seen[p.key] = p.name
            var = normalize(p.variable)
            other = parts.get(var) if p.elements is None else whole.get(var)
            if other is not None:
                raise SpecError(
                    f"{where}: parameter {p.name!r} conflicts with {other!r}: a constant is "
                    "uncertain either as a whole or per element, not both"
                )
            (whole if p.elements is None else parts).setdefault(var, p.name)
        pairs: dict[tuple[int, int], float] = {}
        for c in self.correlations:
            idx = []
            for nm in c.between:
                try:
                    idx.append(self.index(nm))
                except KeyError:
                    raise SpecError(
                        f"{where}: correlation {list(c.between)} names {nm!r}, which is not "
                        "a parameter of this spec"
                    ) from None
            i, j = sorted(idx)
            if i == j:
                raise SpecError(
                    f"{where}: correlation {list(c.between)} correlates a parameter with "
                    "itself (the diagonal is 1)"
                )
            if (i, j) in pairs and pairs[(i, j)] != c.rank:
                raise SpecError(
                    f"{where}: correlation {list(c.between)} is given twice with different "
                    f"values ({pairs[(i, j)]:g} and {c.rank:g}): the matrix is not symmetric"
                )
            pairs[(i, j)] = c.rank
        if pairs:
            check_correlation_matrix(self.rank_correlation(), self.names, where)

    @property
    def origin(self) -> str:
        """File name for messages, or ``"<uncertainty spec>"``."""
        return str(self.path) if self.path is not None else "<uncertainty spec>"

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names in column order."""
        return tuple(p.name for p in self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def index(self, name: str) -> int:
        """Column of the parameter called ``name`` (normalized match); ``KeyError`` if none."""
        try:
            key = name_key(name)
        except SpecError:
            raise KeyError(name) from None
        for i, p in enumerate(self.parameters):
            if p.key == key:
                return i
        raise KeyError(name)

    def __getitem__(self, name: str) -> Parameter:
        return self.parameters[self.index(name)]

    def rank_correlation(self) -> np.ndarray:
        """The k x k Spearman rank-correlation matrix (identity where unlisted)."""
        m = np.eye(len(self.parameters))
        for c in self.correlations:
            i, j = (self.index(nm) for nm in c.between)
            m[i, j] = m[j, i] = c.rank
        return m


def _parse_parameter(entry: Any) -> Parameter:
    if not isinstance(entry, Mapping):
        raise SpecError(f"must be a table, got {entry!r}")
    entry = dict(entry)
    kind = entry.pop("distribution", None)
    if not isinstance(kind, str) or kind not in DISTRIBUTIONS:
        raise SpecError(
            f"distribution must be one of {sorted(DISTRIBUTIONS)}, got {kind!r}"
            if kind is not None
            else "missing 'distribution'"
        )
    cls = DISTRIBUTIONS[kind]
    meta = {k: entry.pop(k) for k in ("name", "source", "rationale") if k in entry}
    unknown = set(entry) - cls.keys()
    if unknown:
        raise SpecError(
            f"unknown key(s) {sorted(unknown)} for a {kind} distribution "
            f"(allowed: {sorted(cls.keys())})"
        )
    try:
        dist = cls.from_table(entry)
    except TypeError as exc:  # missing required keys
        detail = str(exc).split("() ", 1)[-1]
        raise SpecError(f"incomplete {kind} distribution: {detail}") from None
    return Parameter(meta["name"], dist, source=meta.get("source"), rationale=meta.get("rationale"))


def parse_spec(data: Mapping[str, Any], path: str | Path | None = None) -> UncertaintySpec:
    """Build an :class:`UncertaintySpec` from parsed TOML data (see module docstring)."""
    where = str(path) if path is not None else "<uncertainty spec>"
    unknown = set(data) - {
        "description",
        "parameter",
        "correlation",
        "correlation_matrix",
        "exclusion",
    }
    if unknown:
        raise SpecError(f"{where}: unknown top-level key(s) {sorted(unknown)}")
    entries = data.get("parameter", [])
    if not isinstance(entries, list) or not entries:
        raise SpecError(f"{where}: no [[parameter]] entries")
    params = []
    for n, entry in enumerate(entries, 1):
        name = entry.get("name") if isinstance(entry, Mapping) else None
        label = f"parameter #{n}" + (f" {name!r}" if name is not None else "")
        try:
            if not isinstance(name, str):
                raise SpecError(f"missing or non-string 'name' ({name!r})")
            params.append(_parse_parameter(entry))
        except SpecError as exc:
            raise SpecError(f"{where}: {label}: {exc}") from None
    corrs = parse_correlations(data, where)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SpecError(f"{where}: description must be a string")
    return UncertaintySpec(
        tuple(params),
        tuple(corrs),
        description,
        Path(path) if path is not None else None,
        parse_exclusions(data.get("exclusion", []), where),
    )


def load_spec(path: str | Path) -> UncertaintySpec:
    """Read and check an uncertainty spec TOML file (names are checked by :func:`validate`).

    Raises
    ------
    SpecError
        Naming the file and the offending entry.
    """
    path = Path(path)
    try:
        data = read_toml(path, "uncertainty spec")
    except SdmodelError as exc:  # missing, unreadable, binary or malformed
        raise SpecError(str(exc)) from None
    return parse_spec(data, path)


Known = Mapping[str, Sequence[str]] | Callable[[str], Sequence[str] | None]


def constant_elements(info: Any) -> dict[str, list[str]]:
    """The ``known`` table of :func:`validate` for a model's metadata.

    Parameters
    ----------
    info : sdmodel.model.info.ModelInfo
        Model metadata.

    Returns
    -------
    dict
        Normalized Vensim name of every constant -> its subscript elements (several
        subscripts joined with ``","``; empty for scalars).
    """
    table: dict[str, list[str]] = {}
    for e in info.by_kind("constant"):
        keys = [""]
        for sub_range in e.subscripts:
            keys = [f"{k},{x}" if k else x for k in keys for x in info.range_elements(sub_range)]
        table[normalize(e.name)] = keys if e.subscripts else []
    return table


def validate(spec: UncertaintySpec, known: Known, info: Any = None) -> UncertaintySpec:
    """Check every parameter name against the model's constants (and their ranges).

    Parameters
    ----------
    spec : UncertaintySpec
    known : mapping or callable
        Maps a normalized Vensim name (:func:`sdmodel.model.naming.normalize`) to the list of its
        subscript elements (empty for scalars; for several subscripts, elements joined with
        ``","``, e.g. ``"low,nl"``). A callable gets the normalized name and returns that
        list, or ``None`` if the name is unknown.
    info : sdmodel.model.info.ModelInfo, optional
        With it, each distribution's support (after truncation) must lie inside the
        range the model declares for its constant, and a time constant's support must
        not reach below the time step (:meth:`ModelInfo.check_value`).

    Returns
    -------
    UncertaintySpec
        ``spec`` itself, for chaining.

    Raises
    ------
    SpecError
        Listing every unknown name or element, naming the file and entry.
    """
    if isinstance(known, Mapping):
        table = {normalize(k): v for k, v in known.items()}
        lookup: Callable[[str], Sequence[str] | None] = table.get
    else:
        lookup = known
    problems = []
    for p in spec.parameters:
        var = normalize(p.variable)
        elements = lookup(var)
        if elements is None:
            problems.append(f"parameter {p.name!r}: unknown model constant {p.variable!r}")
            continue
        if p.elements is None:
            continue
        if not elements:
            problems.append(f"parameter {p.name!r}: {p.variable!r} is not subscripted")
            continue
        allowed = {_element_key(e.split(",")) for e in elements}
        if _element_key(p.elements) not in allowed:
            problems.append(
                f"parameter {p.name!r}: unknown subscript element "
                f"[{', '.join(p.elements)}] of {p.variable!r} (known: {list(elements)})"
            )
    if problems:
        raise SpecError(f"{spec.origin}: " + "; ".join(problems))
    if info is not None:
        for p in spec.parameters:
            _check_support(spec, p, info)
    return spec


def _check_support(spec: UncertaintySpec, p: Parameter, info: Any) -> None:
    """Both ends of ``p``'s support must be values the model takes for its constant."""
    element = info.get(p.variable)
    lo, hi = p.distribution.bounds
    where = f"{spec.origin}: parameter {p.name!r}: support [{lo:g}, {hi:g}]"
    low, high = element.limits
    for end, limit in ((lo, low), (hi, high)):
        if not math.isfinite(end):
            if limit is not None:
                raise SpecError(
                    f"{where} is unbounded, but the model declares the range "
                    f"{element.range_text} for {element.name!r}: truncate the "
                    "distribution (lower/upper)"
                )
            continue
        try:
            info.check_value(end, element, where)
        except SdmodelError as exc:
            raise SpecError(str(exc)) from None
