"""Fixtures of the simulator tests: one Simulator and one server for the session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sim():
    """The simulator on the real model, warmed as ``sdmodel serve`` warms it (the JAX
    backend compiles its runs and bands once), so pages report steady-state times."""
    from sdmodel.serve.compute import Simulator

    sim = Simulator()
    sim.warm()
    return sim


@pytest.fixture(scope="session")
def server(sim):
    """Base URL of a server on a free localhost port, stopped after the session."""
    from sdmodel.serve.app import start_in_thread

    url, stop = start_in_thread(sim)
    yield url
    stop()
