"""The simulator's controls, taken from the model's metadata rather than a hand-kept list.

A constant is a **policy lever** when its comment in the ``.mdl`` file starts with
``Policy lever`` and a **shock input** when it starts with ``Shock input``; each control
shows the element's units and its declared admissible range (the units field's
``[min, max]``). A subscripted constant gives one control per element
(``Shock job loss share[low]``). The compute scenarios are the scenario files that run
the model's own period (the history run, with its own ``[control]`` period, is left out).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sdmodel.model.info import ModelInfo

#: Comment prefixes that mark a constant as a control, and the group each gives.
GROUPS: tuple[tuple[str, str], ...] = (("policy lever", "policy"), ("shock input", "shock"))

#: Slider positions between the bounds when the range does not suggest a step.
SLIDER_STEPS = 200


@dataclass(frozen=True)
class Control:
    """One slider: a model constant (or one element of it) with its metadata.

    Attributes
    ----------
    key : str
        The reference as ``--set`` takes it: ``Name`` or ``Name[element]``.
    group : str
        ``"policy"`` or ``"shock"``.
    units : str
        The element's units field (without the range).
    low, high : float
        The declared admissible range; a missing bound is replaced by a finite one
        around the default (see :func:`_bounds`), which the range check does not use.
    default : float
        The model's own value.
    step : float
        Slider step.
    comment : str
        The element's comment (shown as a tooltip).
    """

    key: str
    group: str
    units: str
    low: float
    high: float
    default: float
    step: float
    comment: str

    def record(self) -> dict:
        """JSON-able description for the page."""
        return asdict(self)


def _group(comment: str) -> str | None:
    text = comment.strip().lower()
    for prefix, group in GROUPS:
        if text.startswith(prefix):
            return group
    return None


def _bounds(limits: tuple[float | None, float | None], default: float) -> tuple[float, float]:
    """Slider bounds: the declared range, or a finite stand-in for a missing bound."""
    low, high = limits
    span = max(abs(default), 1.0)
    return (default - span if low is None else low, default + span if high is None else high)


def _step(low: float, high: float, units: str) -> float:
    """A round step: whole units for months, counts and money, else 1/200 of the range."""
    if units.strip().lower() in {"month", "months"}:
        return 1.0
    raw = (high - low) / SLIDER_STEPS
    if raw <= 0:
        return 1.0
    return 10.0 ** math.floor(math.log10(raw))


def model_controls(info: ModelInfo, defaults: dict[str, object]) -> list[Control]:
    """The model's policy levers and shock inputs, policy first, each sorted by name.

    Parameters
    ----------
    info
        The model's metadata (:func:`sdmodel.model.info.load_info`).
    defaults
        Vensim name -> the model's value (scalar or array over the subscripts), e.g.
        :attr:`sdmodel.engine.runtime.CompiledModel.constants`.

    Returns
    -------
    list of Control
    """
    import numpy as np

    out: list[Control] = []
    for _, group in GROUPS:
        for element in info.by_kind("constant"):
            if _group(element.comment) != group:
                continue
            value = np.asarray(defaults[element.name], dtype=float)
            labels = [
                ",".join(combo)
                for combo in itertools.product(
                    *(info.range_elements(r) for r in element.subscripts)
                )
            ]
            flat = value.reshape(-1) if labels != [""] else value.reshape(1)
            for label, number in zip(labels, flat, strict=True):
                key = f"{element.name}[{label}]" if label else element.name
                low, high = _bounds(element.limits, float(number))
                out.append(
                    Control(
                        key,
                        group,
                        element.units,
                        low,
                        high,
                        float(number),
                        _step(low, high, element.units),
                        " ".join(element.comment.split()),
                    )
                )
    return out


def serve_scenarios(names: Sequence[str] | None = None) -> list[str]:
    """Compute scenarios the simulator offers: the scenario files on the model's period."""
    from sdmodel.model.scenarios import available_scenarios, load_scenario

    names = available_scenarios() if names is None else names
    return [n for n in names if not load_scenario(n).control]
