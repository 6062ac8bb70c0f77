"""Figures of shock runs: baseline against shock, and stress-grid heatmaps."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from sdmodel.io.atomic import atomic_path

#: (python name, title, axis label, scale) of the comparison panels.
PANELS: tuple[tuple[str, str, str, float], ...] = (
    ("ww_recipients", "WW recipients", "thousand persons", 1e-3),
    ("ww_outlays", "WW outlays", "EUR bn / year", 1e-9),
    ("awf_balance", "AWf balance", "EUR bn", 1e-9),
    ("bijstand_recipients", "Bijstand recipients (model flows)", "thousand persons", 1e-3),
    ("total_long_term_unemployed", "Long-term unemployed", "thousand persons", 1e-3),
    ("retraining_waiting_list", "Retraining waiting list", "thousand persons", 1e-3),
)
COLOURS = ("#444444", "#c0392b", "#2471a3", "#27ae60", "#8e44ad")


def _save(fig, path: Path) -> None:
    """Save atomically (temporary file renamed into place)."""
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    finally:
        plt.close(fig)


def plot_comparison(ts: xr.Dataset, path: Path, title: str, start: float | None = None) -> Path:
    """Baseline against shock(s), six panels; ensembles show the median and 5-95% band.

    Parameters
    ----------
    ts
        Time series from :func:`sdmodel.shocks.report.timeseries` (dims ``case``, ``time``
        and optionally ``quantile``), time in decimal years.
    path
        PNG file to write.
    title
        Figure title.
    start
        Shock start (decimal year), marked by a vertical line.
    """
    years = np.asarray(ts["time"].values, dtype=float)
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5), sharex=True)
    for ax, (name, panel, ylabel, scale) in zip(axes.flat, PANELS, strict=True):
        var = ts[name]
        extra = [d for d in var.dims if d not in ("case", "time", "quantile")]
        if extra:
            var = var.sum(extra)
        for i, case in enumerate(ts["case"].values):
            colour = COLOURS[i % len(COLOURS)]
            one = var.sel(case=case)
            if "quantile" in one.dims:
                lo, mid, hi = (one.isel(quantile=j).values * scale for j in range(3))
                ax.fill_between(years, lo, hi, color=colour, alpha=0.2, linewidth=0)
            else:
                mid = one.values * scale
            ax.plot(
                years,
                mid,
                color=colour,
                label=str(case),
                lw=1.6 if i else 1.2,
                ls="-" if i else "--",
            )
        if name == "awf_balance":
            ax.axhline(0, color="black", lw=0.6)
        if name == "retraining_waiting_list" and "retraining_capacity" in ts:
            cap = ts["retraining_capacity"].isel(case=-1)
            if "quantile" in cap.dims:
                cap = cap.isel(quantile=1)
            ax.plot(
                years, cap.values * scale, color="grey", lw=0.8, ls=":", label="capacity (shock)"
            )
        if start is not None:
            ax.axvline(start, color="grey", lw=0.6, ls=":")
        ax.set_title(panel, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    axes.flat[-1].legend(fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("year", fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    _save(fig, path)
    return path


def plot_heatmaps(
    grid: dict[str, np.ndarray],
    sizes: Sequence[float],
    months: Sequence[float],
    variants: Sequence[str],
    path: Path,
    title: str,
) -> Path:
    """Heatmaps (size x speed) of peak outlays, AWf trough and waiting-list peak.

    ``grid`` maps ``peak_outlay_share``, ``awf_trough``, ``waiting_peak`` and the flags
    ``over_outlays``, ``fund_exhausted``, ``over_capacity`` to arrays of shape
    ``(variant, size, months)``; flagged cells are hatched and marked with ``!``.
    """
    panels = (
        ("peak_outlay_share", "Peak WW outlays (% of GDP)", 100, "over_outlays", "Reds"),
        ("awf_trough", "AWf balance trough (EUR bn)", 1e-9, "fund_exhausted", "Blues_r"),
        ("waiting_peak", "Waiting-list peak (thousand)", 1e-3, "over_capacity", "Purples"),
    )
    n = len(variants)
    fig, axes = plt.subplots(n, 3, figsize=(14, 3.8 * n), squeeze=False)
    for v, variant in enumerate(variants):
        for ax, (key, label, scale, flag, cmap) in zip(axes[v], panels, strict=True):
            data = grid[key][v] * scale
            image = ax.imshow(data, cmap=cmap, aspect="auto", origin="lower")
            fig.colorbar(image, ax=ax, shrink=0.85)
            for i in range(len(sizes)):
                for j in range(len(months)):
                    mark = bool(grid[flag][v, i, j])
                    ax.text(
                        j,
                        i,
                        f"{data[i, j]:.2f}" + (" !" if mark else ""),
                        ha="center",
                        va="center",
                        fontsize=8,
                        weight="bold" if mark else "normal",
                    )
                    if mark:
                        ax.add_patch(
                            plt.Rectangle(
                                (j - 0.5, i - 0.5),
                                1,
                                1,
                                fill=False,
                                hatch="//",
                                edgecolor="black",
                                lw=0.8,
                            )
                        )
            ax.set_xticks(range(len(months)), [f"{m:g}" for m in months])
            ax.set_yticks(range(len(sizes)), [f"{s * 100:g}%" for s in sizes])
            ax.set_xlabel("shock period (months)", fontsize=8)
            ax.set_ylabel("jobs lost", fontsize=8)
            ax.set_title(f"{label}\n{variant}", fontsize=9)
    fig.suptitle(title + "   (hatched, !: threshold crossed)", fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    return path
