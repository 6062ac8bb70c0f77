"""Figures of the analyses (matplotlib, Agg backend; every file written atomically).

Sobol and Morris: one ranked bar chart per outcome (main index with its bootstrap
interval, the top parameters, one panel per scenario) and, per scenario and variable with
outcomes in several years, a parameter x year heatmap of the main index. PRIM: the
peeling trajectory (coverage against density, the chosen box marked) per scenario.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from sdmodel.analysis.report import MAIN  # noqa: E402
from sdmodel.io.atomic import atomic_path  # noqa: E402

TOP = 15


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


def _slug(text: str) -> str:
    return re.sub(r"\W+", "_", text).strip("_").lower()


def index_bars(result: xr.Dataset, directory: Path, top: int = TOP) -> list[Path]:
    """Ranked bars of the main index with intervals, one figure per outcome."""
    main, conf = MAIN[str(result.attrs["method"])]
    params = np.array([str(p) for p in result["parameter"].values])
    scen = [str(s) for s in result["scenario"].values]
    paths = []
    for o in result["outcome"].values:
        fig, axes = plt.subplots(
            1, len(scen), figsize=(4.5 * len(scen), 0.3 * min(top, params.size) + 1.5)
        )
        for ax, s in zip(np.atleast_1d(axes), scen, strict=True):
            sub = result.sel(scenario=s, outcome=o)
            v = np.nan_to_num(sub[main].values, nan=0.0)
            order = np.argsort(-v)[:top][::-1]
            ax.barh(params[order], v[order], xerr=np.nan_to_num(sub[conf].values[order]))
            if main == "ST":
                ax.barh(params[order], np.nan_to_num(sub["S1"].values[order]), height=0.4)
            ax.set_title(s, fontsize=9)
            ax.tick_params(labelsize=7)
            ax.set_xlabel(main + (" (wide) and S1 (narrow)" if main == "ST" else ""))
        fig.suptitle(str(o), fontsize=10)
        fig.tight_layout()
        paths.append(_save(fig, directory / f"bars_{_slug(str(o))}.png"))
    return paths


def year_heatmaps(result: xr.Dataset, directory: Path, top: int = TOP) -> list[Path]:
    """Parameter x year heatmap of the main index, per scenario and variable."""
    main, _ = MAIN[str(result.attrs["method"])]
    by_var: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for o in (str(x) for x in result["outcome"].values):
        if "@" in o and "(" not in o:
            var, year = o.rsplit("@", 1)
            by_var[var].append((float(year), o))
    params = np.array([str(p) for p in result["parameter"].values])
    paths = []
    for var, items in by_var.items():
        if len(items) < 2:
            continue
        items.sort()
        for s in result["scenario"].values:
            m = np.column_stack([result[main].sel(scenario=s, outcome=o).values for _, o in items])
            keep = np.argsort(-np.nan_to_num(m, nan=0.0).max(axis=1))[:top]
            fig, ax = plt.subplots(figsize=(1.0 * len(items) + 4, 0.3 * keep.size + 1.5))
            im = ax.imshow(m[keep], aspect="auto", cmap="viridis")
            ax.set_yticks(range(keep.size), params[keep], fontsize=7)
            ax.set_xticks(range(len(items)), [f"{y:g}" for y, _ in items])
            ax.set_title(f"{main} of {var}, {s}", fontsize=10)
            fig.colorbar(im, ax=ax)
            fig.tight_layout()
            paths.append(_save(fig, directory / f"heatmap_{_slug(var)}_{_slug(str(s))}.png"))
    return paths


def prim_trajectories(document: dict, directory: Path) -> list[Path]:
    """Coverage against density along the peeling trajectory, per scenario."""
    paths = []
    for s, r in document["scenarios"].items():
        cov = [row["coverage"] for row in r["trajectory"]]
        dens = [row["density"] for row in r["trajectory"]]
        fig, ax = plt.subplots(figsize=(5, 4))
        sc = ax.scatter(cov, dens, c=[row["res_dim"] for row in r["trajectory"]], s=12)
        ax.scatter(
            [r["coverage"]],
            [r["density"]],
            marker="o",
            s=80,
            facecolors="none",
            edgecolors="red",
            label=f"chosen box {r['chosen_box']}",
        )
        ax.set_xlabel("coverage")
        ax.set_ylabel("density")
        ax.set_title(f"PRIM peeling trajectory, {s}", fontsize=10)
        ax.legend(fontsize=8)
        fig.colorbar(sc, ax=ax, label="restricted parameters")
        fig.tight_layout()
        paths.append(_save(fig, directory / f"prim_trajectory_{_slug(s)}.png"))
    return paths
