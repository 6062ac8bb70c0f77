"""Policy variants against their baseline (``sdmodel compare``).

For each scenario the baseline (the scenario as it is) and every policy variant (the
scenario with the variant's constants on top, :mod:`sdmodel.model.policies`) run in one call
of the ensemble engine, saved at every time step so that peaks, troughs and cumulative
sums are exact on the model's grid. With ``runs > 1`` every case of every scenario gets
the same ``runs`` parameter draws from the uncertainty specification
(:func:`sdmodel.experiments.sampling.sample`, Latin hypercube, explicit seed): draw ``i`` of a
variant is compared with draw ``i`` of its baseline, and the report gives the median
and the 5-95% band of these paired differences. Draws override the scenario's value of
a constant, as in sweeps; a variant's own constants override the draws (a policy fixes
what it sets).

The measures are one table, :data:`sdmodel.experiments.measures.MEASURES`; reports and
files: :mod:`sdmodel.experiments.compare_report`.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sdmodel.errors import SdmodelError
from sdmodel.experiments.measures import Measure, measure_units, resolve_measures, statistic
from sdmodel.io.paths import MODEL_PATH, file_hash
from sdmodel.model.info import ModelInfo
from sdmodel.model.policies import BASELINE, Policy, apply_policy

__all__ = [
    "QUANTILES",
    "CompareModel",
    "Comparison",
    "case_params",
    "run_compare",
]

#: Quantiles of the ensemble summaries: the 5-95% band and the median.
QUANTILES = (0.05, 0.5, 0.95)
TITLE = "AI and the Dutch labour market: policy variants against their baseline"


@dataclass(frozen=True)
class CompareModel:
    """The model's metadata, compiled engine and time controls, loaded once."""

    info: ModelInfo
    cm: Any
    path: Path
    controls: dict[str, float]

    @classmethod
    def load(cls, model_path: str | os.PathLike = MODEL_PATH) -> CompareModel:
        """Metadata (cached) and compiled engine of a model file.

        Raises
        ------
        SdmodelError
            If the file does not exist.
        """
        from sdmodel.engine import compile_model
        from sdmodel.model.info import load_info

        path = Path(model_path)
        if not path.is_file():
            raise SdmodelError(f"model file not found: {path}")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*inplace keyword")
            info = load_info(path)
            cm = compile_model(path)
        return cls(info, cm, path, cm.control_values())

    @property
    def period(self) -> tuple[float, float]:
        """(INITIAL TIME, FINAL TIME)."""
        return self.controls["initial_time"], self.controls["final_time"]


@dataclass
class Comparison:
    """Measures and time series of every scenario x case (baseline first) x draw.

    ``values[key]`` has shape ``(scenario, variant, run)``; ``series[py_name]``
    ``(scenario, variant, run, time)`` on the model's SAVEPER grid ``times``.
    """

    scenarios: tuple[str, ...]
    policies: tuple[Policy, ...]
    measures: tuple[Measure, ...]
    notes: tuple[str, ...]
    values: dict[str, np.ndarray]
    series: dict[str, np.ndarray]
    times: np.ndarray
    runs: int
    seed: int | None
    info: ModelInfo = field(repr=False)
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def variants(self) -> tuple[str, ...]:
        """Case names: ``baseline``, then the policies."""
        return (BASELINE, *(p.name for p in self.policies))

    def difference(self, key: str) -> np.ndarray:
        """Paired differences case - baseline of a measure, ``(scenario, variant, run)``."""
        v = self.values[key]
        return v - v[:, :1]

    def reduce(self, x: np.ndarray) -> np.ndarray:
        """Over the run axis (2): the one run, or the 5%, 50% and 95% quantiles first."""
        if self.runs == 1:
            return x[:, :, 0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: diverged draws
            return np.nanquantile(x, QUANTILES, axis=2)

    def table(self) -> pd.DataFrame:
        """Tidy table, display units: one row per scenario, variant and measure.

        ``value`` is the measure (the median over draws for ``runs > 1``),
        ``difference`` the (median) paired difference from the baseline, and
        ``difference_p05``/``difference_p95`` its 5-95% band (NaN for one run).
        """
        nan = np.full((len(self.scenarios), len(self.variants)), np.nan)
        stats = {}
        for m in self.measures:
            level = self.reduce(self.values[m.key] * m.scale)
            diff = self.reduce(self.difference(m.key) * m.scale)
            stats[m.key] = (
                (level, diff, nan, nan) if self.runs == 1 else (level[1], *diff[[1, 0, 2]])
            )
        rows = [
            {
                "scenario": scenario,
                "variant": variant,
                "measure": m.key,
                "label": m.label,
                "statistic": m.statistic_text,
                "unit": m.unit,
                "runs": self.runs,
                **dict(zip(_COLUMNS, (x[i, j] for x in stats[m.key]), strict=True)),
            }
            for i, scenario in enumerate(self.scenarios)
            for j, variant in enumerate(self.variants)
            for m in self.measures
        ]
        return pd.DataFrame(rows)

    def dataset(self) -> xr.Dataset:
        """Time series and measures (model units) as a Dataset ready for CF-NetCDF.

        Dims ``scenario``, ``variant``, ``time`` (decimal years), and ``quantile`` (5%,
        median, 95% over draws) for ``runs > 1``. ``<name>`` holds the levels,
        ``<name>_difference`` the paired differences from the baseline.
        """
        coords: dict[str, Any] = {
            "scenario": list(self.scenarios),
            "variant": list(self.variants),
            "time": self.times,
        }
        lead: tuple[str, ...] = ("scenario", "variant")
        if self.runs > 1:
            coords["quantile"] = list(QUANTILES)
            lead = ("quantile", *lead)
        ds = xr.Dataset(coords=coords)
        paired = ": variant minus baseline (same draws)"
        by_py = {e.py_name: e for e in self.info}
        for py, x in self.series.items():
            e = by_py[py]
            attrs = {"long_name": e.name, "vensim_units": e.units, "comment": e.comment}
            ds[py] = ((*lead, "time"), self.reduce(x), attrs)
            ds[f"{py}_difference"] = (
                (*lead, "time"),
                self.reduce(x - x[:, :1]),
                {**attrs, "long_name": e.name + paired},
            )
        for m in self.measures:
            attrs = {
                "long_name": m.label,
                "vensim_units": measure_units(m, self.info),
                "comment": f"{m.statistic_text} of {m.variable}"
                + (f" / {m.per}" if m.per else "")
                + (f"; display: x {m.scale:g} = {m.unit}" if m.unit else ""),
            }
            ds[m.key] = (lead, self.reduce(self.values[m.key]), attrs)
            ds[f"{m.key}_difference"] = (
                lead,
                self.reduce(self.difference(m.key)),
                {**attrs, "long_name": m.label + paired},
            )
        ds["scenario"].attrs["long_name"] = "scenario"
        ds["variant"].attrs["long_name"] = "policy variant (baseline: the scenario as it is)"
        ds["time"].attrs.update(long_name="model time", units="year")
        if self.runs > 1:
            ds["quantile"].attrs.update(long_name="quantile over the parameter draws", units="1")
        ds.attrs.update(self.attrs)
        return ds


_COLUMNS = ("value", "difference", "difference_p05", "difference_p95")


def case_params(
    model: CompareModel,
    settings: Sequence[dict],
    policies: Sequence[Policy | None],
    draws: dict[str, np.ndarray] | None,
    runs: int,
) -> dict[str, np.ndarray]:
    """Engine parameters of ``len(settings)`` cases x ``runs`` draws, case-major.

    Every parameter is a whole array ``(cases * runs, *dims)``: the case's settings,
    then the draws (spec names, ``(runs,)`` each), then the case's own policy constants
    again, so that a policy wins over a draw of what it sets.
    """
    from sdmodel.experiments.runner import engine_params

    info, cm = model.info, model.cm
    n_cases = len(settings)
    params = {py: np.repeat(a, runs, axis=0) for py, a in engine_params(settings, cm, info).items()}

    def assign(label: str, rows: slice, value: np.ndarray | float) -> None:
        ref = info.resolve(label)
        py = ref.element.py_name
        if py not in params:
            default = np.asarray(cm.constants[cm.elements[py]["name"]], dtype=float)
            params[py] = np.broadcast_to(default, (n_cases * runs, *default.shape)).copy()
        dims = cm.elements[py]["dims"]
        index = ()
        if ref.subscript is not None:
            index = tuple(
                cm.program.dims[d].index(element)
                for d, element in zip(dims, ref.subscript, strict=True)
            )
        value = np.asarray(value, dtype=float)
        value = value.reshape(value.shape + (1,) * (len(dims) - len(index)))
        params[py][(rows, *index)] = value

    if draws:
        for name, column in draws.items():
            for c in range(n_cases):
                assign(name, slice(c * runs, (c + 1) * runs), column)
        for c, policy in enumerate(policies):
            for label, value in (policy.constants if policy else {}).items():
                assign(label, slice(c * runs, (c + 1) * runs), value)
    return params


def _on_saveper(t: np.ndarray, saveper: float) -> np.ndarray:
    phase = ((t - t[0]) / saveper) % 1.0
    return np.flatnonzero(np.isclose(phase, 0.0) | np.isclose(phase, 1.0))


def run_compare(
    model: CompareModel,
    policies: Sequence[Policy],
    scenarios: Sequence[str | os.PathLike] = ("central",),
    runs: int = 1,
    seed: int | None = None,
    spec_path: str | os.PathLike | None = None,
) -> Comparison:
    """Run the baseline and every policy variant of each scenario; compute the measures.

    Parameters
    ----------
    model
        Loaded model (:meth:`CompareModel.load`); the policies were checked against it.
    policies
        The variants (:func:`sdmodel.model.policies.load_policy`, ``policy_from_flags``).
    scenarios
        Scenario names or ``.toml`` paths.
    runs
        1: the deterministic scenario runs; more: that many draws from the uncertainty
        specification, the same draws for every scenario and case.
    seed
        Seed of the draws (required for ``runs > 1``).
    spec_path
        Uncertainty specification (default ``scenarios/uncertainty.toml``).

    Returns
    -------
    Comparison

    Raises
    ------
    SdmodelError
        No variants, repeated names, unknown scenario, invalid spec or options, a
        failed engine run.
    """
    from sdmodel.experiments.runner import pysd_version, scenario_record
    from sdmodel.experiments.sweep import DEFAULT_SPEC
    from sdmodel.model.scenarios import load_scenario, require_model_period

    info = model.info
    names = [p.name for p in policies]
    if not policies:
        raise SdmodelError("no policy variants: give --policy-file and/or --policy")
    if len(set(names)) != len(names):
        raise SdmodelError(f"policy variant names repeat: {', '.join(names)}")
    if runs < 1:
        raise SdmodelError(f"--runs: must be at least 1, got {runs}")
    if runs > 1 and (seed is None or seed < 0):
        raise SdmodelError(f"--seed: a non-negative integer is required with --runs {runs}")
    measures, notes = resolve_measures(info, model.period)
    loaded = [load_scenario(s, info) for s in scenarios]
    require_model_period(loaded, "sdmodel compare")
    labels = [s.name for s in loaded]
    if len(set(labels)) != len(labels):
        raise SdmodelError(f"scenario names repeat: {', '.join(labels)}")
    attrs: dict[str, Any] = {}
    draws = None
    if runs > 1:
        from sdmodel.experiments.sampling import sample
        from sdmodel.experiments.uncertainty import constant_elements, load_spec, validate

        spec_file = Path(spec_path or DEFAULT_SPEC)
        spec = validate(load_spec(spec_file), constant_elements(info), info)
        drawn = sample(spec, runs, seed=seed)
        draws = drawn.as_params(0, runs)
        attrs.update(drawn.attrs())
        attrs.update(uncertainty_spec=spec_file.name, uncertainty_spec_sha256=file_hash(spec_file))
    cases: list[Policy | None] = [None, *policies]
    series_vars = [info.get(v).py_name for m in measures for v in m.variables]
    series_vars = list(dict.fromkeys(series_vars))
    step = model.controls["time_step"]
    values = {m.key: [] for m in measures}
    series: dict[str, list] = {py: [] for py in series_vars}
    times = None
    for scenario in loaded:
        settings = [apply_policy(scenario, p, info) for p in cases]
        params = case_params(model, settings, cases, draws, runs)
        try:
            out, t = model.cm.run_arrays(
                len(cases) * runs, params=params, variables=series_vars, saveper=step
            )
        except Exception as exc:
            raise SdmodelError(f"engine run of {model.path} failed: {exc}") from exc
        t = np.asarray(t, dtype=float)
        arrays = {py: np.asarray(a).reshape(len(cases), runs, len(t)) for py, a in out.items()}
        for m in measures:
            x = arrays[info.get(m.variable).py_name]
            if m.per is not None:
                x = x / arrays[info.get(m.per).py_name]
            values[m.key].append(statistic(m, x, t, step))
        keep = _on_saveper(t, model.controls["saveper"])
        for py in series_vars:
            series[py].append(arrays[py][..., keep])
        times = t[keep]
    attrs.update(
        title=TITLE,
        model_file=model.path.name,
        model_sha256=file_hash(model.path),
        engine="numpy",
        pysd_version=pysd_version(),
        scenarios=scenario_record(loaded, []),
        policies=json.dumps([p.record() for p in policies], ensure_ascii=False),
        n_runs=runs,
        measures_left_out="; ".join(notes) or "none",
        comparison_note=(
            "Each variant is the scenario with the policy's constants on top; differences "
            "are variant minus baseline for the same parameter draw (paired); quantiles "
            "are over the draws. Cumulative measures sum x dt over the Euler steps."
        ),
    )
    if runs > 1:
        attrs["seed"] = int(seed)  # type: ignore[arg-type]
    return Comparison(
        tuple(labels),
        tuple(policies),
        measures,
        notes,
        {k: np.stack(v) for k, v in values.items()},
        {k: np.stack(v) for k, v in series.items()},
        np.asarray(times, dtype=float),
        runs,
        seed if runs > 1 else None,
        info,
        attrs,
    )
