"""Does an uncertainty specification cover the model's uncertain constants?

A constant whose comment in the ``.mdl`` states a plausible range ("plausible range 0.2
to 1") is uncertain by the model's own account. A specification covers the model when
each such constant is either sampled (a ``[[parameter]]`` of the whole constant or of its
elements) or listed in an ``[[exclusion]]`` table with the reason it is held fixed::

    [[exclusion]]
    name = "GDP 2024"
    kind = "calibration"
    reason = "a 2024 fact the model is calibrated to, not a behavioural assumption"

``kind`` is one of :data:`EXCLUSION_KINDS`. The exclusions travel with the
specification (:attr:`UncertaintySpec.exclusions`), so a sweep's file says what it held
fixed, and :func:`coverage` reports what is sampled, what is excluded and what is
neither.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sdmodel.experiments.distributions import SpecError
from sdmodel.model.naming import normalize

__all__ = [
    "EXCLUSION_KINDS",
    "Coverage",
    "Exclusion",
    "check_coverage",
    "coverage",
    "parse_exclusions",
    "ranged_constants",
]

#: Why a constant with a plausible range may be held fixed in a specification.
EXCLUSION_KINDS = {
    "calibration": "a fact or calibration target of the 2022-2024 base year, jointly "
    "constrained with the others by the 2024 accounts",
    "scenario": "defines the compute scenarios; varied by choosing a scenario",
    "policy": "a policy lever, varied by policy files and `sdmodel compare`",
    "guard": "a numerical guard, not a quantity of the economy",
    "history": "acts only in the 1995-2023 history run",
    "alternative": "acts only in an alternative model variant that the default run does not use",
    "defect": "sampling it exposes a known model defect (named in the reason)",
}

_PLAUSIBLE = re.compile(r"\bplausible\b", re.IGNORECASE)


@dataclass(frozen=True)
class Exclusion:
    """A constant with a plausible range that a specification holds at its value.

    Parameters
    ----------
    name : str
        Vensim name of the constant (the whole constant, not an element).
    kind : str
        One of :data:`EXCLUSION_KINDS`.
    reason : str
        Why it is held fixed.
    """

    name: str
    kind: str
    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or "[" in self.name:
            raise SpecError(f"name must be the name of a whole constant, got {self.name!r}")
        if self.kind not in EXCLUSION_KINDS:
            raise SpecError(f"kind must be one of {sorted(EXCLUSION_KINDS)}, got {self.kind!r}")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise SpecError("needs a non-empty 'reason'")


def parse_exclusions(entries: Any, where: str) -> tuple[Exclusion, ...]:
    """The ``[[exclusion]]`` tables of a specification, checked without the model."""
    if not isinstance(entries, list):
        raise SpecError(f"{where}: 'exclusion' must be an array of tables ([[exclusion]])")
    out: list[Exclusion] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries, 1):
        name = entry.get("name") if isinstance(entry, Mapping) else None
        label = f"exclusion #{n}" + (f" {name!r}" if name is not None else "")
        try:
            if not isinstance(entry, Mapping) or set(entry) != {"name", "kind", "reason"}:
                raise SpecError("must be a table with exactly the keys 'name', 'kind' and 'reason'")
            exclusion = Exclusion(entry["name"], entry["kind"], entry["reason"])
        except SpecError as exc:
            raise SpecError(f"{where}: {label}: {exc}") from None
        key = normalize(exclusion.name)
        if key in seen:
            raise SpecError(f"{where}: {label} is listed twice")
        seen.add(key)
        out.append(exclusion)
    return tuple(out)


def ranged_constants(info: Any) -> tuple[str, ...]:
    """Constants whose comment in the model states a plausible range, in model order.

    Parameters
    ----------
    info : sdmodel.model.info.ModelInfo
    """
    return tuple(e.name for e in info.by_kind("constant") if _PLAUSIBLE.search(e.comment or ""))


@dataclass(frozen=True)
class Coverage:
    """Which of the model's ranged constants a specification samples or excludes.

    Attributes
    ----------
    sampled, excluded, missing : tuple of str
        Ranged constants sampled (whole or per element), listed as exclusions, and
        neither, in model order.
    unranged : tuple of str
        Sampled constants whose comment states no plausible range (allowed: the spec
        may argue a range from another source).
    """

    sampled: tuple[str, ...]
    excluded: tuple[str, ...]
    missing: tuple[str, ...]
    unranged: tuple[str, ...]


def coverage(spec: Any, info: Any) -> Coverage:
    """Compare a specification with the model's ranged constants.

    Parameters
    ----------
    spec : UncertaintySpec
    info : sdmodel.model.info.ModelInfo

    Raises
    ------
    SpecError
        If an exclusion names no constant of the model, or a constant that the
        specification also samples.
    """
    sampled = {normalize(p.variable) for p in spec.parameters}
    constants = {normalize(e.name): e.name for e in info.by_kind("constant")}
    excluded: dict[str, str] = {}
    for x in spec.exclusions:
        key = normalize(x.name)
        if key not in constants:
            raise SpecError(f"{spec.origin}: exclusion {x.name!r}: unknown model constant")
        if key in sampled:
            raise SpecError(
                f"{spec.origin}: exclusion {x.name!r} is also a [[parameter]] of the spec"
            )
        excluded[key] = x.name
    ranged = {normalize(n): n for n in ranged_constants(info)}  # model order
    return Coverage(
        sampled=tuple(n for k, n in ranged.items() if k in sampled),
        excluded=tuple(n for k, n in ranged.items() if k in excluded),
        missing=tuple(n for k, n in ranged.items() if k not in sampled and k not in excluded),
        unranged=tuple(sorted(constants[k] for k in sampled - ranged.keys() if k in constants)),
    )


def check_coverage(spec: Any, info: Any) -> Coverage:
    """:func:`coverage`, raising :class:`SpecError` if a ranged constant is missing."""
    result = coverage(spec, info)
    if result.missing:
        raise SpecError(
            f"{spec.origin}: {len(result.missing)} constant(s) with a plausible range in the "
            f"model are neither sampled nor excluded: {', '.join(result.missing)}"
        )
    return result
