"""Shock specifications (TOML files or command-line flags) and their engine parameters.

A shock file (``scenarios/shocks/*.toml``)::

    name = "middle_5pct_2027"          # optional, defaults to the file stem
    description = "AI displaces 5% of middle-skill jobs within 12 months from 2027"

    [displacement]                     # optional: jobs lost to a displacement shock
    share = 0.05                       # share of the group's 2024 jobs, in [0, 1]
    skill = "middle"                   # "low" | "middle" | "high" | "all" | a list
    start = 2027.0                     # decimal year or "YYYY-MM" (first day of the month)
    duration_months = 12               # > 0; jobs are lost at a constant rate

    [demand]                           # optional: temporary fall in output demand
    depth = 0.03                       # share, in [0, 1]
    start = "2027-01"
    duration_months = 6

    [policy]                           # optional: policy levers only (Vensim names)
    "WW maximum duration" = 12

Shocks enter the model only through its shock inputs (``Shock job loss share[Skill]``,
``Shock start``, ``Shock duration``, ``Demand shock depth``, ``Demand shock start``,
``Demand shock duration``); the policy variant is applied to the baseline and the
shocked run alike, so each shock is compared with the same policy without the shock.
Every problem raises :class:`~sdmodel.errors.SdmodelError` naming the file and the key.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sdmodel.errors import SdmodelError
from sdmodel.io.tomlfile import read_toml
from sdmodel.model.naming import normalize

#: Skill groups of the model (``Skill`` subscript range).
SKILLS: tuple[str, ...] = ("low", "middle", "high")

#: Policy levers a shock file's ``[policy]`` table and ``--policy`` may set.
POLICY_LEVERS: tuple[str, ...] = (
    "WW replacement rate higher",
    "WW replacement rate lower",
    "WW maximum duration",
    "AWf premium rule switch",
    "AWf balance restoration horizon",
    "AWf premium adjustment time",
    "AWf target balance",
    "Retraining capacity investment",
    "Capacity response to waiting list",
    "Adoption support factor",
)
_LEVERS = {normalize(name): name for name in POLICY_LEVERS}

#: Model period (Vensim INITIAL TIME, FINAL TIME) used when none is given.
DEFAULT_PERIOD: tuple[float, float] = (2024.0, 2050.0)

_TOP_KEYS = {"name", "description", "displacement", "demand", "policy"}
_DISPLACEMENT_KEYS = {"share", "skill", "start", "duration_months"}
_DEMAND_KEYS = {"depth", "start", "duration_months"}
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


@dataclass(frozen=True)
class Displacement:
    """Jobs lost to automation: ``share`` of each listed group's 2024 jobs."""

    share: float
    skills: tuple[str, ...]
    start: float
    months: float


@dataclass(frozen=True)
class Demand:
    """Temporary fall of output demand by ``depth`` (share)."""

    depth: float
    start: float
    months: float


@dataclass(frozen=True)
class ShockSpec:
    """One shock: displacement and/or demand shock plus a policy variant."""

    name: str
    description: str = ""
    displacement: Displacement | None = None
    demand: Demand | None = None
    policy: dict[str, float] = field(default_factory=dict)
    path: Path | None = None

    @property
    def start(self) -> float:
        """Earliest start of the shock's parts (the model's shock start if none)."""
        starts = [p.start for p in (self.displacement, self.demand) if p is not None]
        return min(starts) if starts else 2027.0

    def settings(self) -> dict[str, float | dict[str, float]]:
        """Model constants of the shocked run (Vensim names), policy included."""
        return {**self.policy, **self.shock_settings()}

    def shock_settings(self) -> dict[str, float | dict[str, float]]:
        """The shock inputs alone (Vensim names), without the policy."""
        out: dict[str, float | dict[str, float]] = {}
        if self.displacement is not None:
            d = self.displacement
            out["Shock job loss share"] = {s: (d.share if s in d.skills else 0.0) for s in SKILLS}
            out["Shock start"] = d.start
            out["Shock duration"] = d.months / 12.0
        if self.demand is not None:
            out["Demand shock depth"] = self.demand.depth
            out["Demand shock start"] = self.demand.start
            out["Demand shock duration"] = self.demand.months / 12.0
        return out

    def baseline_settings(self) -> dict[str, float | dict[str, float]]:
        """Model constants of the baseline: the same policy variant, no shock."""
        return dict(self.policy)


def parse_date(value: object, where: str) -> float:
    """A decimal year (number) or ``"YYYY-MM"`` (first day of that month) as a float.

    Raises
    ------
    SdmodelError
        If ``value`` is neither.
    """
    if isinstance(value, str):
        match = _MONTH.match(value)
        if match:
            month = int(match.group(2))
            if not 1 <= month <= 12:
                raise SdmodelError(f"{where}: month {month} in {value!r} is not 1-12")
            return int(match.group(1)) + (month - 1) / 12.0
        try:
            return _finite(float(value), where)
        except ValueError:
            raise SdmodelError(
                f"{where}: {value!r} is not a date (decimal year such as 2027.5 or 'YYYY-MM')"
            ) from None
    return _number(value, where)


def _finite(number: float, where: str) -> float:
    if not math.isfinite(number):
        raise SdmodelError(f"{where}: value {number!r} is not finite")
    return number


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SdmodelError(f"{where}: value {value!r} is not a number")
    return _finite(float(value), where)


def parse_skills(value: object, where: str) -> tuple[str, ...]:
    """``"middle"``, ``"all"``, ``"low,high"`` or a list -> tuple of skill groups."""
    if isinstance(value, str):
        items = [v.strip().lower() for v in value.split(",") if v.strip()]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [v.strip().lower() for v in value]
    else:
        raise SdmodelError(f"{where}: expected a skill group name or a list of names")
    if items == ["all"]:
        return SKILLS
    unknown = [v for v in items if v not in SKILLS]
    if unknown or not items:
        bad = unknown[0] if unknown else str(value)
        raise SdmodelError(
            f"{where}: unknown skill group {bad!r} (known: {', '.join(SKILLS)}, all)"
        )
    return tuple(s for s in SKILLS if s in items)


def policy_lever(name: str, where: str) -> str:
    """Canonical Vensim name of a policy lever (error for anything else)."""
    lever = _LEVERS.get(normalize(name))
    if lever is None:
        raise SdmodelError(
            f"{where}: {name!r} is not a policy lever (allowed: {', '.join(POLICY_LEVERS)})"
        )
    return lever


def _check_share(value: float, where: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise SdmodelError(f"{where}: {value:g} is outside [0, 1]")
    return value


def _check_months(value: float, where: str) -> float:
    if value <= 0:
        raise SdmodelError(f"{where}: duration must be > 0 months, got {value:g}")
    return value


def _check_start(value: float, where: str, period: tuple[float, float]) -> float:
    t0, t1 = period
    if not t0 <= value < t1:
        raise SdmodelError(f"{where}: start {value:g} is outside the model period [{t0:g}, {t1:g})")
    return value


def _table(data: Mapping, key: str, allowed: set[str], where: str) -> dict:
    table = data[key]
    if not isinstance(table, dict):
        raise SdmodelError(f"{where}: [{key}] must be a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SdmodelError(
            f"{where}: unknown key {unknown[0]!r} in [{key}] "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    missing = sorted(allowed - set(table))
    if missing:
        raise SdmodelError(f"{where}: [{key}] needs key {missing[0]!r}")
    return table


def parse_shock(
    data: Mapping,
    where: str,
    default_name: str,
    period: tuple[float, float] = DEFAULT_PERIOD,
    path: Path | None = None,
) -> ShockSpec:
    """Check a parsed shock table (see the module docstring) and build a :class:`ShockSpec`.

    Raises
    ------
    SdmodelError
        Unknown keys or sections, missing keys, values out of range; the message names
        ``where`` (the file) and the key.
    """
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise SdmodelError(
            f"{where}: unknown key or section {unknown[0]!r} "
            f"(allowed: {', '.join(sorted(_TOP_KEYS))})"
        )
    name = data.get("name", default_name)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.+-]+", name.strip()):
        raise SdmodelError(f"{where}: key 'name' must be a word (letters, digits, _ . + -)")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SdmodelError(f"{where}: key 'description' must be a string")
    displacement = demand = None
    if "displacement" in data:
        t = _table(data, "displacement", _DISPLACEMENT_KEYS, where)
        displacement = Displacement(
            share=_check_share(
                _number(t["share"], f"{where}: displacement.share"), f"{where}: displacement.share"
            ),
            skills=parse_skills(t["skill"], f"{where}: displacement.skill"),
            start=_check_start(
                parse_date(t["start"], f"{where}: displacement.start"),
                f"{where}: displacement.start",
                period,
            ),
            months=_check_months(
                _number(t["duration_months"], f"{where}: displacement.duration_months"),
                f"{where}: displacement.duration_months",
            ),
        )
    if "demand" in data:
        t = _table(data, "demand", _DEMAND_KEYS, where)
        demand = Demand(
            depth=_check_share(
                _number(t["depth"], f"{where}: demand.depth"), f"{where}: demand.depth"
            ),
            start=_check_start(
                parse_date(t["start"], f"{where}: demand.start"), f"{where}: demand.start", period
            ),
            months=_check_months(
                _number(t["duration_months"], f"{where}: demand.duration_months"),
                f"{where}: demand.duration_months",
            ),
        )
    policy: dict[str, float] = {}
    if "policy" in data:
        if not isinstance(data["policy"], dict):
            raise SdmodelError(f"{where}: [policy] must be a table")
        for key, value in data["policy"].items():
            lever = policy_lever(key, f"{where}: policy key {key!r}")
            policy[lever] = _number(value, f"{where}: policy key {key!r}")
    if displacement is None and demand is None:
        raise SdmodelError(f"{where}: needs a [displacement] or [demand] section")
    return ShockSpec(name.strip(), description.strip(), displacement, demand, policy, path)


def load_shock(path: str | os.PathLike, period: tuple[float, float] = DEFAULT_PERIOD) -> ShockSpec:
    """Read and check a shock file.

    Raises
    ------
    SdmodelError
        Missing file, malformed TOML or any invalid key (named with the file).
    """
    path = Path(path)
    data = read_toml(path, "shock file")
    return parse_shock(data, str(path), path.stem, period, path)


def parse_policy(texts: Sequence[str]) -> dict[str, float]:
    """``--policy "Name=value"`` options -> {lever: value} (levers only)."""
    out: dict[str, float] = {}
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise SdmodelError(f"--policy {text!r}: expected 'Vensim name=value'")
        lever = policy_lever(name.strip(), f"--policy {text!r}")
        try:
            out[lever] = _finite(float(value.strip()), f"--policy {text!r}")
        except ValueError:
            raise SdmodelError(f"--policy {text!r}: {value.strip()!r} is not a number") from None
    return out


def flag_name(spec: ShockSpec) -> str:
    """Name for a shock given by flags, e.g. ``middle_5pct_2027``."""
    parts: list[str] = []
    if spec.displacement is not None:
        d = spec.displacement
        group = "all" if d.skills == SKILLS else "+".join(d.skills)
        parts.append(f"{group}_{d.share * 100:g}pct_{d.start:g}_{d.months:g}m")
    if spec.demand is not None:
        parts.append(f"demand_{spec.demand.depth * 100:g}pct_{spec.demand.start:g}")
    if spec.policy:
        parts.append("policy")
    return "_".join(parts) or "shock"


def apply_flags(
    spec: ShockSpec | None,
    *,
    share: float | None = None,
    skill: str | None = None,
    start: str | None = None,
    months: float | None = None,
    demand_depth: float | None = None,
    demand_start: str | None = None,
    demand_months: float | None = None,
    policy: Sequence[str] = (),
    period: tuple[float, float] = DEFAULT_PERIOD,
    policy_constants: Mapping[str, float] | None = None,
) -> ShockSpec:
    """Build a shock from command-line flags, or override a file's values with them.

    Without a file, ``--share`` (or ``--demand-depth``) is required; skill defaults to
    ``all``, start to 2027 and months to 12. The policy variant is the shock file's
    ``[policy]``, then ``policy_constants`` (from ``--policy-file``, see
    :mod:`sdmodel.model.policies`), then ``--policy``; a later one wins.

    Raises
    ------
    SdmodelError
        Invalid values (naming the flag).
    """
    base = spec
    displacement = base.displacement if base else None
    if any(v is not None for v in (share, skill, start, months)):
        old = displacement or Displacement(0.0, SKILLS, 2027.0, 12.0)
        if displacement is None and share is None:
            raise SdmodelError("--share: required with --skill/--start/--months")
        displacement = Displacement(
            share=_check_share(_finite(share, "--share"), "--share")
            if share is not None
            else old.share,
            skills=parse_skills(skill, "--skill") if skill is not None else old.skills,
            start=_check_start(parse_date(start, "--start"), "--start", period)
            if start is not None
            else old.start,
            months=_check_months(_finite(months, "--months"), "--months")
            if months is not None
            else old.months,
        )
    demand = base.demand if base else None
    if any(v is not None for v in (demand_depth, demand_start, demand_months)):
        old_d = demand or Demand(0.0, 2027.0, 12.0)
        if demand is None and demand_depth is None:
            raise SdmodelError("--demand-depth: required with --demand-start/--demand-months")
        demand = Demand(
            depth=_check_share(_finite(demand_depth, "--demand-depth"), "--demand-depth")
            if demand_depth is not None
            else old_d.depth,
            start=_check_start(parse_date(demand_start, "--demand-start"), "--demand-start", period)
            if demand_start is not None
            else old_d.start,
            months=_check_months(_finite(demand_months, "--demand-months"), "--demand-months")
            if demand_months is not None
            else old_d.months,
        )
    levers = {**(base.policy if base else {}), **(policy_constants or {}), **parse_policy(policy)}
    if base is None:
        if displacement is None and demand is None:
            raise SdmodelError("give a shock FILE or flags (--share or --demand-depth)")
        spec = ShockSpec("shock", "", displacement, demand, levers)
        description = "; ".join(
            text
            for text in (
                displacement
                and (
                    f"{displacement.share:.0%} of {'+'.join(displacement.skills)}-skill jobs "
                    f"lost over {displacement.months:g} months from {displacement.start:g}"
                ),
                demand
                and (
                    f"output demand {demand.depth:.0%} lower for {demand.months:g} months "
                    f"from {demand.start:g}"
                ),
                levers and "policy " + ", ".join(f"{k}={v:g}" for k, v in levers.items()),
            )
            if text
        )
        return replace(spec, name=flag_name(spec), description=description)
    return replace(base, displacement=displacement, demand=demand, policy=levers)


def settings_digest(record: Mapping[str, object]) -> str:
    """Eight hex digits of the SHA-256 of a JSON record of a command's settings.

    Numbers should come formatted (``f"{x:.12g}"``) so that ``5%`` and ``0.05`` agree.
    """
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def safe_name(name: str, fallback: str = "scenario") -> str:
    """A file-name-safe form of a scenario or shock name (``.toml`` stem for a path)."""
    name = Path(name).stem if name.endswith(".toml") else name
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", name).strip(".-") or fallback


def default_dirname(
    spec: ShockSpec,
    scenario: str,
    *,
    runs: int,
    seed: int | None,
    spec_path: str | os.PathLike | None,
    horizon: float,
    policy_files: Sequence[str | os.PathLike],
    model_path: str | os.PathLike,
) -> str:
    """Default output directory of ``sdmodel shock run``: ``<shock>_<scenario>_<digest>``.

    ``<digest>`` (:func:`settings_digest`) covers every setting: the resolved shock and
    its policy levers, scenario, ensemble size, seed and uncertainty file, horizon, policy
    files and model file. So the same shock under another scenario, ensemble or policy
    never replaces another run's report, while the same settings again replace their own.
    """

    def num(x: float) -> str:
        return f"{float(x):.12g}"

    def levers(d: Mapping[str, float | Mapping[str, float]]) -> dict[str, object]:
        return {
            k: ({e: num(x) for e, x in v.items()} if isinstance(v, Mapping) else num(v))
            for k, v in d.items()
        }

    record = {
        "shock": spec.name,
        "settings": levers(spec.settings()),
        "scenario": str(scenario),
        "runs": int(runs),
        "seed": seed,
        "spec": str(Path(spec_path).resolve()) if spec_path else None,
        "horizon": num(horizon),
        "policy_files": [str(Path(p).resolve()) for p in policy_files],
        "model": str(Path(model_path).resolve()),
    }
    return f"{safe_name(spec.name, 'shock')}_{safe_name(str(scenario))}_{settings_digest(record)}"
