"""Reports of ``sdmodel compare``: terminal table, ``compare.csv`` and ``compare.png``.

The library (:mod:`sdmodel.experiments.compare`) returns a
:class:`~sdmodel.experiments.compare.Comparison`; these functions only present it.
Files are written atomically (temporary file, then rename). The figure is drawn on an
Agg canvas with the object-oriented API, as the fan charts are (:mod:`sdmodel.plots.fans`):
no pyplot state.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import xarray as xr

from sdmodel.experiments.compare import QUANTILES, Comparison
from sdmodel.experiments.measures import Measure
from sdmodel.io.atomic import atomic_path

__all__ = ["PANELS", "format_table", "plot_compare", "write_compare_csv"]

#: (Python name, title, axis label, scale) of the figure's rows.
PANELS: tuple[tuple[str, str, str, float], ...] = (
    ("unemployment_rate", "Unemployment rate", "% of labour force", 100.0),
    ("ww_outlays", "WW outlays", "EUR bn / year", 1e-9),
)
#: Baseline first (grey, dashed), then the variants.
COLOURS = ("#444444", "#c0392b", "#2471a3", "#27ae60", "#8e44ad", "#d68910")
DPI = 110


def _number(value: float, fmt: str, signed: bool = False) -> str:
    if not math.isfinite(value):
        return "n/a"
    return (fmt.replace("{:", "{:+", 1) if signed else fmt).format(value)


def _cells(c: Comparison, m: Measure, i: int, j: int) -> tuple[str, str]:
    """(value, difference) cells of measure ``m``, scenario ``i``, variant ``j``."""
    level = c.values[m.key][i, j] * m.scale
    diff = c.difference(m.key)[i, j] * m.scale
    if c.runs == 1:
        return _number(level[0], m.fmt), _number(diff[0], m.fmt, True)
    lo, mid, hi = np.nanquantile(diff, QUANTILES) if np.isfinite(diff).any() else [math.nan] * 3
    band = "{} [{}, {}]".format(*(_number(x, m.fmt, True) for x in (mid, lo, hi)))
    median = np.nanquantile(level, 0.5) if np.isfinite(level).any() else math.nan
    return _number(float(median), m.fmt), band


def format_table(c: Comparison) -> str:
    """The measures per scenario: baseline, then each variant's value and difference.

    One run: values and ``variant - baseline``. Several draws: medians, and the paired
    differences as ``median [5%, 95%]``.
    """
    if c.runs == 1:
        how = "deterministic (one run per case)"
    else:
        how = (
            f"{c.runs} parameter draws (seed {c.seed}), the same for every case: medians; "
            "differences from the baseline: median [5%, 95%] of the paired differences"
        )
    lines = [f"sdmodel compare: {len(c.policies)} policy variant(s) against the baseline; {how}"]
    for i, scenario in enumerate(c.scenarios):
        rows = [
            [m.label, m.unit, *(x for j in range(len(c.variants)) for x in _cells(c, m, i, j))]
            for m in c.measures
        ]
        rows = [r[:2] + r[2:3] + r[4:] for r in rows]  # the baseline has no difference
        sub = ["measure", "unit", "value"] + ["value", "vs baseline"] * len(c.policies)
        widths = [max(len(r[k]) for r in [sub, *rows]) for k in range(len(sub))]
        for k, name in enumerate(c.variants):  # a variant's name spans its two columns
            first = 2 if k == 0 else 3 + 2 * (k - 1)
            span = widths[first] + (2 + widths[first + 1] if k else 0)
            if len(name) > span:
                widths[first] += len(name) - span
        top = " " * (widths[0] + 2 + widths[1])
        for k, name in enumerate(c.variants):
            first = 2 if k == 0 else 3 + 2 * (k - 1)
            span = widths[first] + (2 + widths[first + 1] if k else 0)
            top += "  " + name.rjust(span)
        fmt = "  ".join(f"{{:{'<' if k < 2 else '>'}{w}}}" for k, w in enumerate(widths))
        lines += ["", f"scenario {scenario}", top, fmt.format(*sub), "-" * len(top)]
        lines += [fmt.format(*r) for r in rows]
    lines.append("")
    for p in c.policies:
        where = f" ({p.path})" if p.path else ""
        lines.append(f"{p.name}: {p.levers()}{where}")
    lines += [f"note: {n}" for n in c.notes]
    return "\n".join(lines)


def write_compare_csv(c: Comparison, path: str | os.PathLike) -> Path:
    """:meth:`Comparison.table` as CSV (full precision; NaN written as an empty field)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        c.table().to_csv(tmp, index=False, encoding="utf-8")
    return path


def _draw(ax, var: xr.DataArray, years: np.ndarray, scale: float, difference: bool) -> None:
    """One panel: a line per variant; bands (5-95%) for the baseline's levels and for
    the variants' differences when there are draws."""
    for k, variant in enumerate(var["variant"].values):
        if difference and k == 0:
            continue
        one = var.sel(variant=variant)
        colour = COLOURS[k % len(COLOURS)]
        if "quantile" in one.dims:
            lo, mid, hi = (one.isel(quantile=q).values * scale for q in range(3))
            if difference or k == 0:
                ax.fill_between(years, lo, hi, color=colour, alpha=0.15, linewidth=0)
        else:
            mid = one.values * scale
        # the baseline dashed and on top: visible where a variant coincides with it
        style = {"lw": 1.2, "ls": "--", "zorder": 3} if k == 0 else {"lw": 1.6}
        ax.plot(years, mid, color=colour, label=str(variant), **style)
    if difference:
        ax.axhline(0.0, color=COLOURS[0], lw=0.8, ls="--")


def plot_compare(ds: xr.Dataset, path: str | os.PathLike, title: str) -> Path:
    """Unemployment rate and WW outlays over time, one column per scenario (PNG).

    One run: the levels of every variant. Draws: the levels' medians (with the
    baseline's 5-95% band), and a row of paired differences, variant - baseline, with
    their median and 5-95% band.

    Parameters
    ----------
    ds
        :meth:`Comparison.dataset` (time in decimal years).
    path
        PNG file, written atomically.
    title
        Figure title.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    draws = "quantile" in ds.dims
    rows = [
        (name, panel + (" minus baseline" if diff else ""), ylabel, scale, diff)
        for name, panel, ylabel, scale in PANELS
        if name in ds.data_vars
        for diff in ((False, True) if draws else (False,))
    ]
    scenarios = [str(s) for s in ds["scenario"].values]
    years = np.asarray(ds["time"].values, dtype=float)
    width = max(7.0, 4.6 * len(scenarios) + 0.8)
    fig = Figure(figsize=(width, 3.0 * len(rows) + 1.0), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), len(scenarios), sharex=True, squeeze=False)
    for r, (name, panel, ylabel, scale, diff) in enumerate(rows):
        for col, scenario in enumerate(scenarios):
            ax = axes[r, col]
            var = ds[f"{name}_difference" if diff else name].sel(scenario=scenario)
            _draw(ax, var, years, scale, diff)
            ax.set_title(f"{panel}: {scenario}", fontsize=10)
            ax.set_ylabel("percentage points" if diff and "%" in ylabel else ylabel, fontsize=8)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
        axes[r, 0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("year", fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi="figure", format="png")
    return path
