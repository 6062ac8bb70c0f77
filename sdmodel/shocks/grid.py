"""Stress grid: shock size x speed (optionally x a policy variant) in one engine call.

Every cell is a displacement shock of ``size`` (share of the chosen groups' 2024 jobs)
lost over ``months`` from ``start``; each policy variant gets its own baseline. The grid
reports peak WW outlays (EUR bn/yr and share of GDP), the AWf balance trough and the
retraining waiting-list peak, and flags the cells where a threshold is crossed:

- ``fund_exhausted``: the AWf balance falls below zero;
- ``over_capacity``: the retraining waiting list exceeds retraining capacity at some time;
- ``over_outlays``: peak WW outlays exceed ``outlay_threshold`` x GDP.

``grid.csv`` names every numeric column with its unit (:data:`GRID_COLUMNS`): shares
are fractions (``_fraction``; the terminal table prints them as percentages), money in
EUR bn at constant 2024 prices, flags 1 (yes) or 0 (no).
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sdmodel.io.atomic import atomic_path
from sdmodel.shocks.report import ShockModel, case_settings, run_cases
from sdmodel.shocks.spec import SKILLS, Displacement, ShockSpec, safe_name, settings_digest

DEFAULT_SIZES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10, 0.20)
DEFAULT_MONTHS: tuple[float, ...] = (3.0, 12.0, 36.0)
DEFAULT_OUTLAY_THRESHOLD = 0.01
METRICS = (
    "peak_outlays",
    "peak_outlay_share",
    "awf_trough",
    "waiting_peak",
    "fund_exhausted",
    "over_capacity",
    "over_outlays",
)


#: Columns of ``grid.csv``: (name, meaning); a numeric column's name ends in its unit.
GRID_COLUMNS: tuple[tuple[str, str], ...] = (
    ("scenario", "scenario name or file"),
    ("variant", "policy variant"),
    ("skill", "skill groups hit (all, or low+high, ...)"),
    ("start_decimal_year", "shock start"),
    ("jobs_lost_fraction", "share of the groups' 2024 jobs lost (0: the baseline)"),
    ("period_months", "period over which the jobs are lost (empty: the baseline)"),
    ("peak_ww_outlays_eur_bn_per_year", "peak WW outlays, constant 2024 prices"),
    ("peak_ww_outlays_share_of_gdp_fraction", "peak of WW outlays / GDP"),
    ("awf_trough_eur_bn", "minimum of the AWf balance, constant 2024 prices"),
    ("waiting_list_peak_persons", "peak of the retraining waiting list"),
    ("fund_exhausted_flag", "1: the AWf balance falls below zero"),
    ("waiting_list_over_capacity_flag", "1: the waiting list exceeds capacity at some time"),
    ("outlays_over_threshold_flag", "1: peak WW outlays exceed the threshold"),
    ("outlay_threshold_share_of_gdp_fraction", "--outlay-threshold"),
)


def default_dirname(
    scenario: str,
    sizes: Sequence[float],
    months: Sequence[float],
    skills: Sequence[str],
    start: float,
    policy: dict[str, float] | None,
    threshold: float,
    variants: Sequence[tuple[str, dict[str, float]]],
    model_path: str | os.PathLike,
) -> str:
    """The default output directory's name: ``grid_<skill>_<scenario>_<digest>``.

    ``<digest>`` is 8 hex digits of the SHA-256 of every setting (the arguments of
    :func:`run_grid` and the model file's path), so that a grid with other settings
    never replaces another's files, while the same settings again (``5%`` or ``0.05``
    alike) replace their own.

    Parameters
    ----------
    scenario, sizes, months, skills, start, policy, threshold, variants
        As for :func:`run_grid`.
    model_path
        The model file.

    Returns
    -------
    str
        A directory name (letters, digits, ``_ . + -``).
    """
    record = {
        "scenario": str(scenario),
        "sizes": [f"{float(s):.12g}" for s in sizes],
        "months": [f"{float(m):.12g}" for m in months],
        "skills": list(skills),
        "start": f"{float(start):.12g}",
        "policy": {k: f"{float(v):.12g}" for k, v in (policy or {}).items()},
        "threshold": f"{float(threshold):.12g}",
        "variants": [[n, {k: repr(v) for k, v in c.items()}] for n, c in variants],
        "model": str(Path(model_path).resolve()),
    }
    label = "all" if tuple(skills) == SKILLS else "+".join(skills)
    return f"grid_{label}_{safe_name(str(scenario))}_{settings_digest(record)}"


@dataclass
class GridResult:
    """Grid metrics: arrays of shape ``(variant, size, months)``; baselines per variant."""

    sizes: tuple[float, ...]
    months: tuple[float, ...]
    skills: tuple[str, ...]
    start: float
    variants: tuple[str, ...]
    threshold: float
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    baseline: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0
    runs: int = 0


def _cell_metrics(ds, threshold: float) -> dict[str, np.ndarray]:
    """Metrics per case (member 0) of a run Dataset from :func:`run_cases`."""
    one = ds.isel(member=0)
    outlays = np.asarray(one["ww_outlays"].values)
    share = np.asarray(one["ww_outlays_share_of_gdp"].values)
    balance = np.asarray(one["awf_balance"].values)
    waiting = np.asarray(one["retraining_waiting_list"].values)
    capacity = np.asarray(one["retraining_capacity"].values)
    return {
        "peak_outlays": outlays.max(-1),
        "peak_outlay_share": share.max(-1),
        "awf_trough": balance.min(-1),
        "waiting_peak": waiting.max(-1),
        "fund_exhausted": balance.min(-1) < 0,
        "over_capacity": (waiting > capacity).any(-1),
        "over_outlays": share.max(-1) > threshold,
    }


def run_grid(
    sm: ShockModel,
    scenario: str = "central",
    sizes: Sequence[float] = DEFAULT_SIZES,
    months: Sequence[float] = DEFAULT_MONTHS,
    skills: Sequence[str] = SKILLS,
    start: float = 2027.0,
    policy: dict[str, float] | None = None,
    threshold: float = DEFAULT_OUTLAY_THRESHOLD,
    variants: Sequence[tuple[str, dict[str, float]]] = (),
) -> GridResult:
    """Run the whole grid (every cell and each variant's baseline) in one engine call.

    Parameters
    ----------
    sm
        Loaded model.
    scenario
        Scenario name or file.
    sizes, months
        Shares of jobs lost and shock periods (months).
    skills
        Groups hit by the shock.
    start
        Shock start (decimal year).
    policy
        Optional policy variant: the grid is run with current policy and with it.
    threshold
        Outlay threshold as a share of GDP.
    variants
        Further named policy variants (``--policy-file``), each run like ``policy``.
    """
    named = list(variants)
    variants = [("current policy", {})]
    if policy:
        variants.append(
            ("policy " + ", ".join(f"{k}={v:g}" for k, v in policy.items()), dict(policy))
        )
    variants += [(name, dict(levers)) for name, levers in named]
    settings: list[dict] = []
    for _, levers in variants:
        specs = [
            ShockSpec(
                f"{s:g}_{m:g}",
                "",
                Displacement(float(s), tuple(skills), start, float(m)),
                None,
                levers,
            )
            for s in sizes
            for m in months
        ]
        settings += case_settings(scenario, specs, sm)
    clock = time.perf_counter()
    ds = run_cases(sm, settings)
    seconds = time.perf_counter() - clock
    per_case = _cell_metrics(ds, threshold)
    n_cells = len(sizes) * len(months)
    result = GridResult(
        tuple(float(s) for s in sizes),
        tuple(float(m) for m in months),
        tuple(skills),
        start,
        tuple(v[0] for v in variants),
        threshold,
        seconds=seconds,
        runs=len(settings),
    )
    for key, values in per_case.items():
        table = values.reshape(len(variants), n_cells + 1)
        result.baseline[key] = table[:, 0]
        result.metrics[key] = table[:, 1:].reshape(len(variants), len(sizes), len(months))
    return result


def write_grid_csv(result: GridResult, path: Path, scenario: str) -> Path:
    """One line per variant and cell (size 0: the variant's baseline); columns
    :data:`GRID_COLUMNS`, each numeric one named with its unit."""
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow([name for name, _ in GRID_COLUMNS])
        skill = "all" if tuple(result.skills) == SKILLS else "+".join(result.skills)

        def row(variant: str, share: float, months: float | str, get) -> list:
            return [
                scenario,
                variant,
                skill,
                f"{result.start:g}",
                f"{share:g}",
                months,
                f"{get('peak_outlays') * 1e-9:.6g}",
                f"{get('peak_outlay_share'):.6g}",
                f"{get('awf_trough') * 1e-9:.6g}",
                f"{get('waiting_peak'):.6g}",
                int(get("fund_exhausted")),
                int(get("over_capacity")),
                int(get("over_outlays")),
                f"{result.threshold:g}",
            ]

        for v, variant in enumerate(result.variants):
            out.writerow(row(variant, 0.0, "", lambda k, v=v: result.baseline[k][v]))
            for i, share in enumerate(result.sizes):
                for j, months in enumerate(result.months):
                    out.writerow(
                        row(
                            variant,
                            share,
                            f"{months:g}",
                            lambda k, v=v, i=i, j=j: result.metrics[k][v, i, j],
                        )
                    )
    return path


def format_grid(result: GridResult) -> str:
    """Text summary: peak outlays (% GDP) per cell, flags as letters (F, W, O)."""
    lines = []
    for v, variant in enumerate(result.variants):
        lines.append(
            f"{variant}: peak WW outlays, % of GDP (baseline "
            f"{result.baseline['peak_outlay_share'][v] * 100:.3f}); flags: "
            "F fund < 0, W waiting list > capacity, "
            f"O outlays > {result.threshold:.1%} of GDP"
        )
        lines.append(
            f"{'jobs lost':>10}" + "".join(f"{f'{m:g} months':>16}" for m in result.months)
        )
        for i, share in enumerate(result.sizes):
            cells = []
            for j in range(len(result.months)):
                flags = "".join(
                    letter
                    for letter, key in (
                        ("F", "fund_exhausted"),
                        ("W", "over_capacity"),
                        ("O", "over_outlays"),
                    )
                    if result.metrics[key][v, i, j]
                )
                cells.append(
                    f"{result.metrics['peak_outlay_share'][v, i, j] * 100:9.3f} {flags:<3}"
                )
            lines.append(f"{share * 100:9g}%" + "".join(f"{c:>16}" for c in cells))
    lines.append(f"{result.runs} runs in one engine call: {result.seconds:.2f} s")
    return "\n".join(lines)
