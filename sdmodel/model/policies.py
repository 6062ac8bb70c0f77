"""Policy variants: TOML files in ``scenarios/policies/`` or ``--policy`` flags.

A policy file is one variant::

    name = "ww_generous"               # optional, defaults to the file stem
    description = "..."                # required
    [constants]                        # model constants (Vensim names) -> values
    "WW replacement rate higher" = 0.8
    "Retraining success probability[low]" = 0.6        # one element
    "Base adoption delay" = { low = 8, middle = 5 }    # several elements

The constants are checked exactly as a scenario's constants and ``--set`` are
(:func:`sdmodel.model.scenarios.merge_settings`): known constant, known elements, a finite
number inside the range the model's units field declares. A variant is applied on top
of a scenario: the scenario's constants first, then the policy's. ``sdmodel compare``
runs variants against their baseline; ``sdmodel shock run`` and ``shock grid`` take the
same files (``--policy-file``). Every problem raises :class:`~sdmodel.errors.SdmodelError`
naming the file and the key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sdmodel.errors import SdmodelError
from sdmodel.io.paths import SCENARIO_DIR
from sdmodel.io.tomlfile import read_toml
from sdmodel.model.info import ModelInfo
from sdmodel.model.scenarios import Scenario, Settings, merge_settings

__all__ = [
    "BASELINE",
    "COMMAND_LINE",
    "POLICY_DIR",
    "Policy",
    "apply_policy",
    "available_policies",
    "load_policy",
    "policy_from_flags",
]

#: Where the policy variant files live.
POLICY_DIR = SCENARIO_DIR / "policies"
#: Name of the variant that all ``--policy`` flags together form.
COMMAND_LINE = "command line"
#: Name of the reference every variant is compared with (no policy file may take it).
BASELINE = "baseline"
_KEYS = {"name", "description", "constants"}
_NAME = re.compile(r"[A-Za-z0-9_.+-]+")


@dataclass(frozen=True)
class Policy:
    """One policy variant: validated model constants to set on top of a scenario.

    Attributes
    ----------
    name, description : str
        As in the file (or :data:`COMMAND_LINE` for ``--policy`` flags).
    constants : dict
        Canonical ``"Vensim name"`` or ``"Vensim name[element]"`` -> value, in the order
        the file gives them (a later key wins over an earlier one, as in a scenario).
    path : Path or None
        The file, if any.
    origin : str
        How error messages name the source (the file, or ``--policy``).
    """

    name: str
    description: str
    constants: dict[str, float] = field(default_factory=dict)
    path: Path | None = None
    origin: str = "--policy"

    def levers(self) -> str:
        """The constants as ``Name=value, ...`` (``no changes`` when empty)."""
        return ", ".join(f"{k}={v:g}" for k, v in self.constants.items()) or "no changes"

    def record(self) -> dict:
        """JSON-able description for provenance attributes."""
        return {
            "name": self.name,
            "description": self.description,
            "file": self.path.name if self.path else None,
            "constants": dict(self.constants),
        }


def available_policies(directory: str | os.PathLike = POLICY_DIR) -> list[str]:
    """File stems of the policy files in ``directory``, sorted."""
    return sorted(p.stem for p in Path(directory).glob("*.toml"))


def _flatten(constants: Mapping[str, object], info: ModelInfo) -> dict[str, float]:
    """Validated constants -> canonical flat labels (``Name`` or ``Name[elem]``)."""
    flat: dict[str, float] = {}

    def put(label: str, value: object) -> None:
        flat.pop(label, None)  # a repeated key moves to the end, as merge_settings applies it
        flat[label] = float(value)  # type: ignore[arg-type]

    for key, value in constants.items():
        ref = info.resolve(key)
        if isinstance(value, dict):
            for sub_key, sub_value in value.items():
                put(info.resolve(f"{ref.element.name}[{sub_key}]").label, sub_value)
        else:
            put(ref.label, value)
    return flat


def load_policy(path: str | os.PathLike, info: ModelInfo) -> Policy:
    """Read a policy file and check its constants against the model.

    Parameters
    ----------
    path
        The ``.toml`` file.
    info
        Model metadata (names, elements, declared ranges).

    Returns
    -------
    Policy

    Raises
    ------
    SdmodelError
        Missing file, malformed TOML, unknown or missing keys, an unknown constant or
        element, a value that is not a number or lies outside the declared range; the
        message names the file and the key.
    """
    path = Path(path)
    if not path.is_file():
        known = ", ".join(available_policies()) or "none"
        raise SdmodelError(f"policy file not found: {path} (in {POLICY_DIR}: {known})")
    data = read_toml(path, "policy file")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise SdmodelError(
            f"{path}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_KEYS))})"
        )
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not _NAME.fullmatch(name.strip()):
        raise SdmodelError(f"{path}: key 'name' must be a word (letters, digits, _ . + -)")
    if name.strip() == BASELINE:
        raise SdmodelError(f"{path}: key 'name': {BASELINE!r} is the reference, not a variant")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise SdmodelError(f"{path}: key 'description' is required (a non-empty string)")
    constants = data.get("constants", {})
    if not isinstance(constants, dict):
        raise SdmodelError(f"{path}: key 'constants' must be a table")
    # the scenario checks, word for word: the same messages for the same mistakes
    merge_settings(Scenario(name, description, (), constants, path), (), info)
    return Policy(
        name.strip(), " ".join(description.split()), _flatten(constants, info), path, str(path)
    )


def policy_from_flags(texts: Sequence[str], info: ModelInfo) -> Policy | None:
    """All ``--policy "Name=value"`` flags as one variant named :data:`COMMAND_LINE`.

    Names must be policy levers (:data:`sdmodel.shocks.spec.POLICY_LEVERS`, as for ``sdmodel
    shock --policy``); values get the range checks of :func:`load_policy`.

    Returns
    -------
    Policy or None
        ``None`` without flags.
    """
    from sdmodel.shocks.spec import parse_policy

    if not texts:
        return None
    levers = parse_policy(texts)
    merge_settings(None, list(levers.items()), info, override_origin="--policy")
    description = "--policy " + ", ".join(f"{k}={v:g}" for k, v in levers.items())
    return Policy(COMMAND_LINE, description, levers)


def apply_policy(scenario: Scenario, policy: Policy | None, info: ModelInfo) -> Settings:
    """Validated settings of ``scenario`` with ``policy`` on top (the baseline for None)."""
    items = list(policy.constants.items()) if policy else []
    origin = policy.origin if policy else "--policy"
    return merge_settings(scenario, items, info, override_origin=origin)
