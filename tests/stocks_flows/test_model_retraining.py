"""Retraining places are filled while anyone waits (model v2 part 3, item 3).

Referred persons pass an intake (``Enrolment time``) and then wait for a place; the
waiting list takes the places that are free or freed within the same time step. The
checks run through the engine at every time step (the relations are per Euler step).
"""

from __future__ import annotations

import numpy as np
import pytest
from modelruns import compiled

from sdmodel.model.scenarios import load_scenario

NAMES = (
    "Retraining occupancy",
    "Place fill fraction",
    "Retraining waiting list",
    "Intake completion",
    "Unemployment rate",
)


def _run(scenario: str, overrides: dict | None = None) -> dict:
    cm = compiled()
    params = dict(load_scenario(scenario).constants)
    params.update(overrides or {})
    dt = cm.control_values()["time_step"]
    out, _ = cm.run_arrays(1, params=params, variables=[cm.resolve(n) for n in NAMES], saveper=dt)
    return {n: out[cm.resolve(n)][0] for n in NAMES} | {"dt": dt}


@pytest.mark.parametrize("scenario", ["central", "explosive"])
def test_places_full_one_step_after_the_list_exceeds_them(scenario):
    r = _run(scenario)
    short = r["Place fill fraction"][:-1] < 1  # the list is longer than the places
    assert short.sum() >= 40, "capacity never binds: the test would not test anything"
    occupancy_next = r["Retraining occupancy"][1:][short]
    # float rounding of a difference of stocks of ~20,000 persons: 1e-12 relative
    np.testing.assert_allclose(occupancy_next, 1.0, rtol=0, atol=1e-12)
    assert float(r["Retraining occupancy"].max()) <= 1 + 1e-12


def test_with_places_for_all_the_list_holds_one_step_of_starters():
    r = _run("no_further_ai")
    assert bool(np.all(r["Place fill fraction"] == 1.0))
    assert float(r["Retraining occupancy"].max()) < 1
    np.testing.assert_allclose(
        r["Retraining waiting list"][1:],
        r["Intake completion"].sum(-1)[:-1] * r["dt"],
        rtol=1e-9,
    )


def test_more_places_shorten_the_list_and_lower_unemployment():
    base = _run("central")
    more = _run("central", {"Initial retraining capacity": 60_000.0})
    assert more["Retraining waiting list"].max() < 0.5 * base["Retraining waiting list"].max()
    assert more["Unemployment rate"].max() < base["Unemployment rate"].max()
