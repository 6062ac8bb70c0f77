"""Metadata of every model element: names, kind, subscripts, units, comment, equation.

Built from pysd's ``model.doc`` (names, types, units, comments) and the ``.mdl`` text
(equations as written). Names resolve case-, space- and underscore-insensitively
(:func:`sdmodel.model.naming.normalize`), by Python name, and with an element selection such as
``Automation midpoint OOM[middle]``.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sdmodel.errors import SdmodelError
from sdmodel.model.naming import normalize

#: Time units of durations, in years each (:attr:`Element.is_time_constant`).
TIME_UNITS = {"year": 1.0, "years": 1.0, "month": 1 / 12, "months": 1 / 12}

#: Vensim's simulation control variables.
CONTROL_NAMES = frozenset({"initial time", "final time", "time step", "saveper"})


def format_limits(limits: tuple[float | None, float | None]) -> str:
    """A declared range as the units field writes it (``[0.25, ?]``); ``""`` if none."""
    if limits == (None, None):
        return ""
    return "[" + ", ".join("?" if b is None else f"{b:g}" for b in limits) + "]"


@dataclass(frozen=True)
class Element:
    """One model element (variable, constant, lookup, ...)."""

    name: str
    py_name: str
    kind: str
    subscripts: tuple[str, ...] = ()
    units: str = ""
    comment: str = ""
    equation: str = ""
    #: Declared range ``[min, max]`` of the units field (``None``: no bound).
    limits: tuple[float | None, float | None] = (None, None)

    @property
    def range_text(self) -> str:
        """The declared range as the units field writes it (:func:`format_limits`)."""
        return format_limits(self.limits)

    @property
    def is_time_constant(self) -> bool:
        """Whether this is a duration that must be at least the time step.

        A constant in years or months whose declared minimum is positive and below
        1000: an adjustment, delay or averaging time, a doubling time or a lifetime.
        Calendar dates declare a minimum of 1900 or more; durations that may be 0 (a
        notice period; a shock duration guarded by ``MAX(., TIME STEP)``) declare 0.
        """
        low = self.limits[0]
        return (
            self.kind == "constant"
            and self.units.strip().lower() in TIME_UNITS
            and low is not None
            and 0 < low < 1000
        )


@dataclass(frozen=True)
class Ref:
    """A resolved reference: an element, optionally one of its subscript elements."""

    element: Element
    subscript: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        """The reference written as Vensim would: ``Name`` or ``Name[a,b]``."""
        if self.subscript is None:
            return self.element.name
        return f"{self.element.name}[{','.join(self.subscript)}]"


def _clean(text: str) -> str:
    text = text.replace("\\\n", " ").replace("\t", " ")
    return re.sub(r"[ \t]*\n[ \t]*", "\n", text).strip()


def _lhs_name(equation: str) -> str | None:
    equation = equation.strip()
    if equation.startswith('"'):
        end = equation.find('"', 1)
        return equation[1:end] if end > 0 else None
    match = re.match(r"([^=\[\(:~]+)", equation)
    return match.group(1).strip() if match else None


def parse_mdl_entries(text: str) -> dict[str, dict[str, str]]:
    """Equation, units and comment of each named entry of a Vensim ``.mdl`` text.

    Entries are separated by ``|``; each is ``equation ~ units ~ comment``. Elements
    defined by several equations (one per subscript element) get them joined by a
    newline.

    Returns
    -------
    dict
        normalized name -> ``{"equation": ..., "units": ..., "comment": ...}``.
    """
    text = text.split("\\\\\\---///", 1)[0]
    text = re.sub(r"^\s*\{UTF-8\}", "", text)
    text = re.sub(r":MACRO:.*?:END OF MACRO:", "", text, flags=re.S)
    entries: dict[str, dict[str, str]] = {}
    for chunk in text.split("|"):
        parts = chunk.split("~")
        if len(parts) < 2:
            continue
        equation = _clean(re.sub(r"^\s*\*{3,}.*?\*{3,}", "", parts[0], flags=re.S))
        equation = re.sub(r"\s+", " ", equation)
        name = _lhs_name(equation)
        if not name or name.startswith("*"):
            continue
        key = normalize(name)
        units = _clean(parts[1])
        comment = _clean(parts[2]) if len(parts) > 2 else ""
        if key in entries:
            entries[key]["equation"] += "\n" + equation
        else:
            entries[key] = {"equation": equation, "units": units, "comment": comment}
    return entries


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _flows(model) -> set[str]:
    """Python names referenced directly by the rate of an INTEG."""
    flows: set[str] = set()
    for key, deps in model.dependencies.items():
        if key.startswith("_integ_") and isinstance(deps, dict):
            flows.update(deps.get("step", {}))
    return flows


def _limits(value: object) -> tuple[float | None, float | None]:
    """pysd's ``Limits`` column (``(min, max)`` with NaN for open ends) as optional floats."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        return (None, None)
    return tuple(None if v is None or v != v else float(v) for v in value)  # type: ignore[return-value]


def _kind(name: str, py_name: str, kind: str, subtype: str, flows: set[str]) -> str:
    if normalize(name) in CONTROL_NAMES:
        return "control"
    if kind == "Constant":
        return "constant"
    if kind == "Stateful":
        return "stock" if subtype == "Integ" else f"stateful ({subtype.lower()})"
    if kind == "Auxiliary":
        return "flow" if py_name in flows else "auxiliary"
    return kind.lower() or "other"


@dataclass
class ModelInfo:
    """Metadata of every element of a model, with name resolution.

    Build it with :meth:`from_model`.
    """

    elements: dict[str, Element]
    subscript_ranges: dict[str, list[str]]
    model_path: Path | None = None
    #: ``TIME STEP`` in years (``None`` where the model does not give a number).
    time_step: float | None = None
    _by_key: dict[str, Element] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key = {}
        for element in self.elements.values():
            self._by_key[element.py_name] = element
        for element in self.elements.values():  # Vensim names win over Python names
            self._by_key[normalize(element.name)] = element

    @classmethod
    def from_model(cls, model, mdl_path: str | os.PathLike | None = None) -> ModelInfo:
        """Collect metadata from a loaded pysd model and (optionally) its ``.mdl`` text.

        Parameters
        ----------
        model
            A pysd ``Model``.
        mdl_path
            The Vensim file the model was translated from; supplies equation texts.
        """
        entries: dict[str, dict[str, str]] = {}
        if mdl_path is not None:
            raw = Path(mdl_path).read_bytes().decode("utf-8", errors="replace")
            entries = parse_mdl_entries(raw)
        flows = _flows(model)
        elements: dict[str, Element] = {}
        for row in model.doc.to_dict("records"):
            name, py_name = _text(row["Real Name"]), _text(row["Py Name"])
            if not name or py_name == "time":
                continue
            entry = entries.get(normalize(name), {})
            subs = row.get("Subscripts")
            elements[name] = Element(
                name=name,
                py_name=py_name,
                kind=_kind(name, py_name, _text(row["Type"]), _text(row["Subtype"]), flows),
                subscripts=tuple(subs) if isinstance(subs, list | tuple) else (),
                units=_text(row["Units"]) or entry.get("units", ""),
                comment=_text(row["Comment"]) or entry.get("comment", ""),
                equation=entry.get("equation", ""),
                limits=_limits(row.get("Limits")),
            )
        ranges = {name: list(values) for name, values in model.subscripts.items()}
        try:
            time_step: float | None = float(model.components.time_step())
        except Exception:  # a model whose time step is not a plain number
            time_step = None
        return cls(elements, ranges, Path(mdl_path) if mdl_path is not None else None, time_step)

    def check_value(self, number: float, element: Element, where: str) -> float:
        """``number`` if ``element`` may take it: inside its declared range and, for a
        time constant (:attr:`Element.is_time_constant`), at least the time step.

        Raises
        ------
        SdmodelError
            ``<where>: <value> is below the minimum ...``, naming the element, its units
            field and the bound.
        """
        low, high = element.limits
        declared = f"the model declares for {element.name!r} (units field {element.units!r})"
        if low is not None and number < low:
            raise SdmodelError(f"{where}: {number:g} is below the minimum {low:g} that {declared}")
        if high is not None and number > high:
            raise SdmodelError(f"{where}: {number:g} is above the maximum {high:g} that {declared}")
        if element.is_time_constant and self.time_step is not None:
            per_year = TIME_UNITS[element.units.strip().lower()]
            step = self.time_step / per_year
            if number < step * (1 - 1e-12):
                raise SdmodelError(
                    f"{where}: {number:g} {element.units} is shorter than the time step "
                    f"({step:g} {element.units}); {element.name!r} is a time constant, which "
                    "the integration cannot resolve below one step"
                )
        return number

    def __iter__(self) -> Iterator[Element]:
        return iter(self.elements.values())

    def __len__(self) -> int:
        return len(self.elements)

    def by_kind(self, *kinds: str) -> list[Element]:
        """Elements of the given kinds, sorted by Vensim name (case-insensitive)."""
        return sorted(
            (e for e in self.elements.values() if e.kind in kinds), key=lambda e: e.name.lower()
        )

    def range_elements(self, subscript_range: str) -> list[str]:
        """Element labels of a subscript range (or of a single element used as one)."""
        return self.subscript_ranges.get(subscript_range, [subscript_range])

    def get(self, name: str) -> Element:
        """Element by Vensim or Python name; :class:`SdmodelError` with suggestions."""
        key = normalize(name)
        element = self._by_key.get(key) or self._by_key.get(name.strip())
        if element is None:
            candidates = {normalize(e.name): e.name for e in self.elements.values()}
            close = difflib.get_close_matches(key, list(candidates), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(candidates[c]) for c in close)}?"
            raise SdmodelError(f"unknown model variable {name.strip()!r}" + (hint if close else ""))
        return element

    def resolve(self, name: str) -> Ref:
        """Resolve ``Name`` or ``Name[elem, ...]`` to a :class:`Ref`.

        Raises
        ------
        SdmodelError
            Unknown variable (with close matches), unknown subscript element, wrong
            number of subscripts, or a subscript on an unsubscripted variable.
        """
        match = re.fullmatch(r"\s*([^\[\]]+?)\s*(?:\[([^\[\]]*)\])?\s*", name)
        if match is None:
            raise SdmodelError(f"cannot parse variable reference {name!r}")
        element = self.get(match.group(1))
        if match.group(2) is None:
            return Ref(element)
        labels = [label.strip() for label in match.group(2).split(",")]
        if not element.subscripts:
            raise SdmodelError(f"{element.name!r} has no subscripts, but {name.strip()!r} has")
        if len(labels) != len(element.subscripts):
            raise SdmodelError(
                f"{name.strip()!r}: {element.name!r} has subscripts "
                f"[{', '.join(element.subscripts)}], got {len(labels)} element(s)"
            )
        chosen = []
        for label, sub_range in zip(labels, element.subscripts, strict=True):
            allowed = self.range_elements(sub_range)
            by_key = {normalize(a): a for a in allowed}
            if normalize(label) not in by_key:
                raise SdmodelError(
                    f"{name.strip()!r}: unknown element {label!r} of {sub_range!r} "
                    f"(one of {', '.join(allowed)})"
                )
            chosen.append(by_key[normalize(label)])
        return Ref(element, tuple(chosen))


#: bump when :class:`ModelInfo` or :meth:`ModelInfo.from_model` change what they hold
INFO_CACHE_VERSION = "3"


def load_info(mdl_path: str | os.PathLike) -> ModelInfo:
    """:class:`ModelInfo` of a model file, cached by the file's hash.

    On a cache miss pysd translates and loads the model (:func:`sdmodel.model.translate.
    load_model`) and the result is stored under ``cache_dir()/modelinfo``; later calls
    (sweeps, engine runs) need neither pysd nor its model initialisation (~0.5 s).

    Parameters
    ----------
    mdl_path
        The Vensim ``.mdl`` file.

    Returns
    -------
    ModelInfo
        With ``model_path`` set to ``mdl_path``.
    """
    from sdmodel.io.paths import cached_pickle, file_hash

    path = Path(mdl_path)

    def build() -> ModelInfo:
        from sdmodel.model.translate import load_model

        return ModelInfo.from_model(load_model(path), path)

    key = f"{file_hash(path)}-v{INFO_CACHE_VERSION}"
    info, _ = cached_pickle("modelinfo", key, build, kind=ModelInfo)
    return ModelInfo(info.elements, info.subscript_ranges, path, info.time_step)
