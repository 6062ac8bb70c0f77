"""The controls come from the model's metadata: comments, units and declared ranges."""

from __future__ import annotations

from sdmodel.model.scenarios import available_scenarios
from sdmodel.serve.controls import model_controls, serve_scenarios
from sdmodel.shocks.spec import POLICY_LEVERS


def test_every_policy_lever_and_shock_input_of_the_model_is_a_control(sim) -> None:
    info = sim.info
    keys = {c.key for c in sim.controls}
    marked = {
        e.name
        for e in info.by_kind("constant")
        if e.comment.lower().startswith(("policy lever", "shock input"))
    }
    bases = {k.split("[")[0] for k in keys}
    assert bases == marked
    # the shock commands' hand-kept lever list is a subset of what the model marks
    assert set(POLICY_LEVERS) <= bases
    assert {"Shock job loss share[low]", "Shock job loss share[high]", "Shock start"} <= keys
    assert {c.group for c in sim.controls if c.key.startswith("Shock")} == {"shock"}


def test_units_ranges_and_defaults_are_the_models(sim) -> None:
    info = sim.info
    for control in sim.controls:
        element = info.resolve(control.key).element
        assert control.units == element.units
        low, high = element.limits
        assert (control.low, control.high) == (low, high)  # every control declares both
        assert control.low <= control.default <= control.high
        assert 0 < control.step <= control.high - control.low
    duration = next(c for c in sim.controls if c.key == "WW maximum duration")
    assert (duration.low, duration.high, duration.step, duration.units) == (3, 24, 1, "Month")


def test_a_missing_bound_gets_a_finite_stand_in(sim) -> None:
    from dataclasses import replace

    element = sim.info.elements["AI tax rate"]
    info = type(sim.info)(
        {**sim.info.elements, element.name: replace(element, limits=(0.0, None))},
        sim.info.subscript_ranges,
        sim.info.model_path,
        sim.info.time_step,
    )
    control = next(c for c in model_controls(info, sim.cm.constants) if c.key == "AI tax rate")
    assert (control.low, control.high) == (0.0, 1.0)  # default 0 plus a span of 1


def test_the_history_run_is_not_a_compute_scenario() -> None:
    assert serve_scenarios() == [s for s in available_scenarios() if s != "history"]
    assert serve_scenarios()[:4] == ["no_further_ai", "conservative", "central", "explosive"]
