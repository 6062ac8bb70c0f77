"""EMA Workbench bridge: the model as an EMA model, and a batch evaluator for it.

:func:`SdmodelEMAModel` (a class, built on first use) is an EMA Workbench model
(``ema_workbench.em_framework.model.SingleReplication`` + ``AbstractModel``) whose
uncertainties come from an uncertainty spec (``scenarios/uncertainty.toml``; a subscript
element keeps its spec name, ``"Automation ceiling[low]"``), whose levers are the
constants the policy variants set (``scenarios/policies/*.toml``) with the ranges the
model declares for them, and whose outcomes are ``TimeSeriesOutcome`` objects for chosen
model variables. Every experiment starts from a scenario's constants (``central`` by
default), as ``sdmodel run`` and ``sdmodel sweep`` do; sampled values override them.
The levers span the model's *admissible* ranges, not plausible ones: all 14 drawn at once
can reach corners the model does not survive (measured: 2 of 1,600 experiments, 200
scenarios x 8 LHS policies, non-finite, with a basic income of EUR 47,000 per recipient);
pass ``levers=[...]`` to keep to the ones a study needs.

EMA evaluates experiments one at a time through ``run_model``; that works here with EMA's
``SequentialEvaluator`` (one engine call per experiment). :class:`BatchEvaluator`, a
subclass of EMA's ``BaseEvaluator`` (EMA 2.5 takes any evaluator through
``perform_experiments(..., evaluator=...)``), instead collects all experiments of a model
and evaluates them in one vectorized :meth:`sdmodel.engine.CompiledModel.run` call, then
hands each experiment's outcomes to EMA's callback, so EMA's results (experiments
DataFrame, outcomes dict) are the same as with the sequential evaluator.

:func:`PysdConnectorModel` is EMA's own pysd connector (``PysdModel``) with two changes
only: it loads sdmodel's cached pysd translation instead of translating the ``.mdl`` next
to itself on every ``model_init``, and it passes ``final_time`` to pysd (the connector
passes none). ``benchmarks/ema_bridge.py`` times the two against each other.

Nothing here imports ``ema_workbench`` until one of these classes is used.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sdmodel.errors import SdmodelError
from sdmodel.io.paths import MODEL_PATH, SCENARIO_DIR

__all__ = [
    "DEFAULT_OUTCOMES",
    "BatchEvaluator",  # noqa: F822 (built on first use, module __getattr__)
    "PysdConnectorModel",  # noqa: F822 (built on first use, module __getattr__)
    "SdmodelEMAModel",  # noqa: F822 (built on first use, module __getattr__)
    "lever_bounds",
    "scenario_constants",
    "uncertainty_bounds",
]

#: Outcomes of the EMA model unless others are given (unsubscripted model variables).
DEFAULT_OUTCOMES = ("Unemployment rate", "Labour income share", "GDP")


def uncertainty_bounds(spec: Any) -> dict[str, tuple[float, float]]:
    """EMA name -> (lower, upper) of each spec parameter: its distribution's support.

    EMA samples a ``RealParameter`` between its bounds (LHS, uniform); the spec's shape
    (triangular, lognormal, ...) is not passed on, only its support. Raises
    :class:`SdmodelError` for an unbounded support.
    """
    out = {}
    for p in spec.parameters:
        lo, hi = p.distribution.bounds
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise SdmodelError(
                f"{spec.origin}: parameter {p.name!r}: unbounded support [{lo:g}, {hi:g}] "
                "cannot be an EMA RealParameter (truncate it with lower/upper)"
            )
        out[p.name] = (float(lo), float(hi))
    return out


def lever_bounds(info: Any, directory: str | os.PathLike = SCENARIO_DIR / "policies") -> dict:
    """Lever name -> (lower, upper, is_switch) for every constant a policy variant sets.

    The bounds are the range the model declares for the constant (``~ Unit [min, max]``);
    a constant named ``... switch`` is an integer 0/1 lever.
    """
    from sdmodel.model.policies import available_policies, load_policy

    names: dict[str, None] = {}
    for policy in available_policies(directory):
        for key in load_policy(os.path.join(directory, f"{policy}.toml"), info).constants:
            names.setdefault(key, None)
    out = {}
    for name in sorted(names):
        element = info.get(name.split("[")[0])
        lo, hi = element.limits
        if lo is None or hi is None:
            raise SdmodelError(f"lever {name!r}: the model declares no finite range for it")
        out[name] = (float(lo), float(hi), name.lower().endswith("switch"))
    return out


def scenario_constants(scenario: str, info: Any) -> dict[str, Any]:
    """A scenario's validated constants (Vensim name -> float or ``{element: float}``)."""
    from sdmodel.model.scenarios import load_scenario, merge_settings

    return merge_settings(load_scenario(scenario, info), [], info)


@functools.cache
def _classes() -> dict[str, type]:
    """Build the EMA classes (imports ema_workbench)."""
    from ema_workbench.connectors.pysd_connector import PysdModel
    from ema_workbench.em_framework.evaluators import BaseEvaluator
    from ema_workbench.em_framework.model import AbstractModel, SingleReplication
    from ema_workbench.em_framework.outcomes import TimeSeriesOutcome
    from ema_workbench.em_framework.parameters import IntegerParameter, RealParameter
    from ema_workbench.em_framework.points import experiment_generator

    class _SdmodelEMAModel(SingleReplication, AbstractModel):
        """The sdmodel model as an EMA Workbench model (see the module docstring).

        Parameters
        ----------
        name : str
            EMA model name (alphanumeric).
        spec : UncertaintySpec or path, optional
            Uncertainties (default ``scenarios/uncertainty.toml``); ``uncertainties``
            keeps only the named ones.
        scenario : str
            Scenario whose constants every experiment starts from.
        outcomes : sequence of str
            Model variables returned as ``TimeSeriesOutcome`` (unsubscripted, or
            ``"Name[element]"``).
        levers : sequence of str or None
            Policy-lever constants (default: every constant a policy variant sets).
        final_time : float, optional
            Shorter run (the model's FINAL TIME otherwise).
        model_path : path
            The ``.mdl`` file.
        """

        def __init__(
            self,
            name: str = "sdmodel",
            spec: Any = None,
            *,
            scenario: str = "central",
            outcomes: Sequence[str] = DEFAULT_OUTCOMES,
            uncertainties: Sequence[str] | None = None,
            levers: Sequence[str] | None = None,
            final_time: float | None = None,
            model_path: str | os.PathLike = MODEL_PATH,
        ):
            from sdmodel.engine import compile_model
            from sdmodel.experiments.runner import engine_params
            from sdmodel.experiments.uncertainty import constant_elements, load_spec, validate
            from sdmodel.model.info import load_info

            super().__init__(name)
            info = load_info(model_path)
            if spec is None or isinstance(spec, str | os.PathLike):
                spec = load_spec(spec or SCENARIO_DIR / "uncertainty.toml")
            validate(spec, constant_elements(info), info)
            self.cm = compile_model(model_path)
            self.final_time = final_time
            bounds = uncertainty_bounds(spec)
            if uncertainties is not None:
                unknown = [u for u in uncertainties if u not in bounds]
                if unknown:
                    raise SdmodelError(f"{spec.origin}: no parameter(s) {unknown}")
                bounds = {u: bounds[u] for u in uncertainties}
            self.uncertainties = [
                RealParameter(n, lo, hi, variable_name=n) for n, (lo, hi) in bounds.items()
            ]
            all_levers = lever_bounds(info)
            chosen = all_levers if levers is None else {k: all_levers[k] for k in levers}
            self.levers = [
                IntegerParameter(n, int(lo), int(hi), variable_name=n)
                if switch
                else RealParameter(n, lo, hi, variable_name=n)
                for n, (lo, hi, switch) in chosen.items()
            ]
            self._outputs = {}
            for var in outcomes:
                try:
                    self._outputs[var] = self.cm.resolve(var.split("[")[0])
                except Exception:
                    raise SdmodelError(f"outcome {var!r}: unknown model variable") from None
            self.outcomes = [TimeSeriesOutcome(v) for v in outcomes]
            settings = scenario_constants(scenario, info)
            self.base = {k: v[0] for k, v in engine_params([settings], self.cm, info).items()}

        def model_init(self, policy):
            super().model_init(policy)

        def run_experiment(self, experiment):
            """One experiment (variable name -> value) in one engine call."""
            return self.run_batch([dict(experiment)])[0]

        def run_batch(self, experiments: Sequence[Mapping[str, float]]) -> list[dict]:
            """Experiments (variable name -> value) in one engine call; outputs per run."""
            n = len(experiments)
            params: dict[str, np.ndarray] = {
                k: np.broadcast_to(v, (n, *np.shape(v))) for k, v in self.base.items()
            }
            keys = dict.fromkeys(k for e in experiments for k in e)
            for key in keys:
                try:
                    params[key] = np.array([float(e[key]) for e in experiments])
                except KeyError:
                    raise SdmodelError(f"experiment misses {key!r}") from None
            kwargs = {} if self.final_time is None else {"final_time": self.final_time}
            ds = self.cm.run(
                n, params=params, variables=list(set(self._outputs.values())), **kwargs
            )
            arrays = {}
            for var, py in self._outputs.items():
                values = ds[py]
                if "[" in var:
                    labels = var.rstrip()[:-1].split("[", 1)[1].split(",")
                    dims = [d for d in values.dims if d not in ("run", "time")]
                    values = values.sel(dict(zip(dims, [x.strip() for x in labels], strict=True)))
                arrays[var] = np.asarray(values.transpose("run", "time").values)
            return [{var: a[i] for var, a in arrays.items()} for i in range(n)]

    class _BatchEvaluator(BaseEvaluator):
        """EMA evaluator running all experiments of a model in one engine call.

        Works for models with a ``run_batch`` method (:func:`SdmodelEMAModel`); others
        are run one experiment at a time as EMA's ``SequentialEvaluator`` does.
        """

        def initialize(self):
            pass

        def finalize(self):
            pass

        def evaluate_experiments(self, scenarios, policies, callback, combine="factorial"):
            models = {m.name: m for m in self._msis}
            by_model: dict[str, list] = {}
            for exp in experiment_generator(scenarios, self._msis, policies, combine=combine):
                by_model.setdefault(exp.model_name, []).append(exp)
            for name, exps in by_model.items():
                model = models[name]
                if not hasattr(model, "run_batch"):
                    for exp in exps:
                        model.run_model(exp.scenario.copy(), exp.policy.copy())
                        callback(exp, model.outcomes_output)
                        model.reset_model()
                    continue
                constants = {c.name: c.value for c in model.constants}
                rows = [
                    {
                        **_values(exp.scenario, model.uncertainties),
                        **_values(exp.policy, model.levers),
                        **constants,
                    }
                    for exp in exps
                ]
                outputs = model.run_batch(rows)
                for exp, out in zip(exps, outputs, strict=True):
                    model.outcomes_output = out
                    callback(exp, model.outcomes_output)
                    model.reset_model()

    def _values(point, parameters) -> dict:
        """Model variable name -> value of an EMA scenario or policy (EMA's _transform)."""
        out = {}
        for par in parameters:
            value = point[par.name] if par.name in point else par.default
            if value is None:
                continue
            for var in par.variable_name:
                out[var] = value
        return out

    class _PysdConnectorModel(PysdModel):
        """EMA's ``PysdModel`` loading sdmodel's cached translation and passing final_time."""

        def __init__(self, name, mdl_file=str(MODEL_PATH), final_time=None):
            super().__init__(name, mdl_file=str(mdl_file))
            self.final_time = final_time

        def model_init(self, policy, **kwargs):
            AbstractModel.model_init(self, policy)
            from sdmodel.model.translate import load_model

            self.model = load_model(self.mdl_file)

        def run_experiment(self, experiment):
            res = self.model.run(
                params=dict(experiment),
                return_columns=self.output_variables,
                final_time=self.final_time,
            )
            return {col: series.values for col, series in res.items()}

    return {
        "SdmodelEMAModel": _SdmodelEMAModel,
        "BatchEvaluator": _BatchEvaluator,
        "PysdConnectorModel": _PysdConnectorModel,
    }


def __getattr__(name: str) -> type:
    if name in ("SdmodelEMAModel", "BatchEvaluator", "PysdConnectorModel"):
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
