"""Benchmark the EMA Workbench bridge against EMA's own pysd connector, in one run.

Usage: ``python benchmarks/ema_bridge.py [--runs 10000] [--pysd-runs 2] [--final-time T]``

Both sides are EMA Workbench models of the project model, with the same uncertainties
(every whole, unsubscripted parameter of ``scenarios/uncertainty.toml``: pysd's connector
sets whole constants only), the same outcomes (``sdmodel.experiments.ema.DEFAULT_OUTCOMES``,
time series at the model's SAVEPER) and the same base (the ``central`` scenario's
constants, given to the connector as EMA constants). Both are timed through
``ema_workbench.perform_experiments``, model set-up excluded (compiling the engine;
loading pysd's cached translation):

* the bridge, ``SdmodelEMAModel`` with ``BatchEvaluator``: ``--runs`` LHS experiments
  sampled by EMA and evaluated in one engine call, EMA's callback included;
* EMA's pysd connector (``PysdConnectorModel``, EMA's ``PysdModel`` on the cached
  translation) with EMA's ``SequentialEvaluator``: the first ``--pysd-runs`` of the same
  experiments.

It prints runs per second of each, their ratio, and the largest relative difference of
the outcomes of the experiments both ran (rtol 1e-9 expected). The machine is shared, so
the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000, help="bridge experiments")
    parser.add_argument("--pysd-runs", type=int, default=2, help="pysd connector experiments")
    parser.add_argument("--final-time", type=float, default=None, help="shorter runs")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # ema_workbench's notes on its optional connectors
    import numpy as np
    from ema_workbench import Constant, perform_experiments
    from ema_workbench.em_framework.evaluators import SequentialEvaluator
    from ema_workbench.em_framework.points import Policy, Scenario

    from sdmodel.experiments import ema
    from sdmodel.experiments.uncertainty import load_spec
    from sdmodel.io.paths import MODEL_PATH, SCENARIO_DIR
    from sdmodel.model.info import load_info

    spec = load_spec(SCENARIO_DIR / "uncertainty.toml")
    whole = [p.name for p in spec.parameters if p.elements is None]
    print(
        f"load average {os.getloadavg()[0]:.2f}; {len(whole)} uncertainties, outcomes "
        f"{list(ema.DEFAULT_OUTCOMES)}, final time {args.final_time or 'model'}"
    )

    bridge = ema.SdmodelEMAModel(
        "bridge", uncertainties=whole, levers=[], final_time=args.final_time
    )
    t0 = time.perf_counter()
    with ema.BatchEvaluator(bridge) as evaluator:
        experiments, outcomes = perform_experiments(
            bridge, scenarios=args.runs, evaluator=evaluator
        )
    t_bridge = time.perf_counter() - t0

    connector = ema.PysdConnectorModel("pysd", mdl_file=str(MODEL_PATH), final_time=args.final_time)
    connector.uncertainties = bridge.uncertainties
    connector.outcomes = bridge.outcomes
    central = ema.scenario_constants("central", load_info(MODEL_PATH))
    connector.constants = [Constant(k, v) for k, v in central.items()]
    connector.model_init(Policy("None"))  # loading the translation is set-up, not a run
    k = args.pysd_runs
    scenarios = [
        Scenario(f"s{i}", **{u: float(experiments[u][i]) for u in whole}) for i in range(k)
    ]
    t0 = time.perf_counter()
    with SequentialEvaluator(connector) as evaluator:
        _, ref = perform_experiments(connector, scenarios=scenarios, evaluator=evaluator)
    t_pysd = time.perf_counter() - t0

    worst = 0.0
    for name in ref:
        a, b = outcomes[name][:k], ref[name]
        worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))))
    r_bridge, r_pysd = args.runs / t_bridge, k / t_pysd
    print(
        f"bridge (BatchEvaluator, one engine call): {args.runs} runs in {t_bridge:.2f} s = "
        f"{r_bridge:,.0f} runs/s"
    )
    print(
        f"EMA pysd connector (SequentialEvaluator): {k} runs in {t_pysd:.2f} s = "
        f"{r_pysd:.4f} runs/s"
    )
    print(
        f"ratio: {r_bridge / r_pysd:,.0f}x; largest relative outcome difference on the "
        f"{k} common experiments: {worst:.2e}; load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
