"""Overview figure of a scenario run: key indicators, one colour per scenario."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from sdmodel.errors import SdmodelError  # noqa: E402
from sdmodel.io.atomic import atomic_path  # noqa: E402
from sdmodel.model.naming import normalize  # noqa: E402


@dataclass(frozen=True)
class Panel:
    """One panel: a model variable (Vensim name), how to scale it, the axis label."""

    name: str
    title: str
    ylabel: str
    scale: float = 1.0
    relative: bool = False  # divide by the first time point
    total: bool = False  # sum over subscript dimensions


PANELS: tuple[Panel, ...] = (
    Panel("Effective compute OOM", "Effective compute", "log10 (relative to 2022) [OOM]"),
    Panel("Adopted automation share", "Adopted automation share by skill", "% of tasks", 100),
    Panel("Unemployment rate", "Unemployment rate", "% of labour force", 100),
    Panel("Wage", "Wage by skill, relative to 2024", "index (2024 = 1)", relative=True),
    Panel("Labour income share", "Labour income share", "% of value added", 100),
    Panel("WW recipients", "WW recipients", "thousand persons", 1e-3),
    Panel("WW outlays share of GDP", "WW outlays", "% of GDP", 100),
    Panel("AWf balance", "AWf balance", "billion EUR (2024 prices)", 1e-9),
    Panel(
        "Retraining waiting list", "Retraining waiting list", "thousand persons", 1e-3, total=True
    ),
)
LINESTYLES = ("-", "--", ":", "-.")


def find_variable(ds: xr.Dataset, vensim_name: str) -> xr.DataArray:
    """Data variable whose Vensim name (``vensim_name``, else ``long_name``) or Python
    name matches ``vensim_name``.

    Raises
    ------
    SdmodelError
        If the dataset has no such variable.
    """
    key = normalize(vensim_name)
    for name, var in ds.data_vars.items():
        label = var.attrs.get("vensim_name", var.attrs.get("long_name", ""))
        if normalize(str(label)) == key or normalize(str(name)) == key:
            return var
    raise SdmodelError(f"overview plot needs model variable {vensim_name!r}; not in the dataset")


def _years(ds: xr.Dataset) -> np.ndarray:
    if "decimal_year" in ds.coords:
        return np.asarray(ds["decimal_year"].values, dtype=float)
    return np.asarray(ds["time"].values, dtype=float)


def _draw(ax, panel: Panel, var: xr.DataArray, years: np.ndarray, colours: dict) -> list[str]:
    """Draw one panel; returns the subscript labels that got their own line style."""
    extra = [d for d in var.dims if d not in ("scenario", "time")]
    if panel.total and extra:
        var = var.sum(extra)
        extra = []
    if panel.relative:
        var = var / var.isel(time=0)
    var = var * panel.scale
    if len(extra) > 1:
        raise SdmodelError(f"overview plot: {panel.name!r} has several subscripts {extra}")
    styled: list[str] = []
    scenarios = var["scenario"].values if "scenario" in var.dims else [None]
    for scenario in scenarios:
        series = var.sel(scenario=scenario) if scenario is not None else var
        colour = colours.get(scenario, "black")
        if extra:
            for i, label in enumerate(series[extra[0]].values):
                style = LINESTYLES[i % len(LINESTYLES)]
                values = series.sel({extra[0]: label}).transpose("time").values
                ax.plot(years, values, color=colour, linestyle=style)
                if str(label) not in styled:
                    styled.append(str(label))
        else:
            ax.plot(years, series.transpose("time").values, color=colour)
    ax.set_title(panel.title, fontsize=10)
    ax.set_ylabel(panel.ylabel, fontsize=8)
    ax.set_xlabel("year", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    return styled


def plot_overview(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a 3x3 panel figure of the key indicators per scenario (PNG, atomically).

    Parameters
    ----------
    ds
        Run Dataset (in-memory or CF version) with a ``scenario`` dimension.
    path
        Target ``.png`` file.

    Raises
    ------
    SdmodelError
        If a required variable is missing or the file cannot be written.
    """
    path = Path(path)
    variables = [find_variable(ds, panel.name) for panel in PANELS]
    years = _years(ds)
    scenarios = [str(s) for s in ds["scenario"].values] if "scenario" in ds.dims else []
    cmap = plt.get_cmap("tab10")
    colours = {s: cmap(i % 10) for i, s in enumerate(scenarios)}
    fig, axes = plt.subplots(3, 3, figsize=(14, 11), constrained_layout=True)
    try:
        styled: list[str] = []
        for ax, panel, var in zip(axes.flat, PANELS, variables, strict=True):
            for label in _draw(ax, panel, var, years, colours):
                if label not in styled:
                    styled.append(label)
        handles = [Line2D([], [], color=colours[s], label=s) for s in scenarios]
        handles += [
            Line2D([], [], color="grey", linestyle=LINESTYLES[i % len(LINESTYLES)], label=s)
            for i, s in enumerate(styled)
        ]
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9)
        fig.suptitle("AI and the Dutch labour market: scenario overview")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110)
    finally:
        plt.close(fig)
    return path
