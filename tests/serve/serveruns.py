"""A reference engine run for the simulator tests."""

from __future__ import annotations


def engine_run(sim, scenario: str, overrides) -> object:
    """A fresh engine run of a setting, saving the charts' variables, as the page's runs are.

    Built from the scenario file and ``merge_settings`` (the path of ``sdmodel run
    --set``), not from the simulator's caches. With the JAX backend the compiled program
    depends on which variables are saved (XLA optimises the loop as a whole), so the
    page's numbers equal this run bit for bit, and ``run_scenarios`` (every variable
    saved) to rounding.
    """
    from sdmodel.experiments.runner import engine_params
    from sdmodel.model.scenarios import load_scenario, merge_settings
    from sdmodel.serve.compute import VARIABLES

    settings = merge_settings(load_scenario(scenario), dict(overrides), sim.info)
    return sim.cm.run(
        n_runs=1,
        params=engine_params([settings], sim.cm, sim.info),
        variables=VARIABLES,
        backend=sim.backend,
    ).isel(run=0, drop=True)
