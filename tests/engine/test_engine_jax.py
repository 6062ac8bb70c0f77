"""The JAX backend against the numpy backend (the reference) of the same engine.

Both run the same statements in the same order; XLA's transcendental functions and its
rewrites of the loop (fusion, constant folding) need not round as numpy does, so the test
is equality to rounding: every saved value within ``RTOL`` of the numpy value, scaled by
the variable's largest magnitude in the run (a difference variable that crosses zero,
such as the output gap, has no meaningful relative error of its own). Rounding
differences grow through the model's feedback over 416 steps: measured worst 4.8e-13
over the four scenarios and 1.1e-12 over the 20 draws (the output gap), below 1e-14 on
most variables. ``RTOL`` = 1e-10 leaves a factor of about 100 for other draws and
platforms and is ten times tighter than the engine-against-pysd standard (1e-9).
"""

from __future__ import annotations

import numpy as np
import pytest

from sdmodel.engine import compile_model
from sdmodel.engine.jaxloop import regular_saves
from sdmodel.io.paths import MODEL_PATH, SCENARIO_DIR
from sdmodel.model.variables import DEFAULT_SAVED

pytest.importorskip("jax", reason="the JAX backend needs jax (a project dependency)")

from test_engine_sdxorg import _XFAIL, CASES, SHARED  # noqa: E402

RTOL = 1e-10


def assert_backends_agree(a: dict, b: dict, rtol: float = RTOL) -> float:
    """Assert ``b`` equals ``a`` to ``rtol`` of each variable's scale; return the worst."""
    assert a.keys() == b.keys()
    worst = 0.0
    for v, x in a.items():
        y = b[v]
        assert x.shape == y.shape, v
        fin = np.isfinite(x)
        assert np.array_equal(fin, np.isfinite(y)), f"{v}: non-finite values differ"
        assert np.array_equal(x[~fin], y[~fin], equal_nan=True), f"{v}: NaN against inf"
        if not fin.any():
            continue
        scale = np.abs(np.where(fin, x, 0)).max(axis=1, keepdims=True)  # per run
        err = np.where(fin, np.abs(x - y), 0) / np.where(scale > 0, scale, 1.0)
        assert err.max() <= rtol, f"{v}: scaled difference {err.max():.3g} above {rtol:g}"
        worst = max(worst, float(err.max()))
    return worst


@pytest.mark.parametrize(
    "case", [c for c in CASES if (c.split("/")[1] if c.startswith("tests/") else c) not in _XFAIL]
)
def test_sdxorg_models_agree_with_numpy(case) -> None:
    cm = compile_model(SHARED / case)
    rng = np.random.default_rng(1)
    params = {k: v * rng.uniform(0.9, 1.1, 3) for k, v in cm.constants.items() if np.ndim(v) == 0}
    try:
        ref, saved = cm.run_arrays(3, params=params)
    except ValueError as err:  # a run-invariant value (a DELAY FIXED time) was perturbed
        if "DELAY FIXED" not in str(err):
            raise
        params = {}
        ref, saved = cm.run_arrays(3)
    got, saved_jax = cm.run_arrays(3, params=params, backend="jax")
    assert np.array_equal(saved, saved_jax)
    assert_backends_agree(ref, got)


@pytest.fixture(scope="module")
def project():
    from sdmodel.experiments.runner import engine_params
    from sdmodel.experiments.sampling import sample
    from sdmodel.experiments.targets import sample_targets
    from sdmodel.experiments.uncertainty import load_spec
    from sdmodel.model.info import load_info
    from sdmodel.model.scenarios import load_scenario, merge_settings

    cm = compile_model(MODEL_PATH)
    info = load_info(MODEL_PATH)
    names = ("no_further_ai", "conservative", "central", "explosive")
    settings = [merge_settings(load_scenario(s), {}, info) for s in names]
    scenarios = engine_params(settings, cm, info)
    # 20 draws of the project's uncertainty specification on top of the central scenario
    spec = load_spec(SCENARIO_DIR / "uncertainty.toml")
    drawn = sample(spec, 20, seed=11, sampler="lhs")
    central = {py: np.repeat(a[2:3], 20, axis=0) for py, a in scenarios.items()}
    for j, (py, index) in enumerate(sample_targets(cm, spec)):
        if py not in central:
            default = np.asarray(cm.constants[cm.elements[py]["name"]], dtype=float)
            central[py] = np.broadcast_to(default, (20, *default.shape)).copy()
        if index is None:
            central[py][...] = drawn.values[:, j].reshape((20,) + (1,) * (central[py].ndim - 1))
        else:
            central[py][(slice(None), *index)] = drawn.values[:, j]
    return cm, scenarios, central


def test_project_scenarios_and_draws_agree_with_numpy(project) -> None:
    cm, scenarios, draws = project
    names = [cm.resolve(v) for v in DEFAULT_SAVED]
    for params, n in ((scenarios, 4), (draws, 20)):
        ref, _ = cm.run_arrays(n, params=params, variables=names)
        got, _ = cm.run_arrays(n, params=params, variables=names, backend="jax")
        assert_backends_agree(ref, got)


def test_jax_results_do_not_depend_on_blocks_or_batch(project) -> None:
    """A run's values do not depend on the block size or on its batch mates.

    Asserted to rounding (``RTOL``): XLA compiles each block size on its own and its code
    generation depends on the CPU. On the machine this was written on, blocks of two or
    more runs were bit-identical and a batch of one run (compiled to scalar code)
    differed in the last bits; sweeps, which must be bit-identical whatever the chunking,
    run on numpy.
    """
    cm, _, draws = project
    names = [cm.resolve(v) for v in ("Unemployment rate", "Wage", "AWf balance")]
    ref, _ = cm.run_arrays(20, params=draws, variables=names, backend="jax")
    for size in (7, 20):
        got, _ = cm.run_arrays(20, params=draws, variables=names, backend="jax", block_size=size)
        assert_backends_agree(ref, got)
    for rows in (slice(12, 14), slice(13, 14)):
        part, _ = cm.run_arrays(
            rows.stop - rows.start,
            params={k: v[rows] for k, v in draws.items()},
            variables=names,
            backend="jax",
        )
        assert_backends_agree({v: ref[v][rows] for v in names}, part)
    other = {k: v.copy() for k, v in draws.items()}
    key = next(k for k in other if other[k].ndim == 1)
    other[key][0] *= 1.01  # a batch mate's parameter changes: run 13 must not
    moved, _ = cm.run_arrays(20, params=other, variables=names, backend="jax")
    assert_backends_agree({v: ref[v][13:] for v in names}, {v: moved[v][13:] for v in names})


def test_unknown_backend_and_irregular_saves_are_refused() -> None:
    cm = compile_model(SHARED / "samples/teacup/teacup.mdl")
    with pytest.raises(ValueError, match="backend must be 'numpy' or 'jax'"):
        cm.run_arrays(1, backend="torch")
    assert regular_saves([True, False, False, True, False, False, True]) == 3
    assert regular_saves([True, False, True, False]) == 2  # after the last save: not run
    assert regular_saves([True, False, False]) == 1
    assert regular_saves([True, True, False, True]) == 0
    with pytest.raises(ValueError, match="equally spaced saved times"):
        cm._jax_loop(tuple(cm.default_outputs))(None, 1, {}, [0.0, 1.0, 2.0], [1, 1, 0, 1], {})


@pytest.mark.parametrize("saves", ["every 7th step", "the first only"])
def test_other_save_grids_agree_with_numpy(saves) -> None:
    cm = compile_model(SHARED / "samples/teacup/teacup.mdl")
    ctl = cm.control_values()
    if saves == "every 7th step":  # 240 steps: the last saved time is step 238
        kw = {"saveper": ctl["time_step"] * 7}
    else:
        kw = {"final_time": ctl["initial_time"]}
    ref, t_ref = cm.run_arrays(2, **kw)
    got, t_got = cm.run_arrays(2, backend="jax", **kw)
    assert np.array_equal(t_ref, t_got) and len(t_ref) == (35 if saves[0] == "e" else 1)
    assert_backends_agree(ref, got)


def test_run_scenarios_with_the_jax_engine_is_the_numpy_run() -> None:
    """``sdmodel run --engine jax`` (every variable saved) against ``--engine numpy``."""
    from sdmodel.experiments.runner import run_scenarios

    ref = run_scenarios(["central", "explosive"], {"WW maximum duration": 12.0})
    got = run_scenarios(["central", "explosive"], {"WW maximum duration": 12.0}, engine="jax")
    assert got.attrs["engine"] == "jax" and ref.attrs["engine"] == "numpy"
    timed = [v for v in ref.data_vars if "time" in ref[v].dims]
    assert len(timed) > 300
    assert_backends_agree(
        {v: ref[v].transpose("scenario", "time", ...).values for v in timed},
        {v: got[v].transpose("scenario", "time", ...).values for v in timed},
    )


def test_the_loop_carries_the_stocks_only(project) -> None:
    """A step is a pure function of the stocks: nothing else crosses from step to step."""
    import jax.numpy as jnp

    from sdmodel.engine.jaxloop import loop_names, make_jax_helpers
    from sdmodel.engine.plan import loop_plan

    cm = project[0]
    plan = loop_plan(cm.program, tuple(cm.resolve(v) for v in DEFAULT_SAVED))
    known = set(make_jax_helpers(jnp)) | set(cm.program.consts) | {"xp", "_lax", "_like"}
    carried, inputs = loop_names(plan, known)
    stocks = {st["name"] for st in cm.program.states if st["kind"] != "initial"}
    assert carried and set(carried) <= stocks
    assert not set(inputs) & set(carried)
