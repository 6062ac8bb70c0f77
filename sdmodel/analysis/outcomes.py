"""Outcome expressions: one number per run and scenario, computed from an ensemble file.

Grammar (whitespace is free; names are NetCDF/Python names such as
``unemployment_rate`` or Vensim names such as ``Unemployment rate``; a subscripted
variable takes one element in brackets, ``unemployment_rate_by_skill[low]``)::

    VAR@YEAR              value in YEAR (a saved time of the run), e.g. unemployment_rate@2030
    max(VAR)              largest value over the run (its peak)
    min(VAR)              smallest value over the run (its trough)
    mean(VAR)             mean over the saved times
    argmax(VAR)           year of the peak (the first, if it repeats)
    argmin(VAR)           year of the trough
    FUNC(VAR, Y0:Y1)      the same over the saved times in [Y0, Y1] only

A bare ``VAR`` given to ``--vars`` expands to ``VAR@2030``, ``VAR@2040``, ``VAR@2050`` (the
years inside the run; its last year if none is) and ``max(VAR)``. The default outcomes are
those of every contract indicator (:data:`sdmodel.model.variables.CONTRACT`) in the file,
or of every unsubscripted model variable when the file has none of them (another model).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from sdmodel.errors import SdmodelError

#: Functions of the grammar and whether they give a year.
FUNCTIONS = {"max": False, "min": False, "mean": False, "argmax": True, "argmin": True}
#: Years of the default outcomes.
DEFAULT_YEARS = (2030, 2040, 2050)

_AT = re.compile(r"^\s*(?P<var>[^@()]+?)\s*@\s*(?P<year>[-+]?\d+(?:\.\d*)?)\s*$")
_FUNC = re.compile(
    r"^\s*(?P<func>[a-z]+)\s*\(\s*(?P<var>[^,()]+?)\s*"
    r"(?:,\s*(?P<y0>[-+]?\d+(?:\.\d*)?)\s*:\s*(?P<y1>[-+]?\d+(?:\.\d*)?)\s*)?\)\s*$",
    re.IGNORECASE,
)
_ELEM = re.compile(r"^(?P<name>[^\[\]]+?)\s*(?:\[\s*(?P<elem>[^\[\]]+?)\s*\])?$")


@dataclass(frozen=True)
class Outcome:
    """One parsed outcome expression.

    Attributes
    ----------
    text : str
        The canonical expression (``unemployment_rate@2030``, ``max(ww_outlays)``).
    var : str
        The variable as written (resolved against a file by :func:`resolve_variable`).
    element : str or None
        The subscript element, for a subscripted variable.
    func : str
        ``"at"`` or one of :data:`FUNCTIONS`.
    year : float or None
        ``"at"``: the year.
    window : (float, float) or None
        The functions' year range (``None``: the whole run).
    """

    text: str
    var: str
    element: str | None
    func: str
    year: float | None = None
    window: tuple[float, float] | None = None


def _split_element(text: str, expression: str) -> tuple[str, str | None]:
    m = _ELEM.match(text.strip())
    if not m:
        raise SdmodelError(f"outcome {expression!r}: cannot read the variable {text!r}")
    return m["name"].strip(), m["elem"]


def _num(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() else value


def parse_outcome(expression: str) -> Outcome:
    """Parse one outcome expression (see the module docstring).

    Raises
    ------
    SdmodelError
        Naming the expression and what is wrong with it.
    """
    text = str(expression).strip()
    m = _AT.match(text)
    if m:
        var, elem = _split_element(m["var"], text)
        year = _num(m["year"])
        canon = f"{var}{f'[{elem}]' if elem else ''}@{year}"
        return Outcome(canon, var, elem, "at", float(year))
    m = _FUNC.match(text)
    if m:
        func = m["func"].lower()
        if func not in FUNCTIONS:
            raise SdmodelError(
                f"outcome {text!r}: unknown function {m['func']!r} "
                f"(use VAR@YEAR or {', '.join(FUNCTIONS)})"
            )
        var, elem = _split_element(m["var"], text)
        window = None
        if m["y0"] is not None:
            y0, y1 = _num(m["y0"]), _num(m["y1"])
            if y1 < y0:
                raise SdmodelError(f"outcome {text!r}: the year range {y0}:{y1} is empty")
            window = (float(y0), float(y1))
        rng = f", {_num(window[0])}:{_num(window[1])}" if window else ""
        canon = f"{func}({var}{f'[{elem}]' if elem else ''}{rng})"
        return Outcome(canon, var, elem, func, None, window)
    raise SdmodelError(
        f"outcome {text!r}: not VAR@YEAR or FUNC(VAR) / FUNC(VAR, Y0:Y1) with FUNC one of "
        f"{', '.join(FUNCTIONS)}"
    )


def _py(name: str) -> str:
    return re.sub(r"\W+", "_", name.strip()).strip("_").lower()


def resolve_variable(ds: xr.Dataset, name: str) -> str:
    """The data variable of ``ds`` that ``name`` (Python or Vensim name) denotes.

    Raises
    ------
    SdmodelError
        If the file has no such model variable (its saved variables are named).
    """
    model_vars = [str(v) for v in ds.data_vars if "time" in ds[v].dims]
    for candidate in (name, _py(name)):
        if candidate in model_vars:
            return candidate
    shown = ", ".join(model_vars[:12]) + (" ..." if len(model_vars) > 12 else "")
    raise SdmodelError(f"unknown variable {name!r}: the ensemble has {shown}")


def years_of(ds: xr.Dataset) -> np.ndarray:
    """The saved times as decimal years (``decimal_year``, else ``time``)."""
    if "decimal_year" in ds.coords or "decimal_year" in ds:
        return np.asarray(ds["decimal_year"].values, dtype=float)
    return np.asarray(ds["time"].values, dtype=float)


def expand(names: Iterable[str], ds: xr.Dataset) -> list[Outcome]:
    """Parse ``--vars`` entries: expressions as they are, bare names as the defaults do.

    Raises
    ------
    SdmodelError
        A bad expression or unknown variable.
    """
    years = years_of(ds)
    out: list[Outcome] = []
    for raw in names:
        text = raw.strip()
        if "@" in text or "(" in text:
            out.append(parse_outcome(text))
            continue
        var, elem = _split_element(text, text)
        resolve_variable(ds, var)
        inside = [y for y in DEFAULT_YEARS if years[0] - 1e-9 <= y <= years[-1] + 1e-9]
        label = f"{var}[{elem}]" if elem else var
        for y in inside or [_num(round(float(years[-1]), 6))]:
            out.append(parse_outcome(f"{label}@{y}"))
        out.append(parse_outcome(f"max({label})"))
    if not out:
        raise SdmodelError("--vars: no outcomes given")
    return list({o.text: o for o in out}.values())


def default_outcomes(ds: xr.Dataset) -> list[Outcome]:
    """The contract indicators in the file (else every unsubscripted variable), expanded."""
    from sdmodel.model.variables import CONTRACT

    present = [_py(v) for v in CONTRACT if _py(v) in ds.data_vars]
    scalar = [p for p in present if ds[p].dims == ("time", "scenario", "run")]
    if not scalar:
        scalar = [str(v) for v in ds.data_vars if ds[v].dims == ("time", "scenario", "run")]
    if not scalar:
        raise SdmodelError("the ensemble has no unsubscripted model variable to analyse")
    return expand(scalar, ds)


def evaluate(ds: xr.Dataset, outcome: Outcome) -> np.ndarray:
    """Values of ``outcome`` per scenario and run, ``(scenario, run)`` float64.

    Raises
    ------
    SdmodelError
        Unknown variable or element, a year outside the run, or an empty year range.
    """
    name = resolve_variable(ds, outcome.var)
    var = ds[name]
    extra = [d for d in var.dims if d not in ("time", "scenario", "run")]
    if outcome.element is None and extra:
        raise SdmodelError(
            f"outcome {outcome.text!r}: {name} is subscripted by {', '.join(map(str, extra))}; "
            f"name one element, e.g. {name}[{var[extra[0]].values[0]}]"
        )
    if outcome.element is not None:
        if len(extra) != 1:
            raise SdmodelError(f"outcome {outcome.text!r}: {name} has no single subscript")
        labels = [str(v) for v in var[extra[0]].values]
        if outcome.element not in labels:
            raise SdmodelError(
                f"outcome {outcome.text!r}: {outcome.element!r} is not an element of "
                f"{extra[0]} ({', '.join(labels)})"
            )
        var = var.isel({extra[0]: labels.index(outcome.element)})
    years = years_of(ds)
    data = np.asarray(var.transpose("time", "scenario", "run").values, dtype=float)
    if outcome.func == "at":
        k = np.flatnonzero(np.abs(years - outcome.year) < 1e-6)
        if k.size == 0:
            raise SdmodelError(
                f"outcome {outcome.text!r}: {_num(outcome.year)} is not a saved year of the "
                f"run ({_num(round(years[0], 6))} to {_num(round(years[-1], 6))})"
            )
        return data[k[0]]
    mask = np.ones(years.size, bool)
    if outcome.window is not None:
        y0, y1 = outcome.window
        mask = (years >= y0 - 1e-6) & (years <= y1 + 1e-6)
        if not mask.any():
            raise SdmodelError(
                f"outcome {outcome.text!r}: no saved year of the run in {_num(y0)}:{_num(y1)} "
                f"(the run has {_num(round(years[0], 6))} to {_num(round(years[-1], 6))})"
            )
    part, when = data[mask], years[mask]
    if outcome.func == "max":
        return part.max(axis=0)
    if outcome.func == "min":
        return part.min(axis=0)
    if outcome.func == "mean":
        return part.mean(axis=0)
    index = part.argmax(axis=0) if outcome.func == "argmax" else part.argmin(axis=0)
    return when[index]


def evaluate_all(ds: xr.Dataset, outcomes: Sequence[Outcome]) -> dict[str, np.ndarray]:
    """:func:`evaluate` for each outcome, by canonical text; refuses NaN (missing runs)."""
    out = {}
    for o in outcomes:
        values = evaluate(ds, o)
        if np.isnan(values).any():
            raise SdmodelError(
                f"outcome {o.text!r}: {int(np.isnan(values).sum())} runs have no value (NaN)"
            )
        out[o.text] = values
    return out


@dataclass(frozen=True)
class Inputs:
    """The sampled parameters of an ensemble and its design.

    Attributes
    ----------
    names : tuple of str
        Vensim names of the parameters (``vensim_name`` attributes).
    variables : tuple of str
        Their NetCDF variables (``param_*``).
    values : numpy.ndarray
        ``(run, k)`` sampled values.
    unit : numpy.ndarray or None
        ``(run, k)`` unit-cube design (``design_unit``), for saltelli and morris.
    sampler : str
        The ``sampler`` attribute.
    attrs : dict
        The file's global attributes.
    """

    names: tuple[str, ...]
    variables: tuple[str, ...]
    values: np.ndarray
    unit: np.ndarray | None
    sampler: str
    attrs: dict


def read_inputs(ds: xr.Dataset) -> Inputs:
    """The parameters, in the order of the design's columns when there is a design.

    Raises
    ------
    SdmodelError
        If the file has no sampled parameters (not an ensemble of ``sdmodel sweep``).
    """
    if "design_unit" in ds:
        variables = [str(v) for v in ds["parameter"].values]
        unit = np.asarray(ds["design_unit"].transpose("run", "parameter").values, dtype=float)
    else:
        variables = [str(v) for v in ds.data_vars if str(v).startswith("param_")]
        unit = None
    if not variables:
        raise SdmodelError("the file has no sampled parameters (param_*): not an sdmodel sweep")
    names = tuple(str(ds[v].attrs.get("vensim_name", v)) for v in variables)
    values = np.column_stack([np.asarray(ds[v].values, dtype=float) for v in variables])
    return Inputs(
        names, tuple(variables), values, unit, str(ds.attrs.get("sampler", "")), dict(ds.attrs)
    )
