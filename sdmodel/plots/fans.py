"""Fan charts of an ensemble summary: median, 50% and 90% bands, one colour per scenario.

Reads the small summary file (:func:`sdmodel.io.ensemble.summarize`), never the ensemble.
One PNG per indicator; subscripted indicators get one panel per element (skill group).
Headless: figures are drawn with the object-oriented API on Agg canvases (no pyplot and
its global state, so a sweep can draw them in a background thread) and written
atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sdmodel.errors import SdmodelError
from sdmodel.io.atomic import atomic_path
from sdmodel.io.netcdf import read_netcdf


@dataclass(frozen=True)
class Fan:
    """One figure: a saved variable (Python name), its title, axis label and scale."""

    name: str
    title: str
    ylabel: str
    scale: float = 1.0


FANS: tuple[Fan, ...] = (
    Fan("unemployment_rate", "Unemployment rate", "unemployment rate [% of labour force]", 100),
    Fan(
        "wage", "Wage by skill group", "wage [thousand EUR per person per year, 2024 prices]", 1e-3
    ),
    Fan(
        "labour_income_share", "Labour income share", "labour income share [% of value added]", 100
    ),
    Fan("ww_outlays", "WW outlays", "WW outlays [billion EUR per year, 2024 prices]", 1e-9),
    Fan("awf_balance", "AWf balance", "AWf balance [billion EUR, 2024 prices]", 1e-9),
    Fan(
        "retraining_waiting_list",
        "Retraining waiting list",
        "waiting list [thousand persons]",
        1e-3,
    ),
    Fan(
        "adopted_automation_share",
        "Adopted automation share by skill group",
        "adopted automation share [% of tasks]",
        100,
    ),
)
COLOURS = ("tab:blue", "tab:orange", "tab:red", "tab:green", "tab:purple", "tab:brown")


#: Resolution of the PNGs; the figure is laid out at the same resolution, so the text
#: extents measured by ``tight_layout`` are reused when the figure is drawn.
DPI = 110
#: zlib level of the PNGs (Pillow's default, 6, takes ~3x longer for ~10% smaller files).
PNG_COMPRESS_LEVEL = 1


def _savefig(fig: Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(
            tmp, dpi="figure", format="png", pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL}
        )


def fan_chart(summary: xr.Dataset, fan: Fan, path: Path) -> Path:
    """Draw one fan chart from a summary Dataset into ``path`` (PNG, atomically)."""
    da = summary[fan.name]
    others = [str(d) for d in da.dims if d not in ("scenario", "percentile", "time")]
    # plain arrays (scenario, percentile, *others, time): label lookups in xarray cost
    # more than the drawing of the bands
    values = da.transpose("scenario", "percentile", *others, "time").values * fan.scale
    if not others:
        values = values[:, :, None]
    else:  # (scenario, percentile, panel, time); a second subscript: its first element
        values = values[(slice(None),) * 3 + (0,) * (len(others) - 1)]
    years = np.asarray(summary["decimal_year"].values, dtype=float)
    pct = [float(p) for p in summary["percentile"].values]
    lo90, lo50, mid, hi50, hi90 = (pct.index(p) for p in (5.0, 25.0, 50.0, 75.0, 95.0))
    labels = [str(e) for e in summary[others[0]].values] if others else [""]
    fig = Figure(figsize=(4.2 * len(labels) + 1.0, 4.0), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(labels), sharey=True, squeeze=False)[0]
    for k, (ax, label) in enumerate(zip(axes, labels, strict=True)):
        for i, scenario in enumerate(summary["scenario"].values):
            band = values[i, :, k]
            colour = COLOURS[i % len(COLOURS)]
            ax.fill_between(years, band[lo90], band[hi90], color=colour, alpha=0.15, lw=0)
            ax.fill_between(years, band[lo50], band[hi50], color=colour, alpha=0.35, lw=0)
            ax.plot(years, band[mid], color=colour, lw=1.8, label=str(scenario))
        ax.set_xlabel("year")
        if others:
            ax.set_title(f"{others[0]} {label}", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(fan.ylabel)
    axes[0].legend(title="scenario (median, 50% and 90% bands)", fontsize=8, title_fontsize=8)
    n_runs = summary.attrs.get("n_runs")
    runs = f"{int(n_runs):,}" if n_runs is not None else "?"
    fig.suptitle(f"{fan.title}: {runs} Monte Carlo runs per scenario", fontsize=11)
    fig.tight_layout()
    # tight_layout leaves a placeholder layout engine, for which savefig draws the whole
    # figure once more before drawing it into the PNG: the layout is done, drop it
    fig.set_layout_engine(None)
    _savefig(fig, path)
    return path


def plot_fan_charts(summary_path: str | os.PathLike, directory: str | os.PathLike) -> list[Path]:
    """Fan charts of every indicator in :data:`FANS` that the summary contains.

    Parameters
    ----------
    summary_path
        Summary NetCDF file.
    directory
        Output directory (created if missing); one ``<variable>.png`` per indicator.

    Returns
    -------
    list of Path
        The figures written (indicators not saved in the sweep are skipped).
    """
    summary = read_netcdf(summary_path)
    return draw_fan_charts(summary, directory)


def draw_fan_charts(summary: xr.Dataset, directory: str | os.PathLike) -> list[Path]:
    """Fan charts of every indicator in :data:`FANS` in a summary Dataset.

    As :func:`plot_fan_charts`, from a Dataset (:func:`sdmodel.experiments.summary.summary_dataset`)
    instead of a file.
    """
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SdmodelError(f"cannot create {directory}: {exc.strerror or exc}") from exc
    return [
        fan_chart(summary, fan, directory / f"{fan.name}.png")
        for fan in FANS
        if fan.name in summary.data_vars
    ]
