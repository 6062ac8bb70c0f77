"""Run shocks against their baselines and report what happens to the WW.

All cases (baseline and shocks, times ensemble members) run in one call of the ensemble
engine, saved at every time step so that peaks and sums are exact on the model's grid.

Metrics (per ensemble member, shock against the baseline with the same policy variant
and the same uncertain parameters):

- peak WW recipients and its date; peak WW outlays (EUR bn/yr) and its date; peak WW
  outlays as a share of GDP;
- cumulative extra WW and bijstand outlays to the end of the run: ``sum (x_s - x_b) dt``
  over the Euler steps;
- AWf balance trough (minimum of the balance) and its date ``t*``; the extra premium
  ``dp`` needed to restore the balance to its baseline path within horizon ``H``::

      dp = [B_b(t*) - B_s(t*) + sum (O_s - O_b) dt + sum p_b (W_b - W_s) dt] / sum W_s dt

  with sums over ``[t*, t* + H)``, ``B`` the AWf balance, ``O`` AWf outlays, ``W`` the
  AWf premium wage bill, ``p_b`` the baseline premium rate; levying ``p_b + dp`` on the
  shocked wage bill from ``t*`` ends the horizon exactly on the baseline balance. The
  premium rate needed is ``p_b(t*) + dp``;
- months from the shock start until WW recipients are back within 5% of the baseline
  for good (NaN: not by the end of the run);
- extra bijstand inflow from exhausted WW entitlements (persons, cumulative);
- peak extra long-term unemployed (persons); retraining waiting-list peak.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from sdmodel.errors import SdmodelError
from sdmodel.io.atomic import atomic_path
from sdmodel.io.paths import MODEL_PATH, file_hash
from sdmodel.io.progress import timed
from sdmodel.shocks.spec import SKILLS, ShockSpec

#: Vensim names saved for every shock run.
VARIABLES: tuple[str, ...] = (
    "WW recipients",
    "WW outlays",
    "WW outlays share of GDP",
    "GDP",
    "Bijstand recipients",
    "Bijstand outlays",
    "Bijstand inflow",
    "WW exhaustion",
    "AWf balance",
    "AWf premium rate",
    "Required AWf premium rate",
    "AWf premium wage bill",
    "AWf outlays",
    "Total long term unemployed",
    "Long term unemployed",
    "Retraining waiting list",
    "Retraining capacity",
    "Unemployment rate",
    "Employment",
    "Total employment",
    "Short term unemployed",
    "Retraining intake by skill",
    "Retraining waiting list by skill",
    "Retraining enrolled by skill",
    "Basic income inactive",
    "Inactive",
    "Cumulative net population inflow",
)
#: Person stocks of the population aged 15-75 (those out of the labour force because of a
#: basic income, and the other inactive, included): their sum over skills is conserved
#: once entries at 15 and exits at 75 (POPULATION_COUNTER) are counted.
PERSON_STOCKS: tuple[str, ...] = (
    "employment",
    "short_term_unemployed",
    "long_term_unemployed",
    "retraining_intake_by_skill",
    "retraining_waiting_list_by_skill",
    "retraining_enrolled_by_skill",
    "basic_income_inactive",
    "inactive",
)
#: Persons who entered at 15 less those who left at 75 since 2024: the person stocks sum
#: to their 2024 total plus this counter.
POPULATION_COUNTER = "cumulative_net_population_inflow"
QUANTILES = (0.05, 0.5, 0.95)
RECOVERY_BAND = 0.05


@dataclass
class ShockModel:
    """The model, its metadata and compiled engine, loaded once."""

    info: object
    cm: object
    model_path: Path
    period: tuple[float, float]
    time_step: float
    saveper: float

    @classmethod
    def load(cls, model_path: str | Path = MODEL_PATH) -> ShockModel:
        """Translate (cached) and compile the model; read its time controls."""
        from sdmodel.engine import compile_model
        from sdmodel.model.info import ModelInfo
        from sdmodel.model.translate import load_model

        model_path = Path(model_path)
        if not model_path.is_file():
            raise SdmodelError(f"model file not found: {model_path}")
        model = load_model(model_path)
        c = model.components
        return cls(
            ModelInfo.from_model(model, model_path),
            compile_model(model_path),
            model_path,
            (float(c.initial_time()), float(c.final_time())),
            float(c.time_step()),
            float(c.saveper()),
        )


def case_settings(scenario: str, specs: Sequence[ShockSpec], sm: ShockModel) -> list[dict]:
    """Validated settings per case: baseline (policy of the first spec), then each shock.

    The policy goes through :func:`~sdmodel.model.scenarios.merge_settings` (so it may name
    one element, ``Name[elem]``, as a policy file may); the shock inputs are set on top.
    """
    from sdmodel.model.scenarios import load_scenario, merge_settings, require_model_period

    sc = load_scenario(scenario, sm.info)
    require_model_period([sc], "sdmodel shock")
    base = merge_settings(sc, list(specs[0].baseline_settings().items()), sm.info)
    out = [base]
    for spec in specs:
        settings = merge_settings(sc, list(spec.baseline_settings().items()), sm.info)
        # the shock inputs get the declared-range checks too (a start in the 2024
        # calibration, a job loss of 100%), naming the shock
        inputs = list(spec.shock_settings().items())
        merge_settings(None, inputs, sm.info, override_origin=f"shock {spec.name}:")
        for key, value in spec.shock_settings().items():
            if isinstance(value, dict):
                for elem, number in value.items():
                    settings.setdefault(key, {})[elem] = number  # type: ignore[index]
            else:
                settings[key] = value
        out.append(settings)
    return out


def run_cases(
    sm: ShockModel,
    settings: Sequence[dict],
    samples: dict[str, np.ndarray] | None = None,
) -> xr.Dataset:
    """Run every case (x every ensemble member) in one engine call.

    Returns
    -------
    xr.Dataset
        Dims ``case`` (index), ``member``, ``time`` (every time step) and ``skill``.
    """
    from sdmodel.experiments.runner import annotate, engine_params

    n_members = len(next(iter(samples.values()))) if samples else 1
    n_cases = len(settings)
    per_run = [s for s in settings for _ in range(n_members)]
    params: dict[str, np.ndarray] = engine_params(per_run, sm.cm, sm.info)
    for key, values in (samples or {}).items():
        params[key] = np.tile(np.asarray(values, dtype=float), n_cases)
    try:
        with timed("integrate"):
            ds = sm.cm.run(
                n_runs=n_cases * n_members,
                params=params,
                variables=list(VARIABLES),
                saveper=sm.time_step,
            )
    except Exception as exc:
        raise SdmodelError(f"engine run of {sm.model_path} failed: {exc}") from exc
    shaped = {
        name: (
            ("case", "member", *var.dims[1:]),
            np.asarray(var.values).reshape(n_cases, n_members, *var.shape[1:]),
        )
        for name, var in ds.data_vars.items()
    }
    coords = {k: v for k, v in ds.coords.items() if k != "run"}
    ds = annotate(xr.Dataset(shaped, coords=coords), sm.info)
    ds["time"].attrs.update(long_name="model time", units="year")
    return ds


def _cum(x: np.ndarray, dt: float) -> np.ndarray:
    """Left Riemann (Euler) sum over time (last axis), excluding the final point."""
    return x[..., :-1].sum(axis=-1) * dt


def _total(ds: xr.Dataset, name: str) -> np.ndarray:
    var = ds[name]
    extra = [d for d in var.dims if d not in ("case", "member", "time")]
    return np.asarray(var.sum(extra).values if extra else var.values, dtype=float)


def jobs_displaced(spec: ShockSpec, employment0: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Jobs the model removes for ``spec`` (per member): share x 2024 jobs x PULSE steps.

    ``employment0`` has shape (member, skill); the Euler grid decides how many steps the
    PULSE covers, so a period that is not a whole number of steps is rounded by the model.
    """
    d = spec.displacement
    if d is None:
        return np.zeros(employment0.shape[0])
    dt = float(times[1] - times[0])
    steps = np.sum((times[:-1] >= d.start - 1e-9) & (times[:-1] < d.start + d.months / 12))
    factor = steps * dt / max(d.months / 12, dt)
    mask = np.array([s in d.skills for s in SKILLS], dtype=float)
    return d.share * factor * (employment0 * mask).sum(axis=-1)


def compute_metrics(
    ds: xr.Dataset, case: int, spec: ShockSpec, horizon: float = 3.0, base: int = 0
) -> dict[str, np.ndarray]:
    """Metrics of shock ``case`` against case ``base``, one value per member.

    Keys: ``<metric>_base``, ``<metric>_shock`` for levels and dates, plain ``<metric>``
    for differences (see the module docstring for the definitions).
    """
    t = np.asarray(ds["time"].values, dtype=float)
    dt = float(t[1] - t[0])
    b, s = ds.isel(case=base), ds.isel(case=case)
    m: dict[str, np.ndarray] = {}

    def level(key: str, name: str, with_date: bool = True, low: bool = False) -> None:
        for tag, sub in (("base", b), ("shock", s)):
            x = _total(sub, name)
            k = np.argmin(x, axis=-1) if low else np.argmax(x, axis=-1)
            m[f"{key}_{tag}"] = np.take_along_axis(x, k[:, None], -1)[:, 0]
            if with_date:
                m[f"{key}_date_{tag}"] = t[k]

    level("peak_ww_recipients", "ww_recipients")
    level("peak_ww_outlays", "ww_outlays")
    level("peak_ww_outlays_share_gdp", "ww_outlays_share_of_gdp", with_date=False)
    for key, name in (
        ("extra_ww_outlays", "ww_outlays"),
        ("extra_bijstand_outlays", "bijstand_outlays"),
        ("extra_bijstand_inflow", "bijstand_inflow"),
    ):
        m[key] = _cum(_total(s, name) - _total(b, name), dt)
    level("awf_trough", "awf_balance", low=True)
    bal_b, bal_s = _total(b, "awf_balance"), _total(s, "awf_balance")
    out_b, out_s = _total(b, "awf_outlays"), _total(s, "awf_outlays")
    w_b, w_s = _total(b, "awf_premium_wage_bill"), _total(s, "awf_premium_wage_bill")
    p_b = _total(b, "awf_premium_rate")
    steps = max(1, int(round(horizon / dt)))
    dp, rate = np.empty(len(bal_s)), np.empty(len(bal_s))
    for i, k in enumerate(np.argmin(bal_s, axis=-1)):
        w = slice(k, min(k + steps, len(t) - 1)) if k < len(t) - 1 else slice(k, k + 1)
        need = (
            bal_b[i, k]
            - bal_s[i, k]
            + ((out_s[i, w] - out_b[i, w]).sum() + (p_b[i, w] * (w_b[i, w] - w_s[i, w])).sum()) * dt
        )
        dp[i] = need / (w_s[i, w].sum() * dt)
        rate[i] = p_b[i, k] + dp[i]
    m["restore_extra_premium"], m["restore_premium_rate"] = dp, rate
    r_b, r_s = _total(b, "ww_recipients"), _total(s, "ww_recipients")
    after = t >= spec.start - 1e-9
    outside = (np.abs(r_s - r_b) > RECOVERY_BAND * r_b) & after
    months = np.zeros(len(r_s))
    for i, row in enumerate(outside):
        idx = np.flatnonzero(row)
        if idx.size == 0:
            continue
        last = idx[-1]
        months[i] = np.nan if last == len(t) - 1 else (t[last + 1] - spec.start) * 12
    m["months_to_recover"] = months
    m["peak_extra_ltu"] = np.max(
        _total(s, "total_long_term_unemployed") - _total(b, "total_long_term_unemployed"), -1
    )
    level("waiting_list_peak", "retraining_waiting_list")
    m["jobs_displaced"] = jobs_displaced(
        spec, np.asarray(s["employment"].isel(time=0).values, dtype=float), t
    )
    return m


@dataclass(frozen=True)
class Row:
    """One table row: metric key, label, unit, scale and kind (level, date, extra)."""

    key: str
    label: str
    unit: str
    scale: float
    kind: str
    fmt: str = "{:,.1f}"


ROWS: tuple[Row, ...] = (
    Row("jobs_displaced", "Jobs displaced by the shock", "thousand", 1e-3, "extra"),
    Row("peak_ww_recipients", "Peak WW recipients", "thousand", 1e-3, "level"),
    Row("peak_ww_recipients_date", "  date of the peak", "", 1, "date"),
    Row("peak_ww_outlays", "Peak WW outlays", "EUR bn/yr", 1e-9, "level", "{:,.2f}"),
    Row("peak_ww_outlays_date", "  date of the peak", "", 1, "date"),
    Row(
        "peak_ww_outlays_share_gdp", "Peak WW outlays share of GDP", "% GDP", 100, "level", "{:.3f}"
    ),
    Row("extra_ww_outlays", "Extra WW outlays to 2050", "EUR bn", 1e-9, "extra", "{:,.2f}"),
    Row(
        "extra_bijstand_outlays",
        "Extra bijstand outlays to 2050",
        "EUR bn",
        1e-9,
        "extra",
        "{:,.2f}",
    ),
    Row("awf_trough", "AWf balance trough", "EUR bn", 1e-9, "level", "{:,.2f}"),
    Row("awf_trough_date", "  date of the trough", "", 1, "date"),
    Row(
        "restore_extra_premium",
        "Extra premium to restore AWf",
        "pp of premium wages",
        100,
        "extra",
        "{:.3f}",
    ),
    Row(
        "restore_premium_rate",
        "Premium rate needed from trough",
        "% of premium wages",
        100,
        "extra",
        "{:.3f}",
    ),
    Row("months_to_recover", "Months until WW within 5% of base", "months", 1, "extra", "{:.0f}"),
    Row("extra_bijstand_inflow", "Extra bijstand inflow (exhausted WW)", "thousand", 1e-3, "extra"),
    Row("peak_extra_ltu", "Peak extra long-term unemployed", "thousand", 1e-3, "extra"),
    Row("waiting_list_peak", "Retraining waiting-list peak", "thousand", 1e-3, "level"),
)


def month_label(year: float) -> str:
    """Decimal year -> ``YYYY-MM`` (the month it falls in)."""
    if not math.isfinite(year):
        return "n/a"
    y = math.floor(year + 1e-9)
    return f"{y:04d}-{min(12, int((year - y) * 12 + 1e-6) + 1):02d}"


def _cell(values: np.ndarray, row: Row) -> str:
    values = np.asarray(values, dtype=float)
    if row.kind == "date":
        text = (
            [month_label(v) for v in np.nanquantile(values, QUANTILES)]
            if values.size > 1 and np.isfinite(values).any()
            else [month_label(float(values[0]))]
        )
    else:
        if np.all(np.isnan(values)):
            return "not by 2050" if row.key == "months_to_recover" else "n/a"
        q = (
            np.nanquantile(values * row.scale, QUANTILES)
            if values.size > 1
            else [float(values[0]) * row.scale]
        )
        text = [row.fmt.format(v) for v in q]
    if len(text) == 1:
        return text[0]
    return f"{text[1]} [{text[0]}, {text[2]}]"


def _columns(m: dict[str, np.ndarray], row: Row) -> tuple[str, str, str]:
    if row.kind == "extra":
        return "", "", _cell(m[row.key], row)
    base, shock = m[f"{row.key}_base"], m[f"{row.key}_shock"]
    if row.kind == "date":
        return _cell(base, row), _cell(shock, row), ""
    return _cell(base, row), _cell(shock, row), _cell(shock - base, row)


def format_table(
    spec: ShockSpec, m: dict[str, np.ndarray], scenario: str, horizon: float, n_members: int = 1
) -> str:
    """The metrics as a text table: baseline, shock and their difference."""
    rows = [(r.label, r.unit, *_columns(m, r)) for r in ROWS]
    head = ("metric", "unit", "baseline", "shock", "shock - baseline")
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(5)]
    fmt = "  ".join(f"{{:{'<' if i < 2 else '>'}{w}}}" for i, w in enumerate(widths))
    lines = [
        f"shock {spec.name}: {spec.description}",
        f"scenario {scenario}"
        + (
            ", policy " + ", ".join(f"{k}={v:g}" for k, v in spec.policy.items())
            if spec.policy
            else ""
        )
        + (f"; {n_members} runs: median [5%, 95%]" if n_members > 1 else "; deterministic"),
        fmt.format(*head),
        "-" * (sum(widths) + 8),
    ]
    lines += [fmt.format(*r) for r in rows]
    lines.append(
        f"Premium needed: p_b(t*) + dp, dp = [B_b(t*) - B_s(t*) + int(O_s - O_b) + "
        f"int p_b (W_b - W_s)] / int W_s over [t*, t*+{horizon:g} y); t* = AWf trough date."
    )
    return "\n".join(lines)


def write_metrics_csv(path: Path, spec: ShockSpec, m: dict[str, np.ndarray]) -> None:
    """One line per metric and column (baseline, shock, difference): median, 5%, 95%."""
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["shock", "metric", "label", "unit", "column", "median", "p05", "p95", "runs"])
        for r in ROWS:
            unit = "decimal year" if r.kind == "date" else r.unit
            scale = 1.0 if r.kind == "date" else r.scale
            if r.kind == "extra":
                cols = {"shock_minus_baseline": m[r.key]}
            else:
                cols = {"baseline": m[f"{r.key}_base"], "shock": m[f"{r.key}_shock"]}
                if r.kind != "date":
                    cols["shock_minus_baseline"] = cols["shock"] - cols["baseline"]
            for col, v in cols.items():
                v = np.asarray(v, dtype=float) * scale
                q = np.nanquantile(v, QUANTILES) if np.isfinite(v).any() else [np.nan] * 3
                out.writerow(
                    [
                        spec.name,
                        r.key,
                        r.label.strip(),
                        unit,
                        col,
                        *(f"{x:.10g}" for x in (q[1], q[0], q[2])),
                        v.size,
                    ]
                )


def timeseries(ds: xr.Dataset, labels: Sequence[str], saveper: float, attrs: dict) -> xr.Dataset:
    """Time series on the model's SAVEPER grid (ensembles: 5/50/95% quantiles)."""
    t = np.asarray(ds["time"].values, dtype=float)
    keep = np.isclose(((t - t[0]) / saveper) % 1.0, 0.0) | np.isclose(
        ((t - t[0]) / saveper) % 1.0, 1.0
    )
    out = ds.isel(time=np.flatnonzero(keep))
    if out.sizes["member"] == 1:
        out = out.isel(member=0, drop=True)
    else:
        q = out.quantile(list(QUANTILES), dim="member", keep_attrs=True)
        q["quantile"].attrs.update(long_name="quantile over ensemble members", units="1")
        out = q
    out = out.assign_coords(case=[str(x) for x in labels])
    out["case"].attrs["long_name"] = "baseline or shock"
    out.attrs.update(attrs)
    return out


def provenance(sm: ShockModel, scenario: str, specs: Sequence[ShockSpec], horizon: float) -> dict:
    """Dataset attributes: model file and hash, engine, scenario and shock definitions."""
    return {
        "model_file": sm.model_path.name,
        "model_sha256": file_hash(sm.model_path),
        "engine": "numpy",
        "scenario": scenario,
        "premium_restoration_horizon_years": horizon,
        "shocks": json.dumps(
            [
                {
                    "name": s.name,
                    "description": s.description,
                    "settings": s.settings(),
                    "file": s.path.name if s.path else None,
                }
                for s in specs
            ]
        ),
    }
