"""Writing analysis results: CF-NetCDF and CSV of indices, JSON and CSV of PRIM boxes, text.

Every file is written atomically (:mod:`sdmodel.io.atomic`); a command's files appear
together at the end of its :func:`sdmodel.io.atomic.transaction`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sdmodel.analysis.discovery import PrimResult
from sdmodel.io.atomic import atomic_path
from sdmodel.io.netcdf import write_netcdf

#: The main index of each method and its interval, for ranking and tables.
MAIN = {"sobol": ("ST", "ST_conf"), "morris": ("mu_star", "mu_star_conf")}


def outputs_beside(ensemble: Path, method: str, out: Path | None) -> tuple[Path, Path, Path]:
    """``(netcdf or json, csv, figures dir)``: ``<stem>_<method>.*`` beside the ensemble.

    ``out`` (``--out``) replaces ``<ensemble dir>/<stem>_<method>``: its suffix, if any, is
    dropped and ``.nc``/``.json``, ``.csv`` and ``_figures`` are added.
    """
    base = ensemble.with_name(f"{ensemble.stem}_{method}") if out is None else out
    base = base.with_suffix("") if base.suffix in (".nc", ".csv", ".json") else base
    main = ".json" if method == "prim" else ".nc"
    return (
        base.with_name(base.name + main),
        base.with_name(base.name + ".csv"),
        base.with_name(base.name + "_figures"),
    )


def indices_table(result: xr.Dataset) -> pd.DataFrame:
    """Long table: one row per scenario, outcome and parameter, one column per index."""
    names = [v for v in result.data_vars if result[v].dims == ("scenario", "outcome", "parameter")]
    frame = result[names].to_dataframe().reset_index()
    return frame[["scenario", "outcome", "parameter", *names]]


def write_indices(result: xr.Dataset, nc_path: Path, csv_path: Path, command: str) -> None:
    """The indices as CF-NetCDF (:func:`sdmodel.io.netcdf.write_netcdf`) and as CSV."""
    ds = result.copy()
    comment = {
        "sobol": "share of the outcome's variance (SALib sobol.analyze), dimensionless",
        "morris": "in the outcome's units per grid step of the unit-cube design "
        "(SALib morris.analyze); units = 1 stands for those units",
    }[str(result.attrs["method"])]
    for var in ds.data_vars.values():
        var.attrs.setdefault("vensim_units", "Dmnl")
        var.attrs.setdefault("comment", comment)
    ds.attrs.setdefault("engine", "numpy")
    write_netcdf(ds, nc_path, command=command)
    with atomic_path(csv_path) as tmp:
        indices_table(result).to_csv(tmp, index=False, float_format="%.6g")


def _fmt(value: float) -> str:
    return "nan" if not np.isfinite(value) else f"{value:.3g}"


def indices_text(result: xr.Dataset, top: int = 10) -> str:
    """Text report: per scenario and outcome, the ``top`` parameters by the main index."""
    method = str(result.attrs["method"])
    main, conf = MAIN[method]
    extra = ("S1", "S1_conf") if method == "sobol" else ("sigma",)
    lines = [
        f"{method} indices ({result.attrs['conf_level']:.0%} bootstrap intervals, "
        f"{result.attrs['num_resamples']} resamples); top {top} by {main}"
    ]
    params = [str(p) for p in result["parameter"].values]
    width = min(48, max(len(p) for p in params))
    for s in result["scenario"].values:
        for o in result["outcome"].values:
            sub = result.sel(scenario=s, outcome=o)
            values = sub[main].values
            if not np.isfinite(values).any():
                lines.append(f"\n{s}  {o}: the same in every run (no indices)")
                continue
            lines.append(f"\n{s}  {o}")
            head = f"  {'parameter':<{width}} {main:>9} {'+-':>8}"
            head += "".join(f" {e:>9}" for e in extra)
            lines.append(head)
            for k in np.argsort(-np.nan_to_num(values, nan=-np.inf))[:top]:
                row = f"  {params[k][:width]:<{width}} {_fmt(values[k]):>9} "
                row += f"{_fmt(sub[conf].values[k]):>8}"
                row += "".join(f" {_fmt(sub[e].values[k]):>9}" for e in extra)
                lines.append(row)
    return "\n".join(lines)


def indices_json(result: xr.Dataset, files: list[Path]) -> str:
    """``--json``: attributes, files and every index as records."""
    table = indices_table(result).replace({np.nan: None})
    document = {
        "command": f"analyze {result.attrs['method']}",
        "files": [str(f) for f in files],
        "attrs": {k: _plain(v) for k, v in result.attrs.items()},
        "indices": table.to_dict(orient="records"),
    }
    return json.dumps(document, indent=2)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def prim_document(
    where: str,
    results: Mapping[str, PrimResult],
    scores: Mapping[str, pd.Series],
    threshold: float,
) -> dict[str, Any]:
    """JSON-able PRIM result: the condition, and per scenario the box and feature scores."""
    return {
        "command": "analyze prim",
        "where": where,
        "threshold": threshold,
        "scenarios": {
            s: {
                **r.to_dict(),
                "feature_scores": {str(k): float(v) for k, v in scores[s].items()},
            }
            for s, r in results.items()
        },
    }


def write_prim(document: dict[str, Any], json_path: Path, csv_path: Path) -> None:
    """The PRIM document as JSON, and the chosen boxes' limits as CSV."""
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    rows = []
    for s, r in document["scenarios"].items():
        for name, (lo, hi) in r["limits"].items():
            rows.append(
                {
                    "scenario": s,
                    "parameter": name,
                    "lower": lo,
                    "upper": hi,
                    "coverage": r["coverage"],
                    "density": r["density"],
                    "mass": r["mass"],
                }
            )
    columns = ["scenario", "parameter", "lower", "upper", "coverage", "density", "mass"]
    with atomic_path(csv_path) as tmp:
        pd.DataFrame(rows, columns=columns).to_csv(tmp, index=False, float_format="%.6g")


def prim_text(document: dict[str, Any], top: int = 5) -> str:
    """Text report of :func:`prim_document`."""
    lines = [f"PRIM boxes for: {document['where']}"]
    for s, r in document["scenarios"].items():
        lines.append(
            f"\n{s}: {r['n_cases']} of {r['n_runs']} runs meet the condition; box "
            f"{r['chosen_box']} of {len(r['trajectory'])}: coverage {r['coverage']:.3f}, "
            f"density {r['density']:.3f}, mass {r['mass']:.3f}"
        )
        if r["density"] < document.get("threshold", 0):
            lines.append(f"  (no box reaches the density threshold {document['threshold']:g})")
        if not r["limits"]:
            lines.append("  (no parameter restricted)")
        for name, (lo, hi) in r["limits"].items():
            lines.append(f"  {lo:12.5g} <= {name} <= {hi:<12.5g}")
        best = list(r["feature_scores"].items())[:top]
        lines.append("  feature scores: " + ", ".join(f"{k} {v:.3f}" for k, v in best))
    return "\n".join(lines)
