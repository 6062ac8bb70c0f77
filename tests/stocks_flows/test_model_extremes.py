"""Extreme-condition tests of the model (issue 10, item 8).

Each case runs through the ensemble engine (which agrees with pysd to 1e-9, see
``test_engine_model.py``) and must stay physical at every time step of 2024-2050: no NaN,
no negative stock (the AWf balance and the accumulated demand stabilisation are signed by
definition), every share within [0, 1], the labour income share within (0, 1] and GDP
positive.
"""

from __future__ import annotations

import numpy as np
import pytest
from modelruns import SIGNED_STOCKS, compiled, info

from sdmodel.errors import SdmodelError
from sdmodel.model.scenarios import load_scenario, merge_settings

#: Shares that are not named so.
EXTRA_SHARES = {"labour_task_measure", "ai_task_measure", "shock_task_retention"}
#: Shares of GDP that are signed by definition (a budget balance).
SIGNED_SHARES = {"public_balance_share_of_gdp"}
#: Float rounding allowance for shares and stocks that reach their bounds exactly.
EPS = 1e-9


def _dt() -> float:
    return compiled().control_values()["time_step"]


def _time_constants() -> list[str]:
    """Constants measured in years that are durations (not dates), model defaults < 100."""
    cm = compiled()
    return [
        e.name
        for e in info()
        if e.kind == "constant"
        and e.units.split("[")[0].strip() == "Year"
        and "start" not in e.name.lower()
        and np.all(np.asarray(cm.constants[e.name]) < 100)
    ]


def _shares() -> list[str]:
    return [
        e.py_name
        for e in info()
        if e.kind not in ("constant", "lookup", "control")
        and e.units.split("[")[0].strip() == "Dmnl"
        and ("share" in e.name.lower() or e.name.lower().endswith(("rate", "rate by skill")))
        and e.py_name not in SIGNED_SHARES
    ] + sorted(EXTRA_SHARES)


def _run(scenario: str, overrides: dict) -> dict:
    cm = compiled()
    params = dict(load_scenario(scenario).constants)
    params.update(overrides)
    stocks = [e.py_name for e in info() if e.kind == "stock"]
    names = sorted(set(stocks + _shares() + ["labour_income_share", "gdp"]))
    out, _ = cm.run_arrays(1, params=params, variables=names, saveper=_dt())
    return {k: v[0] for k, v in out.items()}


def _problems(out: dict) -> list[str]:
    found = [f"{k}: NaN" for k, v in out.items() if np.isnan(v).any()]
    for e in info():
        if e.kind == "stock" and e.py_name not in SIGNED_STOCKS:
            if out[e.py_name].min() < -EPS:
                found.append(f"{e.name} < 0 ({out[e.py_name].min():.3g})")
    for name in _shares():
        lo, hi = out[name].min(), out[name].max()
        if lo < -EPS or hi > 1 + EPS:
            found.append(f"{name} outside [0, 1] ({lo:.3g}, {hi:.3g})")
    lis = out["labour_income_share"]
    if not (lis.min() > 0 and lis.max() <= 1 + EPS):
        found.append(f"labour income share ({lis.min():.3g}, {lis.max():.3g})")
    if out["gdp"].min() <= 0:
        found.append("GDP not positive")
    return found


def _cases() -> dict[str, dict]:
    dt = 0.0625  # the model's TIME STEP (checked below)
    cases = {
        "90% of jobs lost in one time step": {
            "Shock job loss share": 0.9,
            "Shock start": 2030.0,
            "Shock duration": dt,
        },
        "100% demand shock for a year": {
            "Demand shock depth": 1.0,
            "Demand shock start": 2030.0,
            "Demand shock duration": 1.0,
        },
        "zero hiring": {"Base job finding hazard": 0.0},
        "adoption delay 0": {"Base adoption delay": 0.0},
        "cost-covering AWf premium": {"AWf premium rule switch": 1.0},
        "cost-covering AWf premium, 90% of jobs lost": {
            "AWf premium rule switch": 1.0,
            "Shock job loss share": 0.9,
            "Shock start": 2030.0,
            "Shock duration": dt,
        },
    }
    levers = {  # the policy levers of sector 9 at the ends of their declared ranges
        "Policy start year": 2025.0,
        "Upskilling participation": 1.0,
        "Job to job service coverage": 1.0,
        "Mobility team coverage": 1.0,
        "Employer charge cut": 0.2,
        "Budget neutral tax shift switch": 1.0,
        "AI tax rate": 1.0,
        "Basic income per recipient": 30000.0,  # open range: half the mean wage
    }
    cases["every policy lever at its range end"] = levers
    cases["every policy lever at its range end, 90% of jobs lost"] = {
        **levers,
        "Shock job loss share": 0.9,
        "Shock start": 2030.0,
        "Shock duration": dt,
    }
    cases["capital income tax rise 0.5, not budget neutral"] = {"Capital income tax rise": 0.5}
    every = {name: _fastest(name, dt) for name in _time_constants()}
    for name, value in every.items():
        cases[f"{name} at the time step"] = {name: value}
    cases["every time constant at the time step at once"] = every
    return cases


def _fastest(name: str, dt: float) -> float:
    """The time step, or the constant's declared minimum where that is longer."""
    low = info().get(name).limits[0]
    return dt if low is None else max(dt, low)


def test_case_time_step_is_the_models():
    assert _dt() == 0.0625


def test_every_time_constant_is_covered():
    names = set(_time_constants())
    assert {"Wage adjustment time", "Base adoption delay", "Layoff adjustment time"} <= names
    assert len(names) >= 15


def _extreme_params():
    """Every case in central and explosive.

    The case with every time constant at the time step at once was a strict expected
    failure until issue 13 (explosive: output halved within one time step in 2031, wages
    17 times their trend, a labour income share of 1.15; central: 1.05). The integral of
    the output-gap closure then integrated measured output and wound up while output was
    held at capacity; it integrates the demand gap since, and the case stays physical in
    both scenarios, though far from calm (measured: unemployment peaks at 62% in central
    and 60% in explosive, wages at 2.9 and 2.2 times their trend).
    """
    for case in _cases():
        for scenario in ("central", "explosive"):
            yield pytest.param(scenario, case, id=f"{case}-{scenario}")


@pytest.mark.parametrize(("scenario", "case"), list(_extreme_params()))
def test_extreme_condition_stays_physical(scenario, case):
    problems = _problems(_run(scenario, _cases()[case]))
    assert not problems, f"{case}: " + "; ".join(problems[:6])


def test_90_percent_job_loss_leaves_unemployment_high_but_finite():
    out = _run("central", _cases()["90% of jobs lost in one time step"])
    cm = compiled()
    u = _run("central", {})  # baseline for comparison
    assert np.isfinite(out["labour_income_share"]).all()
    e = out[cm.resolve("Employment")].sum(-1)
    assert e.min() < 0.3 * u[cm.resolve("Employment")].sum(-1).min()


def test_declared_minima_of_time_constants():
    """Only the time constants argued in the .mdl have a minimum above the time step.

    The third-order reinstatement delay needs three time steps (below, its order is
    reduced); the long-term unemployment threshold is a definition (12 months).
    """
    above = {n: info().get(n).limits[0] for n in _time_constants() if _fastest(n, _dt()) > _dt()}
    assert above == {
        "Wage adjustment time": 0.25,
        "Output gap closure time": 1.0,
        "Capital adjustment time": 1.0,
        "Reinstatement delay": 3 * _dt(),
        "Long term unemployment threshold": 0.5,
    }


@pytest.mark.parametrize(
    ("name", "low"),
    [
        ("Wage adjustment time", 0.25),
        ("Output gap closure time", 1.0),
        ("Capital adjustment time", 1.0),
    ],
)
def test_time_constant_below_its_declared_minimum_is_rejected(name, low):
    with pytest.raises(SdmodelError, match=f"{name}.*minimum {low:g}"):
        merge_settings(None, {name: low * 0.4}, info())
    assert merge_settings(None, {name: low}, info())
