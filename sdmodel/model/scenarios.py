"""Scenario files (TOML) and ``--set`` overrides, validated against the model.

A scenario file::

    name = "central"            # optional, defaults to the file stem
    description = "..."         # required
    sources = ["..."]           # required, list of strings
    [constants]
    "Algorithmic efficiency doubling time" = 9
    "Automation midpoint OOM[middle]" = 5.1                     # one element
    "Base adoption delay" = { low = 8, middle = 5, high = 4 }   # several elements
    [control]                   # optional: another simulation period than the model's
    initial_time = 1995
    final_time = 2023

Validated settings map canonical Vensim names to a float (unsubscripted constants) or to
a dict ``{"elem": value}`` (subscripted constants; several subscripts join with ``,``).
A scalar given for a subscripted constant sets every element. The optional ``[control]``
table sets the run's ``initial_time`` and ``final_time`` (the history run, 1995-2023);
every run of the scenario, by either engine, honours them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from sdmodel.errors import SdmodelError
from sdmodel.io.paths import SCENARIO_DIR
from sdmodel.io.tomlfile import read_toml
from sdmodel.model.info import ModelInfo

#: Order in which the standard scenarios are run and shown.
PREFERRED_ORDER = ("no_further_ai", "conservative", "central", "explosive")
_KEYS = {"name", "description", "sources", "constants", "control"}
#: Keys of a scenario's ``[control]`` table (run-level control values).
CONTROL_KEYS = ("initial_time", "final_time")

Value = float | dict[str, float]
Settings = dict[str, Value]


@dataclass(frozen=True)
class Scenario:
    """A scenario as read from its file (constants still keyed as written)."""

    name: str
    description: str
    sources: tuple[str, ...]
    constants: dict[str, object] = field(default_factory=dict)
    path: Path | None = None
    #: Run-level control values (``initial_time``, ``final_time``); empty: the model's.
    control: dict[str, float] = field(default_factory=dict)


#: TOML files in the scenario directory that are not scenarios.
NOT_SCENARIOS = frozenset({"uncertainty"})


def available_scenarios(directory: str | os.PathLike = SCENARIO_DIR) -> list[str]:
    """Names (file stems) of the scenario files, standard ones first in PREFERRED_ORDER.

    ``uncertainty.toml`` (the Monte Carlo specification) lives beside the scenarios but
    is not one.
    """
    stems = sorted(p.stem for p in Path(directory).glob("*.toml") if p.stem not in NOT_SCENARIOS)
    return [s for s in PREFERRED_ORDER if s in stems] + [
        s for s in stems if s not in PREFERRED_ORDER
    ]


def scenario_path(name_or_path: str | os.PathLike, directory=SCENARIO_DIR) -> Path:
    """File of a scenario given by name (``central``) or path (``my/run.toml``)."""
    text = os.fspath(name_or_path)
    if text.endswith(".toml") or os.sep in text or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise SdmodelError(f"scenario file not found: {path}")
        return path
    path = Path(directory) / f"{text}.toml"
    if not path.is_file():
        names = ", ".join(available_scenarios(directory)) or "none"
        raise SdmodelError(f"unknown scenario {text!r} (available: {names})")
    return path


def load_scenario(
    name_or_path: str | os.PathLike,
    info: ModelInfo | None = None,
    directory: str | os.PathLike = SCENARIO_DIR,
) -> Scenario:
    """Read and check a scenario file.

    Parameters
    ----------
    name_or_path
        Scenario name (file stem in ``directory``) or path to a ``.toml`` file.
    info
        When given, the constants are also validated against the model.
    directory
        Where named scenarios live.

    Raises
    ------
    SdmodelError
        Unknown scenario, malformed TOML, missing or mistyped fields, and (with
        ``info``) any invalid constant; the message names the file and the key.
    """
    path = scenario_path(name_or_path, directory)
    data = read_toml(path, "scenario file")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise SdmodelError(f"{path}: unknown key {unknown[0]!r} (allowed: {', '.join(_KEYS)})")
    name = data.get("name", path.stem)
    description = data.get("description")
    sources = data.get("sources")
    constants = data.get("constants", {})
    if not isinstance(name, str) or not name.strip():
        raise SdmodelError(f"{path}: key 'name' must be a non-empty string")
    if not isinstance(description, str) or not description.strip():
        raise SdmodelError(f"{path}: key 'description' is required (a non-empty string)")
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise SdmodelError(f"{path}: key 'sources' is required (a list of strings)")
    if not isinstance(constants, dict):
        raise SdmodelError(f"{path}: key 'constants' must be a table")
    control = _control(data.get("control", {}), path)
    scenario = Scenario(name.strip(), description.strip(), tuple(sources), constants, path, control)
    if info is not None:
        merge_settings(scenario, (), info)
    return scenario


def _control(table: object, path: Path) -> dict[str, float]:
    """The validated ``[control]`` table of a scenario file."""
    if not isinstance(table, dict):
        raise SdmodelError(f"{path}: key 'control' must be a table")
    unknown = sorted(set(table) - set(CONTROL_KEYS))
    if unknown:
        raise SdmodelError(
            f"{path}: unknown control {unknown[0]!r} (allowed: {', '.join(CONTROL_KEYS)})"
        )
    control = {key: _number(table[key], f"{path}: control {key!r}") for key in table}
    start, end = control.get("initial_time"), control.get("final_time")
    if start is not None and end is not None and not start < end:
        raise SdmodelError(
            f"{path}: control initial_time {start:g} is not before final_time {end:g}"
        )
    return control


def run_control(scenarios: Iterable[Scenario]) -> dict[str, float]:
    """The control values shared by scenarios run together (one integration).

    Raises
    ------
    SdmodelError
        When the scenarios set different control values: they cannot share a time axis.
    """
    controls = {tuple(sorted(s.control.items())): s.name for s in scenarios}
    if len(controls) > 1:
        names = ", ".join(controls.values())
        raise SdmodelError(
            f"scenarios with different [control] values cannot run together: {names}"
        )
    return dict(next(iter(controls))) if controls else {}


def require_model_period(scenarios: Iterable[Scenario], command: str) -> None:
    """Reject scenarios with their own ``[control]`` period where ``command`` cannot honour it.

    The sweep, policy comparison and shock commands run the model's own period (2024-2050)
    and compare years of it; a scenario such as the history run (1995-2023) would run
    there with its constants but not its period, so it is refused instead.

    Raises
    ------
    SdmodelError
        Naming the first such scenario and its file.
    """
    for scenario in scenarios:
        if scenario.control:
            raise SdmodelError(
                f"{command}: scenario {scenario.name!r} ({scenario.path}) sets its own period "
                f"([control] {scenario.control}); {command} runs the model's period only "
                "(use sdmodel run)"
            )


def parse_set(text: str) -> tuple[str, float]:
    """Parse a ``--set`` value ``"Vensim name=value"`` or ``"Name[elem]=value"``.

    Raises
    ------
    SdmodelError
        Without ``=``, with an empty name, or with a value that is not a finite number.
    """
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise SdmodelError(f"--set {text!r}: expected 'Vensim name=value'")
    try:
        number = float(value.strip())
    except ValueError:
        raise SdmodelError(f"--set {text!r}: value {value.strip()!r} is not a number") from None
    if not math.isfinite(number):
        raise SdmodelError(f"--set {text!r}: value {value.strip()!r} is not finite")
    return name.strip(), number


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SdmodelError(f"{where}: value {value!r} is not a number")
    if not math.isfinite(value):
        raise SdmodelError(f"{where}: value {value!r} is not finite")
    return float(value)


def _all_keys(info: ModelInfo, subscripts: tuple[str, ...]) -> list[str]:
    keys = [""]
    for sub_range in subscripts:
        keys = [f"{k},{e}" if k else e for k in keys for e in info.range_elements(sub_range)]
    return keys


def _apply(settings: Settings, key: str, value: object, where: str, info: ModelInfo) -> None:
    """Validate one assignment and merge it into ``settings`` (in place)."""
    try:
        ref = info.resolve(key)
    except SdmodelError as exc:
        raise SdmodelError(f"{where}: {exc}") from None
    element = ref.element
    if element.kind != "constant":
        raise SdmodelError(f"{where}: {element.name!r} is a {element.kind}, not a constant")
    if not element.subscripts:
        if isinstance(value, dict):
            raise SdmodelError(f"{where}: {element.name!r} has no subscripts; give one number")
        settings[element.name] = info.check_value(_number(value, where), element, where)
        return
    current = settings.setdefault(element.name, {})
    assert isinstance(current, dict)
    if ref.subscript is not None:
        if isinstance(value, dict):
            raise SdmodelError(f"{where}: {ref.label!r} is one element; give one number")
        current[",".join(ref.subscript)] = info.check_value(_number(value, where), element, where)
    elif isinstance(value, dict):
        for sub_key, sub_value in value.items():
            _apply(settings, f"{element.name}[{sub_key}]", sub_value, f"{where}[{sub_key}]", info)
    else:
        number = info.check_value(_number(value, where), element, where)
        for full_key in _all_keys(info, element.subscripts):
            current[full_key] = number


def merge_settings(
    scenario: Scenario | None,
    overrides: Iterable[tuple[str, float]] | Mapping[str, float] = (),
    info: ModelInfo | None = None,
    *,
    override_origin: str = "--set",
) -> Settings:
    """Scenario constants, then ``--set`` overrides, as one validated mapping.

    Parameters
    ----------
    scenario
        The scenario (or ``None`` for the model's own values plus overrides).
    overrides
        ``(name, value)`` pairs or a mapping, applied after the scenario's constants.
    info
        Model metadata to validate against (required).
    override_origin
        What error messages call the overrides (``--set 'Name': ...``), for callers
        whose overrides come from another option (``--policy``).

    Returns
    -------
    Settings
        Canonical Vensim name -> float, or -> ``{"elem": float}`` for subscripted
        constants.
    """
    if info is None:
        raise TypeError("merge_settings needs the model's ModelInfo")
    settings: Settings = {}
    if scenario is not None:
        origin = str(scenario.path) if scenario.path else f"scenario {scenario.name!r}"
        for key, value in scenario.constants.items():
            _apply(settings, key, value, f"{origin}: key {key!r}", info)
    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    for key, value in items:
        _apply(settings, key, value, f"{override_origin} {key!r}", info)
    return settings


def to_pysd_params(settings: Settings, model, info: ModelInfo) -> dict[str, object]:
    """Convert validated settings into pysd ``params`` for ``model.run``.

    Subscripted constants become ``xr.DataArray`` objects with the model's dimensions,
    starting from the model's current value with the given elements replaced; so call
    this on a freshly loaded (or reloaded) model.
    """
    params: dict[str, object] = {}
    for name, value in settings.items():
        element = info.elements[name]
        if not isinstance(value, dict):
            params[element.py_name] = value
            continue
        current = getattr(model.components, element.py_name)()
        array = xr.DataArray(current).astype(float).copy(deep=True)
        for key, number in value.items():
            labels = key.split(",")
            array.loc[dict(zip(array.dims, labels, strict=True))] = number
        params[element.py_name] = array
    return params
