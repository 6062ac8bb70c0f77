"""The simulator's runs: the variant, its baseline and the uncertainty bands.

The variant is the scenario with the page's overrides, built as ``sdmodel run --scenario
S --set ...`` builds it (the scenario file and :func:`sdmodel.model.scenarios.
merge_settings`, then one engine run with :func:`sdmodel.experiments.runner.
engine_params`), saving the charts' variables. It runs on the engine's JAX backend
(:mod:`sdmodel.engine.jaxloop`), about 15 ms per trajectory where the numpy backend takes
about 0.24 s; ``sdmodel run --engine jax`` gives the same numbers to rounding (it saves
every variable, so XLA compiles another program: measured 1e-14 of scale), and the numpy
backend to 1e-10 of scale (measured 1.1e-12). Without JAX the simulator uses numpy. The
baseline is the scenario alone. The bands are the 5th and 95th percentiles over
:data:`BAND_RUNS` runs of the project's uncertainty specification (Latin hypercube, seed
:data:`BAND_SEED`, one design for every setting), the variant's settings underneath the
draws as in ``sdmodel sweep``; a control the page sets wins over a drawn value of the
same constant.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from sdmodel.io.paths import MODEL_PATH, SCENARIO_DIR
from sdmodel.serve.controls import Control, model_controls, serve_scenarios
from sdmodel.serve.state import State

#: Runs of the uncertainty ensemble behind the bands, and its seed.
BAND_RUNS = 200
BAND_SEED = 20240101
#: Percentiles the bands span.
BAND_PERCENTILES = (5.0, 95.0)
#: Results kept per kind (variant settings, baselines, bands).
CACHE_SIZE = 16


@dataclass(frozen=True)
class Series:
    """One plotted line: a model variable, or one element of it, or its sum over skills."""

    key: str
    variable: str
    label: str
    element: str | None = None  # a skill label; "sum" for the sum over skills


@dataclass(frozen=True)
class Chart:
    """One chart: a title, the axis label and a scale from model units."""

    key: str
    title: str
    axis: str
    scale: float
    series: tuple[Series, ...]


def _by_skill(variable: str, name: str) -> tuple[Series, ...]:
    return tuple(Series(f"{variable}[{s}]", variable, f"{name} {s}", s) for s in SKILLS)


SKILLS = ("low", "middle", "high")

#: The views the issue asks for, each against the baseline.
CHARTS: tuple[Chart, ...] = (
    Chart(
        "unemployment",
        "Unemployment rate, total and by skill group",
        "%",
        100.0,
        (Series("unemployment_rate", "unemployment_rate", "total"),)
        + _by_skill("unemployment_rate_by_skill", "skill"),
    ),
    Chart(
        "ww_recipients",
        "WW recipients",
        "thousand persons",
        1e-3,
        (Series("ww_recipients", "ww_recipients", "WW recipients"),),
    ),
    Chart(
        "ww_outlays",
        "WW outlays",
        "bn EUR per year, 2024 prices",
        1e-9,
        (Series("ww_outlays", "ww_outlays", "WW outlays"),),
    ),
    Chart(
        "awf_balance",
        "AWf balance",
        "bn EUR, 2024 prices",
        1e-9,
        (Series("awf_balance", "awf_balance", "AWf balance"),),
    ),
    Chart(
        "wages",
        "Wage by skill group",
        "thousand EUR per person per year, 2024 prices",
        1e-3,
        _by_skill("wage", "wage"),
    ),
    Chart(
        "wage_ratio",
        "High to low wage ratio",
        "ratio",
        1.0,
        (Series("high_to_low_wage_ratio", "high_to_low_wage_ratio", "high/low"),),
    ),
    Chart(
        "labour_share",
        "Labour income share",
        "%",
        100.0,
        (Series("labour_income_share", "labour_income_share", "labour share"),),
    ),
    Chart(
        "waiting_list",
        "Retraining waiting list",
        "thousand persons",
        1e-3,
        (Series("retraining_waiting_list", "retraining_waiting_list", "waiting list"),),
    ),
    Chart(
        "decomposition",
        "Labour demand: displacement, reinstatement and productivity effect (all skills)",
        "thousand persons per year",
        1e-3,
        tuple(
            Series(f"{v}[sum]", v, label, "sum")
            for v, label in (
                ("displacement", "displacement"),
                ("reinstatement", "reinstatement"),
                ("productivity_effect", "productivity effect"),
            )
        ),
    ),
)

#: Python names of the variables the charts need.
VARIABLES: tuple[str, ...] = tuple(dict.fromkeys(s.variable for c in CHARTS for s in c.series))


def series_values(ds: xr.Dataset, series: Series) -> np.ndarray:
    """``(time,)`` (or ``(run, time)``) values of one series, in model units."""
    var = ds[series.variable]
    if series.element is None:
        return var.values
    if series.element == "sum":
        return var.sum("skill").values
    return var.sel(skill=series.element).values


class Simulator:
    """The compiled model, its controls and caches of recent runs.

    Parameters
    ----------
    model_path
        The Vensim model.
    scenario_dir
        Where the scenario files and ``uncertainty.toml`` live.
    backend
        The engine backend: ``"jax"`` (default where JAX is installed) or ``"numpy"``.
    """

    def __init__(
        self,
        model_path: str | os.PathLike = MODEL_PATH,
        scenario_dir: str | os.PathLike = SCENARIO_DIR,
        backend: str | None = None,
    ) -> None:
        from sdmodel.engine import compile_model
        from sdmodel.engine.jaxloop import available
        from sdmodel.model.info import load_info

        if backend is None:
            backend = "jax" if available() else "numpy"
        if backend not in ("jax", "numpy"):
            raise ValueError(f"backend must be 'jax' or 'numpy', not {backend!r}")
        self.backend = backend

        self.model_path = Path(model_path)
        self.scenario_dir = Path(scenario_dir)
        self.info = load_info(self.model_path)
        self.cm = compile_model(self.model_path)
        self.controls: list[Control] = model_controls(self.info, self.cm.constants)
        self.scenarios = serve_scenarios()
        self.default_scenario = "central" if "central" in self.scenarios else self.scenarios[0]
        self._runs: OrderedDict[tuple, xr.Dataset] = OrderedDict()
        self._bands: OrderedDict[tuple, dict[str, np.ndarray]] = OrderedDict()
        self._design = None

    def warm(self, bands: bool = True) -> None:
        """Compile the engine for the page's runs now (JAX: seconds, once per process)."""
        self.run(self.default_scenario)
        if bands:
            self.band_runs(self.default_scenario)

    # -- runs -------------------------------------------------------------------------
    def _settings(self, scenario: str, overrides: dict[str, float]):
        from sdmodel.model.scenarios import load_scenario, merge_settings

        return merge_settings(
            load_scenario(scenario, directory=self.scenario_dir), overrides, self.info
        )

    @staticmethod
    def _remember(cache: OrderedDict, key: tuple, value):
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
        return value

    def run(self, scenario: str, overrides: dict[str, float] | None = None) -> xr.Dataset:
        """One deterministic run, ``(time, *dims)`` variables by Python name (cached).

        The same engine call as ``sdmodel run --engine B --scenario scenario --set ...``
        with ``B`` this simulator's backend.
        """
        from sdmodel.experiments.runner import engine_params

        overrides = dict(overrides or {})
        key = (scenario, tuple(sorted(overrides.items())))
        if key in self._runs:
            self._runs.move_to_end(key)
            return self._runs[key]
        settings = self._settings(scenario, overrides)
        ds = self.cm.run(
            n_runs=1,
            params=engine_params([settings], self.cm, self.info),
            variables=VARIABLES,
            backend=self.backend,
        ).isel(run=0, drop=True)
        return self._remember(self._runs, key, ds)

    def design(self):
        """The sampled uncertainty design (drawn once) and its target constants."""
        if self._design is None:
            from sdmodel.experiments.sampling import sample
            from sdmodel.experiments.targets import sample_targets
            from sdmodel.experiments.uncertainty import load_spec

            spec = load_spec(self.scenario_dir / "uncertainty.toml")
            drawn = sample(spec, BAND_RUNS, seed=BAND_SEED, sampler="lhs")
            self._design = (drawn, sample_targets(self.cm, spec))
        return self._design

    def band_runs(self, scenario: str, overrides: dict[str, float] | None = None) -> xr.Dataset:
        """The :data:`BAND_RUNS` uncertainty runs of a setting, ``(run, time, *dims)``."""
        from sdmodel.experiments.executors import run_chunk
        from sdmodel.experiments.runner import engine_params

        overrides = dict(overrides or {})
        key = (scenario, tuple(sorted(overrides.items())))
        template = self.run(scenario, overrides)
        if key not in self._bands:
            times = np.asarray(template["time"].values, dtype=float)
            settings = self._settings(scenario, overrides)
            base = {
                py: np.asarray(a[0])
                for py, a in engine_params([settings], self.cm, self.info).items()
            }
            drawn, targets = self.design()
            chosen = {self.info.resolve(k).element.py_name for k in overrides}
            keep = [j for j, (py, _) in enumerate(targets) if py not in chosen]
            arrays = run_chunk(
                str(self.model_path),
                VARIABLES,
                float(times[1] - times[0]),
                base,
                [targets[j] for j in keep],
                drawn.values[:, keep],
                "f8",
                backend=self.backend,
            )
            self._remember(self._bands, key, arrays)
        else:
            self._bands.move_to_end(key)
        arrays = self._bands[key]
        return xr.Dataset(
            {py: (("run", *template[py].dims[1:], "time"), arrays[py]) for py in VARIABLES},
            coords={
                "time": template["time"].values,
                **{c: template[c] for c in template.coords if c != "time"},
            },
        ).transpose("run", "time", ...)

    # -- the page's payload -------------------------------------------------------------
    def payload(self, state: State) -> dict:
        """Everything the page plots for ``state``, scaled to the charts' units."""
        variant = self.run(state.scenario, state.overrides)
        baseline = self.run(state.scenario)
        bands = self.band_runs(state.scenario, state.overrides) if state.bands else None
        charts = []
        for chart in CHARTS:
            series = []
            for s in chart.series:
                item = {
                    "key": s.key,
                    "label": s.label,
                    "variant": (series_values(variant, s) * chart.scale).tolist(),
                    "baseline": (series_values(baseline, s) * chart.scale).tolist(),
                }
                if bands is not None:
                    low, high = np.percentile(
                        series_values(bands, s) * chart.scale, BAND_PERCENTILES, axis=0
                    )
                    item["band_low"], item["band_high"] = low.tolist(), high.tolist()
                series.append(item)
            charts.append(
                {"key": chart.key, "title": chart.title, "axis": chart.axis, "series": series}
            )
        return {
            "query": state.query(),
            "scenario": state.scenario,
            "overrides": state.overrides,
            "bands": state.bands,
            "band_runs": BAND_RUNS if state.bands else 0,
            "time": variant["time"].values.tolist(),
            "charts": charts,
        }
