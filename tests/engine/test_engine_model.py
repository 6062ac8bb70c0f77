"""The engine against pysd on the project model, per scenario and for random parameter sets.

Both integrate the same Euler scheme with the same operations, so they agree to rounding:
every saved variable must match within rtol 1e-9. The absolute tolerance is 1e-12 times the
variable's largest magnitude (over all four scenarios where the scenarios are compared):
values that cancel to ~0 (net flows, differences of stocks) carry rounding errors of order
eps * |operands|, which no relative test can bound. ``Net retraining moves`` without AI is
the case in point: placements minus completions of thousands a year, zero up to 1e-12.
The test fails (it does not skip) when the model file is missing.
"""

from __future__ import annotations

import functools
import mmap
import warnings

import modelruns
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sdmodel.engine import compile_model
from sdmodel.experiments.runner import run_scenarios
from sdmodel.io.paths import MODEL_PATH
from sdmodel.model.history import HISTORY_SCENARIO
from sdmodel.model.scenarios import available_scenarios, load_scenario

RTOL = 1e-9
ATOL_REL = 1e-12
N_RANDOM = 20
#: The random draws run to 2037, half the horizon: the AI wave, the WW chain's response
#: and the switch of every IF/MIN/MAX branch the draws reach happen by then, and the four
#: scenarios, the levers and the other time step are compared to 2050. A full pysd run
#: takes 45-90 s since the WW chain and the policy sector; 20 draws to 2037 cost about
#: 8 min of CPU, half that with two workers. The second half of the draws runs at twice
#: TIME STEP (half the cost): the engine steps, saves and evaluates ``TIME STEP`` as pysd
#: does at a step that is not the model's under random parameters too, not only in the
#: central scenario (``test_time_step_other_than_the_models_matches_pysd``).
RANDOM_FINAL_TIME = 2037.0
#: Draws from this index on run at twice the model's TIME STEP.
RANDOM_AT_TWICE_THE_STEP = N_RANDOM // 2
SCENARIOS = available_scenarios()


@pytest.fixture(scope="module")
def cm():
    assert MODEL_PATH.exists(), f"project model missing: {MODEL_PATH}"
    return compile_model(MODEL_PATH)


def _to_pysd(cm, params: dict) -> dict:
    """Engine-style params (Vensim names, ``Name[elem]``) -> pysd params (full values)."""
    out: dict = {}
    for key, value in params.items():
        base, elem = key, None
        if key.endswith("]"):
            base, elem = key[:-1].split("[", 1)
        py = cm.resolve(base)
        info = cm.elements[py]
        if not info["dims"]:
            out[py] = float(value)
            continue
        coords = {d: cm.program.dims[d] for d in info["dims"]}
        cur = out.get(py)
        arr = (
            np.array(cur.values)
            if cur is not None
            else np.array(cm.constants[info["name"]], dtype=float)
        )
        if elem is None:
            arr[...] = value
        else:
            arr[coords[info["dims"][0]].index(elem.strip())] = value
        out[py] = xr.DataArray(arr, coords, list(coords))
    return out


def _random_params(cm, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    scal = sorted(n for n, v in cm.constants.items() if np.ndim(v) == 0)
    return {n: cm.constants[n] * rng.uniform(0.8, 1.2) for n in scal}


def _reference(
    cm,
    params: dict,
    variables: list[str],
    time_step: float | None = None,
    final_time: float | None = None,
) -> pd.DataFrame:
    """pysd's run of the model with ``params``, stored on disk (tests/modelruns.py)."""

    def build() -> pd.DataFrame:
        model = modelruns.pysd_model()
        model.reload()
        with warnings.catch_warnings(), modelruns.exact_join():
            warnings.simplefilter("ignore")
            return model.run(
                params=_to_pysd(cm, params),
                return_columns=variables,
                flatten_output=False,
                time_step=time_step,
                final_time=final_time,
            )

    spec = {
        "params": {k: float(v) for k, v in params.items()},
        "variables": variables,
        "time_step": time_step,
        "final_time": final_time,
    }
    return modelruns.cached_run("engine-params", spec, build, pd.DataFrame)


@functools.cache
def _all_scenarios() -> xr.Dataset:
    """The four scenarios in one engine batch (shared by the tolerance scales and the test)."""
    return run_scenarios(SCENARIOS, engine="numpy")


@functools.cache
def _scenario_scales() -> dict[str, float]:
    """Largest magnitude of every saved variable over the four scenarios (engine runs).

    The absolute tolerance is relative to it: a difference of two flows or stocks that is
    ~0 in one run (free places of a full course system, net moves without AI) carries the
    rounding of its operands, whose size the variable reaches in the other scenarios.
    """
    every = _all_scenarios()
    return {str(name): float(np.abs(var).max()) for name, var in every.data_vars.items()}


def _compare(
    cm,
    params: dict,
    label: str,
    time_step: float | None = None,
    final_time: float | None = None,
) -> None:
    variables = cm.default_outputs
    ds = cm.run(1, params=params, variables=variables, time_step=time_step, final_time=final_time)
    ref = _reference(cm, params, variables, time_step, final_time)
    np.testing.assert_array_equal(ds["time"].values, ref.index.values.astype(float))
    for v in variables:
        got = ds[v].isel(run=0).values
        col = ref[v]
        exp = np.stack([np.asarray(x, dtype=float) for x in col.values])
        scale = np.nanmax(np.abs(exp)) if np.isfinite(exp).any() else 0.0
        scale = max(scale, _scenario_scales().get(v, 0.0))
        np.testing.assert_allclose(
            got, exp, rtol=RTOL, atol=ATOL_REL * scale, err_msg=f"{label}: {v}"
        )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenarios_match_pysd(scenario):
    """Through the runner, as ``sdmodel run`` does: every variable, constants included.

    The pysd reference runs are shared with the model-behaviour tests (tests/modelruns.py).
    """
    assert SCENARIOS, "no scenarios found"
    reference = modelruns.run(scenario)
    fast = _all_scenarios().sel(scenario=scenario, drop=True)
    assert set(fast.data_vars) == set(reference.data_vars)
    for name, var in reference.data_vars.items():
        assert fast[name].dims == var.dims, name
        scale = _scenario_scales()[str(name)]
        np.testing.assert_allclose(
            fast[name], var, rtol=RTOL, atol=ATOL_REL * scale, err_msg=f"{scenario}: {name}"
        )


def test_history_run_matches_pysd():
    """The history scenario (1995-2023, its own [control] period) through the runner.

    One pysd run (about a minute), stored with the other reference runs (tests/modelruns.py).
    """
    reference = modelruns.run(str(HISTORY_SCENARIO))
    fast = run_scenarios([HISTORY_SCENARIO], engine="numpy").isel(scenario=0, drop=True)
    np.testing.assert_array_equal(fast["time"].values, reference["time"].values)
    assert float(fast["time"][0]) == 1995.0
    assert set(fast.data_vars) == set(reference.data_vars)
    for name, var in reference.data_vars.items():
        assert fast[name].dims == var.dims, name
        scale = max(float(np.abs(var).max()), _scenario_scales()[str(name)])
        np.testing.assert_allclose(
            fast[name], var, rtol=RTOL, atol=ATOL_REL * scale, err_msg=f"history: {name}"
        )


def test_policy_levers_match_pysd(cm):
    """Every policy lever of sector 9 on (the budget-neutral tax shift included)."""
    levers = {
        "Upskilling participation": 0.05,
        "Job to job service coverage": 0.5,
        "Mobility team coverage": 0.5,
        "Employer charge cut": 0.02,
        "Budget neutral tax shift switch": 1.0,
        "AI tax rate": 0.1,
        "Basic income per recipient": 3000.0,
    }
    _compare(cm, levers, "policy levers")


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_random_parameters_match_pysd(cm, seed):
    step = None
    if seed >= RANDOM_AT_TWICE_THE_STEP:
        step = 2 * cm.control_values()["time_step"]
    label = f"seed {seed}" + (f" at TIME STEP {step}" if step else "")
    params = _random_params(cm, 1000 + seed)
    _compare(cm, params, label, time_step=step, final_time=RANDOM_FINAL_TIME)


def test_time_step_other_than_the_models_matches_pysd(cm):
    """The time step is a run option in both: at twice TIME STEP every variable matches.

    The integration-error test (test_model_validation.py) runs the engine at half the
    step; this checks that the engine steps, saves and evaluates ``TIME STEP`` as pysd
    does at a step that is not the model's (twice it: half the cost of a pysd run).
    """
    step = 2 * cm.control_values()["time_step"]
    params = dict(load_scenario("central").constants)
    _compare(cm, params, f"central at TIME STEP {step}", time_step=step)


def test_ensemble_equals_single_runs(cm):
    sets = [_random_params(cm, 2000 + i) for i in range(3)]
    names = list(sets[0])
    batch = cm.run(3, params={n: np.array([s[n] for s in sets]) for n in names})
    for i, s in enumerate(sets):
        one = cm.run(1, params=s)
        for v in cm.default_outputs:
            np.testing.assert_array_equal(batch[v].values[i], one[v].values[0], err_msg=v)


def test_run_arrays_and_prefaulted_buffers_match_dataset(cm, monkeypatch):
    """``run_arrays`` returns exactly ``run``'s values, through pre-faulted buffers too."""
    from sdmodel.engine import runtime

    n = 50
    sets = [_random_params(cm, 3000 + i) for i in range(n)]
    params = {k: np.array([s[k] for s in sets]) for k in sets[0]}
    names = ["Unemployment rate", "Employment", "Reinstatement"]
    ds = cm.run(n, params=params, variables=names, block_size=16)  # np.empty buffers
    monkeypatch.setattr(runtime, "PREFAULT_BYTES", 0)  # every buffer through mmap
    arrays, times = cm.run_arrays(n, params=params, variables=names, block_size=16)
    np.testing.assert_array_equal(times, ds["time"].values)
    for v in names:
        py = cm.resolve(v)
        assert arrays[py].shape == ds[py].shape
        np.testing.assert_array_equal(arrays[py], ds[py].values)
    big = runtime.output_buffer((3, 1000))
    assert big.dtype == np.float64 and big.flags.writeable and big.shape == (3, 1000)
    if hasattr(mmap, "MAP_POPULATE"):  # Linux: backed by a pre-faulted mapping
        assert isinstance(big.base.base.obj, mmap.mmap)
