"""The two regimes of the central scenario in a Monte Carlo sweep (issue 10).

A 1,000-run sweep of the default uncertainty specification (``scenarios/uncertainty.toml``)
in the central scenario and, with the same draws, in ``no_further_ai``. Runs are sorted
by their unemployment in 2040: *absorbed* (within 0.5 pp of the same draw's no-AI path)
and *lasting displacement* (above 6%). The parameters that decide between them are ranked
by the Spearman rank correlation of the 2040 unemployment gap with each sampled
parameter. Used by ``scripts/model_tables.py`` (the README table) and
``scripts/regime_figure.py`` (the README figure), so both show the same runs.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.stats import spearmanr

from sdmodel.engine import compile_model
from sdmodel.experiments.sampling import sample
from sdmodel.experiments.uncertainty import load_spec
from sdmodel.io.paths import MODEL_PATH, SCENARIO_DIR
from sdmodel.model.scenarios import load_scenario

N_RUNS = 1000
SEED = 11
VARIABLES = ("Unemployment rate", "Wage", "Real wage", "Labour income share", "GDP")
#: Korinek-Suh stress case: no reinstatement, full automation possible, explosive compute.
STRESS = ("explosive", {"Reinstatement strength": 0.0, "Automation ceiling": 1.0})


@functools.cache
def sweep(n: int = N_RUNS, seed: int = SEED) -> dict:
    """Engine runs of central and no_further_ai with the same ``n`` draws.

    Returns ``{"time", "central", "no_further_ai", "stress", "baseline", "params"}``:
    per scenario a dict Vensim name -> array ``(run, time[, skill])``; ``stress`` and
    ``baseline`` are the single runs of :data:`STRESS` and the default no-AI path;
    ``params`` maps each sampled column (``name`` or ``name[element]``) to its draws.
    """
    cm = compile_model(MODEL_PATH)
    drawn = sample(load_spec(SCENARIO_DIR / "uncertainty.toml"), n, seed=seed)
    draws = drawn.as_params(0, n)
    names = [cm.resolve(v) for v in VARIABLES]

    def runs(scenario: str, n_runs: int, extra: dict) -> tuple[dict, np.ndarray]:
        params = {**load_scenario(scenario).constants, **extra}
        arrays, times = cm.run_arrays(n_runs, params=params, variables=names)
        return {v: arrays[cm.resolve(v)] for v in VARIABLES}, times

    out: dict = {}
    for scenario in ("central", "no_further_ai"):
        out[scenario], out["time"] = runs(scenario, n, draws)
    for key, (scenario, extra) in (("stress", STRESS), ("baseline", ("no_further_ai", {}))):
        single, _ = runs(scenario, 1, extra)
        out[key] = {v: a[0] for v, a in single.items()}
    # spec names carry their element ("Base adoption delay[middle]"): one column each
    out["params"] = {
        k: v for k, v in zip(drawn.names, drawn.values.T, strict=True) if np.ptp(v) > 0
    }
    return out


def year_index(times: np.ndarray, year: float) -> int:
    return int(np.argmin(np.abs(times - year)))


def regimes(data: dict, year: float = 2040.0) -> dict[str, np.ndarray]:
    """Boolean masks of the two regimes (and the runs between them)."""
    i = year_index(data["time"], year)
    u = data["central"]["Unemployment rate"][:, i]
    u0 = data["no_further_ai"]["Unemployment rate"][:, i]
    absorbed = np.abs(u - u0) < 0.005
    lasting = u > 0.06
    return {"absorbed": absorbed, "lasting": lasting, "between": ~(absorbed | lasting)}


def deciding_parameters(data: dict, year: float = 2040.0, top: int = 6) -> list:
    """``(name, rank correlation)`` of the sampled parameters with the 2040 gap."""
    i = year_index(data["time"], year)
    gap = (
        data["central"]["Unemployment rate"][:, i]
        - data["no_further_ai"]["Unemployment rate"][:, i]
    )
    ranked = [(name, float(spearmanr(v, gap)[0])) for name, v in data["params"].items()]
    return sorted(ranked, key=lambda item: -abs(item[1]))[:top]
