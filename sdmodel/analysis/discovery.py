"""Scenario discovery: PRIM boxes and feature scores, with the EMA Workbench.

Given the sampled parameters of each run and whether the run meets a condition
(:mod:`sdmodel.analysis.conditions`), :func:`prim` runs
:class:`ema_workbench.analysis.prim.Prim` (binary mode, one box) and reports its peeling
trajectory (coverage, density, mass and number of restricted parameters of every box
from the whole space to the smallest), the chosen box and its limits on the restricted
parameters. The chosen box is the one of highest coverage among those whose density
reaches ``threshold``, and of those the densest (the usual coverage-density trade-off); if
none reaches it, the densest box (the text report says so).
:func:`feature_scores` ranks the parameters by extra-trees feature importance
(:func:`ema_workbench.analysis.feature_scoring.get_ex_feature_scores`, seeded).

Coverage: the share of the runs that meet the condition that fall in the box; density:
the share of the runs in the box that meet it; mass: the share of all runs in the box.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sdmodel.errors import SdmodelError

DEFAULT_THRESHOLD = 0.8
DEFAULT_PEEL_ALPHA = 0.05
DEFAULT_MASS_MIN = 0.05


def _ema() -> Any:
    """Import the EMA Workbench's analysis package.

    It warns at import that optional extras (ipyparallel, altair) are missing; those
    serve its interactive tools, which are not used here, so the warnings are dropped.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (UserWarning, ImportWarning))
        from ema_workbench import analysis

    return analysis


@contextlib.contextmanager
def _pandas_deprecations() -> Iterator[None]:
    """Drop pandas' deprecation of ``inplace=``, which the EMA Workbench still uses."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*inplace keyword.*")
        yield


@dataclass
class PrimResult:
    """One PRIM box and how it was found.

    Attributes
    ----------
    trajectory : pandas.DataFrame
        One row per box of the peeling (and pasting) trajectory: ``coverage``,
        ``density``, ``mass``, ``res_dim``.
    chosen : int
        Row of the chosen box in ``trajectory``.
    limits : dict
        ``parameter -> (lower, upper)`` of the chosen box, restricted parameters only.
    coverage, density, mass : float
        Of the chosen box.
    n_runs, n_cases : int
        Runs, and runs meeting the condition.
    """

    trajectory: pd.DataFrame
    chosen: int
    limits: dict[str, tuple[float, float]]
    coverage: float
    density: float
    mass: float
    n_runs: int
    n_cases: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "coverage": self.coverage,
            "density": self.density,
            "mass": self.mass,
            "n_runs": self.n_runs,
            "n_cases": self.n_cases,
            "chosen_box": self.chosen,
            "limits": {k: [lo, hi] for k, (lo, hi) in self.limits.items()},
            "trajectory": self.trajectory.to_dict(orient="records"),
        }


def prim(
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    peel_alpha: float = DEFAULT_PEEL_ALPHA,
    mass_min: float = DEFAULT_MASS_MIN,
) -> PrimResult:
    """A PRIM box for the runs where ``y`` is true.

    Parameters
    ----------
    x
        ``(runs, parameters)`` sampled values, columns named by parameter.
    y
        ``(runs,)`` bool: the run meets the condition.
    threshold
        Density the chosen box should reach.
    peel_alpha, mass_min
        PRIM's peeling fraction and smallest box mass.

    Raises
    ------
    SdmodelError
        If no run, or every run, meets the condition (there is nothing to discover).
    """
    y = np.asarray(y, dtype=bool)
    cases = int(y.sum())
    if cases == 0 or cases == y.size:
        which = "no run" if cases == 0 else "every run"
        raise SdmodelError(f"--where: {which} of {y.size} meets the condition; nothing to find")
    if not 0 < threshold <= 1:
        raise SdmodelError(f"--threshold {threshold:g} is not in (0, 1]")
    analysis = _ema()
    with _pandas_deprecations():
        p = analysis.prim.Prim(
            x.astype(float).reset_index(drop=True),
            y.astype(int),
            # EMA replaces a final box below its threshold by the whole space, trajectory
            # and all; a tiny one keeps the peeled box (the runs of interest are still
            # those with y >= it, y = 1) and the threshold is applied below, in the
            # choice of the box
            threshold=1e-9,
            peel_alpha=peel_alpha,
            mass_min=mass_min,
        )
        box = p.find_box()
    traj = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].astype(float)
    traj = traj.reset_index(drop=True)
    ok = np.flatnonzero(traj["density"].to_numpy() >= threshold)
    cov, dens = traj["coverage"].to_numpy(), traj["density"].to_numpy()
    # highest coverage, then highest density among the boxes of that coverage
    chosen = int(ok[np.lexsort((dens[ok], cov[ok]))[-1]]) if ok.size else int(np.argmax(dens))
    lims = box.box_lims[chosen]
    full = box.box_lims[0]
    limits = {}
    for col in x.columns:
        lo, hi = float(lims[col].iloc[0]), float(lims[col].iloc[1])
        if lo != float(full[col].iloc[0]) or hi != float(full[col].iloc[1]):
            limits[str(col)] = (lo, hi)
    row = traj.iloc[chosen]
    return PrimResult(
        traj,
        chosen,
        limits,
        float(row["coverage"]),
        float(row["density"]),
        float(row["mass"]),
        int(y.size),
        cases,
    )


def feature_scores(x: pd.DataFrame, y: np.ndarray, seed: int = 0) -> pd.Series:
    """Extra-trees feature importance of each parameter for ``y``, largest first."""
    analysis = _ema()
    fs = analysis.feature_scoring
    with _pandas_deprecations():
        scores, *_ = fs.get_ex_feature_scores(
            x.astype(float).reset_index(drop=True),
            np.asarray(y, dtype=int),
            mode=analysis.RuleInductionType.CLASSIFICATION,
            random_state=seed % 2**32,
        )
    series = scores.iloc[:, 0] if isinstance(scores, pd.DataFrame) else pd.Series(scores)
    return series.sort_values(ascending=False)
