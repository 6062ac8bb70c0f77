"""The measures of ``sdmodel compare``: one table, :data:`MEASURES`, one line a measure.

A measure is a statistic over time (peak, trough, value in a year, cumulative sum) of a
scalar model variable, optionally divided by another (a share of GDP). A measure whose
variable the model lacks is left out with a note only if the variable is listed in
:data:`PENDING_VARIABLES` (announced, not there yet); any other missing name is an
error, so that a misspelt measure cannot disappear from the report unnoticed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sdmodel.errors import SdmodelError
from sdmodel.model.info import ModelInfo
from sdmodel.model.units import strip_range

__all__ = [
    "MEASURES",
    "PENDING_VARIABLES",
    "STATISTICS",
    "Measure",
    "measure_units",
    "resolve_measures",
    "statistic",
]

#: Statistics a :class:`Measure` may take over time.
STATISTICS = ("max", "min", "at", "sum")


@dataclass(frozen=True)
class Measure:
    """One reported number: a statistic of a model variable over time.

    Parameters
    ----------
    key
        Name in ``compare.csv`` and ``compare.nc``.
    label
        Row label of the terminal table.
    variable
        Vensim name of a scalar model variable.
    statistic
        ``"max"`` (peak), ``"min"`` (trough), ``"at"`` (value in ``year``) or ``"sum"``
        (cumulative ``sum x dt`` over the Euler steps from ``year`` up to, not
        including, ``until``).
    year, until
        Years of ``"at"`` and ``"sum"``.
    unit, scale, fmt
        Display: unit label, factor from model units, number format.
    per
        Vensim name of a variable to divide by first, at each time (a share of GDP).
    """

    key: str
    label: str
    variable: str
    statistic: str
    year: float | None = None
    until: float | None = None
    unit: str = ""
    scale: float = 1.0
    fmt: str = "{:,.2f}"
    per: str | None = None

    @property
    def variables(self) -> tuple[str, ...]:
        """The model variables the measure needs."""
        return (self.variable,) if self.per is None else (self.variable, self.per)

    @property
    def statistic_text(self) -> str:
        """``peak``, ``trough``, ``2030`` or ``cumulative 2024-2050``."""
        if self.statistic == "sum":
            return f"cumulative {self.year:g}-{self.until:g}"
        if self.statistic == "at":
            return f"{self.year:g}"
        return {"max": "peak", "min": "trough"}[self.statistic]


_PCT = {"unit": "%", "scale": 100.0}
_THOUSAND = {"unit": "thousand", "scale": 1e-3, "fmt": "{:,.1f}"}
_BN_YR = {"unit": "EUR bn/yr", "scale": 1e-9}
_BN = {"unit": "EUR bn", "scale": 1e-9, "fmt": "{:,.1f}"}

#: The measures, in report order.
# fmt: off
MEASURES: tuple[Measure, ...] = (
    Measure("peak_unemployment_rate", "Peak unemployment rate", "Unemployment rate", "max", **_PCT),
    Measure("unemployment_rate_2030", "Unemployment rate 2030", "Unemployment rate", "at", 2030, **_PCT),  # noqa: E501
    Measure("unemployment_rate_2040", "Unemployment rate 2040", "Unemployment rate", "at", 2040, **_PCT),  # noqa: E501
    Measure("peak_long_term_unemployed", "Peak long-term unemployed", "Total long term unemployed", "max", **_THOUSAND),  # noqa: E501
    Measure("long_term_unemployed_2040", "Long-term unemployed 2040", "Total long term unemployed", "at", 2040, **_THOUSAND),  # noqa: E501
    Measure("peak_ww_outlays", "Peak WW outlays", "WW outlays", "max", **_BN_YR),
    Measure("cumulative_ww_outlays", "WW outlays 2024-2050", "WW outlays", "sum", 2024, 2050, **_BN),  # noqa: E501
    Measure("peak_bijstand_outlays", "Peak bijstand outlays", "Bijstand outlays", "max", **_BN_YR),
    Measure("cumulative_bijstand_outlays", "Bijstand outlays 2024-2050", "Bijstand outlays", "sum", 2024, 2050, **_BN),  # noqa: E501
    Measure("awf_balance_trough", "AWf balance trough", "AWf balance", "min", unit="EUR bn", scale=1e-9),  # noqa: E501
    Measure("labour_income_share_2040", "Labour income share 2040", "Labour income share", "at", 2040, fmt="{:.1f}", **_PCT),  # noqa: E501
    Measure("labour_income_share_2050", "Labour income share 2050", "Labour income share", "at", 2050, fmt="{:.1f}", **_PCT),  # noqa: E501
    Measure("high_low_wage_ratio_2040", "High/low wage ratio 2040", "High to low wage ratio", "at", 2040, unit="ratio", fmt="{:.3f}"),  # noqa: E501
    Measure("public_balance_2040", "Public balance 2040", "Public balance", "at", 2040, **_BN_YR),
    Measure("public_balance_share_gdp_2040", "Public balance 2040, share of GDP", "Public balance share of GDP", "at", 2040, unit="% GDP", scale=100.0),  # noqa: E501
)
# fmt: on

#: Variables that measures name but this model version may not have yet (none now:
#: the public budget, sector 10 of the model, gives Public balance).
PENDING_VARIABLES: frozenset[str] = frozenset()


def _has(info: ModelInfo, name: str) -> bool:
    try:
        info.get(name)
    except SdmodelError:
        return False
    return True


def resolve_measures(
    info: ModelInfo,
    period: tuple[float, float],
    measures: Sequence[Measure] = MEASURES,
    pending: frozenset[str] = PENDING_VARIABLES,
) -> tuple[tuple[Measure, ...], tuple[str, ...]]:
    """The measures this model can report, and a note per pending variable it lacks.

    Parameters
    ----------
    info
        Model metadata.
    period
        The model's (INITIAL TIME, FINAL TIME): years of the measures must lie in it.
    measures, pending
        The table and the names that may be absent.

    Returns
    -------
    tuple
        (measures kept, in order; notes such as ``"public balance: not in this model
        version"``).

    Raises
    ------
    SdmodelError
        A measure names a variable that is neither in the model nor pending (a typo or a
        renamed variable), a subscripted variable, an unknown statistic, or a year
        outside the model period.
    """
    kept, absent = [], []
    for m in measures:
        if m.statistic not in STATISTICS:
            raise SdmodelError(f"measure {m.key!r}: unknown statistic {m.statistic!r}")
        missing = [v for v in m.variables if not _has(info, v)]
        wrong = [v for v in missing if v not in pending]
        if wrong:
            raise SdmodelError(
                f"measure {m.key!r}: model {info.model_path} has no variable {wrong[0]!r}"
            )
        if missing:
            absent += [v for v in missing if v not in absent]
            continue
        for name in m.variables:
            if info.get(name).subscripts:
                raise SdmodelError(f"measure {m.key!r}: {name!r} is subscripted; name a total")
        for year in (m.year, m.until):
            if year is not None and not period[0] <= year <= period[1]:
                raise SdmodelError(
                    f"measure {m.key!r}: year {year:g} is outside the model period "
                    f"[{period[0]:g}, {period[1]:g}]"
                )
        kept.append(m)
    notes = tuple(f"{v[0].lower()}{v[1:]}: not in this model version" for v in absent)
    return tuple(kept), notes


def measure_units(m: Measure, info: ModelInfo) -> str:
    """Vensim units of a measure's value (a sum carries ``*Year``, a share ``/GDP``)."""
    units = strip_range(info.get(m.variable).units) or "Dmnl"
    if m.per is not None:
        units = f"({units})/({strip_range(info.get(m.per).units) or 'Dmnl'})"
    return f"({units})*Year" if m.statistic == "sum" else units


def statistic(m: Measure, x: np.ndarray, t: np.ndarray, dt: float) -> np.ndarray:
    """The measure's statistic over the last (time) axis; ``dt`` is the time step."""
    if m.statistic == "max":
        return x.max(axis=-1)
    if m.statistic == "min":
        return x.min(axis=-1)
    if m.statistic == "at":
        k = int(np.argmin(np.abs(t - m.year)))
        if abs(t[k] - m.year) > 1e-9:
            raise SdmodelError(f"measure {m.key!r}: {m.year:g} is not on the time grid")
        return x[..., k]
    steps = (t >= m.year - 1e-9) & (t < m.until - 1e-9)
    return x[..., steps].sum(axis=-1) * dt
