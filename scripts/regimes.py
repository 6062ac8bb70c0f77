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
from sdmodel.paths import MODEL_PATH, SCENARIO_DIR
from sdmodel.sampling import sample
from sdmodel.scenarios import load_scenario
from sdmodel.uncertainty import load_spec

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
    spec = load_spec(SCENARIO_DIR / "uncertainty.toml")
    draws = sample(spec, n, seed=seed).as_params(0, n)
    names = [cm.resolve(v) for v in VARIABLES]
    out: dict = {}
    for scenario in ("central", "no_further_ai"):
        params = dict(load_scenario(scenario).constants)
        params.update(draws)
        arrays, times = cm.run_arrays(n, params=params, variables=names)
        out[scenario] = {v: arrays[cm.resolve(v)] for v in VARIABLES}
        out["time"] = times
    for key, (scenario, extra) in (("stress", STRESS), ("baseline", ("no_further_ai", {}))):
        params = dict(load_scenario(scenario).constants)
        params.update(extra)
        arrays, _ = cm.run_arrays(1, params=params, variables=names)
        out[key] = {v: arrays[cm.resolve(v)][0] for v in VARIABLES}
    columns: dict[str, np.ndarray] = {}
    for name, values in draws.items():
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:
            columns[name] = values
        else:
            for j, element in enumerate(cm.dims["skill"]):
                columns[f"{name}[{element}]"] = values[:, j]
    out["params"] = {k: v for k, v in columns.items() if np.ptp(v) > 0}
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
