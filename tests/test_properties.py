"""Property tests: the model stays physical everywhere inside its declared ranges.

Every constant of ``stocks_flows/ai_labour_nl.mdl`` declares an admissible range in its
units field (``~ Year [0.0625, 50] ~``). The first tests check the declarations: both
bounds finite, the model's own values, the scenario and policy files and the whole
support of every distribution of ``scenarios/uncertainty.toml`` inside them, and the
time-constant convention (a duration's minimum is at least one TIME STEP).

The property test then draws parameter sets with hypothesis: one of the four forward
scenarios as the base and, for each drawable constant independently, either the
scenario's value or a value inside the declared range (each element of a subscripted
constant on its own). So every example moves a large random subset of the constants at
once (about half of them), and hypothesis shrinks a failure to the few constants that
cause it, printing the falsifying set. Moving every constant at once would mostly test
the one known fragile corner, every lag at the time step together
(``test_model_extremes.py``), and could not shrink to a cause.

Three groups are held at the scenario's values, each for a stated reason: structural
constants (indices, indicators), the calibration data (2022-2024 facts, whose joint
consistency a box of ranges cannot express) and the lags of the income-investment-wage
loop, which are admissible one at a time but not all short together: that known defect
is the strict xfail ``test_fast_macro_lags_together_break_the_labour_income_share``.

Each example is a batch of parameter sets run vectorised by the numpy engine over the
model period (2024-2050), saving every variable at the model's SAVEPER (quarterly: the
output users get; a NaN or inf, once it appears, stays in the later saves, and saving
every time step would double the run time). Every run must give:
finite values everywhere, no negative stock (except the signed ones), every share in
[0, 1], a labour income share in (0, 1], and persons conserved (the person stocks sum
to their 2024 total plus the net entries at 15 and exits at 75).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from modelruns import SCENARIOS, SIGNED_STOCKS, compiled, info

from sdmodel.experiments.uncertainty import load_spec, split_name
from sdmodel.io.paths import SCENARIO_DIR
from sdmodel.model.policies import available_policies, load_policy
from sdmodel.model.scenarios import available_scenarios, load_scenario, merge_settings
from sdmodel.shocks.report import PERSON_STOCKS, POPULATION_COUNTER
from sdmodel.shocks.spec import load_shock

#: The model's TIME STEP in years (checked against the model below).
TIME_STEP = 0.0625
#: Years per month, for constants measured in months.
MONTH = 1.0 / 12.0
#: Constants that encode the model's structure rather than a quantity: which element is
#: which (indicator and index constants) and unit conversions. Their declared ranges are
#: their valid spans, but a value other than the model's is a different model, not a
#: parameter set of this one, so they are not drawn.
STRUCTURAL = frozenset(
    {
        "Has group above",  # 1 where a group above exists: fixed by the Skill order
        "Has group below",
        "Entrant skill direction",  # -1, 0, 1: the direction of the tilt by group
        "WW month number",  # the index of each WW benefit month
    }
)
#: Calibration data: the 2022-2024 facts and the 2024 state the model is calibrated to.
#: They are not parameters but measurements, and jointly they must satisfy the 2024
#: accounts, which a box of ranges cannot express: drawn independently, a higher
#: compensation per FTE with a lower labour income share puts business value added above
#: GDP, a lower premium rate with a higher premium income puts the AWf premium base share
#: above 1, an adopted share above the profitable unbarriered share makes the 2024 AI cost
#: ratio undefined, relative wage levels must average 1 and inactive shares sum to 1.
#: Their declared ranges are measurement ranges (checked above); the property test keeps
#: them at the model's values.
CALIBRATION_DATA = frozenset(
    {
        "AI training spending 2022",
        "Hardware price performance 2022",
        "World GDP 2022",
        "Effective compute OOM in 2024",
        "AWf high premium rate 2024",
        "AWf low premium rate 2024",
        "AWf outlays 2024",
        "AWf premium income 2024",
        "Bijstand norm couple 2024",
        "Bijstand norm single 2024",
        "Bijstand recipients 2023",
        "Capital tax revenue 2024",
        "Compensation per FTE 2024",
        "Consumption tax revenue 2024",
        "Employed persons 2023",
        "GDP 2024",
        "Government expenditure share 2024",
        "Household consumption share 2024",
        "Labour tax revenue 2024",
        "Maximum insured wage 2024",
        "Net labour participation 2023",
        "Private investment share 2024",
        "Public expenditure 2024",
        "Public revenue 2024",
        "Statutory minimum wage per FTE 2024",
        "Vacancies 2024",
        "WW new benefits per month 2023",
        "WW outlays 2024",
        "WW replacement rate higher 2024",
        "WW replacement rate lower 2024",
        "WW running benefits 2024",
        "Base labour income share",
        "Basic income recipients",
        "FTE per employed person",
        "Generative AI exposure increment",
        "Gross wage share of compensation",
        "High AWf premium share of premium wages",
        "Inactive share by group",
        "Initial adopted automation share",
        "Insured share of employment",
        "Relative wage level",
        "Target unemployment rate",
    }
)
#: The lags of the income-investment-wage loop and the depreciation that sets the
#: accelerator's strength. Each alone may be anywhere in its range (every one at the
#: time step stays physical, ``test_model_extremes.py``), but several short at once
#: leave the multiplier-accelerator undamped (Samuelson 1939): the known defect of
#: ``test_fast_macro_lags_together_break_the_labour_income_share`` below. The property
#: test keeps them at the scenario's values so that it tests everything else.
MACRO_LOOP = frozenset(
    {
        "Wage adjustment time",
        "Output gap closure time",
        "Capital adjustment time",
        "Investment planning time",
        "Consumption adjustment time",
        "Price pass through time",
        "Layoff adjustment time",
        "Other capital depreciation rate",
    }
)
#: The constants the 2024 steady state of the labour market is calibrated from (the churn
#: rate, the matching efficiency and the initial unemployment and bijstand stocks are
#: derived from them). Each may be anywhere in its range, but all near their minima at
#: once, with fast upgrading or exits, clip the calibrated churn and downgrading rates:
#: the known defect of ``test_slow_labour_market_calibration_breaks_the_ww_chain``. The
#: property test keeps them at the scenario's values.
LABOUR_MARKET_CALIBRATION = frozenset(
    {"Base job finding hazard", "Involuntary churn share", "Scarring factor"}
)
#: Constants that select one of a few alternatives: drawn among their integer values.
INDEX_CONSTANTS = frozenset({"Automation curve family"})

#: Variables measured as a share (Dmnl, named ``share``, ``rate``, ``fraction`` or
#: ``chance``) that are not a share of a whole, with the reason.
NOT_SHARES = {
    "AWf other outlays share": "ratio of the AWf's other outlays to its WW outlays (0.7)",
    "Relative hiring chance": "job-finding hazard relative to its 2024 value (above 1)",
    "Public balance share of GDP": "a budget balance: signed",
    "Net export share": "net exports: signed (a trade deficit is negative)",
    "Public outlays share of GDP": "modelled public outlays over GDP: a ratio, may exceed 1",
    "WW outlays share of GDP": "WW outlays over GDP: a ratio, not part of a whole",
}
#: Shares that are not named so (the task measures are shares of a group's tasks).
EXTRA_SHARES = ("labour_task_measure", "ai_task_measure", "shock_task_retention")
#: Rounding allowance of a share or stock that reaches its bound exactly: values are
#: sums of a few hundred Euler steps of order-one terms (shares) or are compared relative
#: to the stock's own scale (stocks), so rounding stays many orders below it.
EPS = 1e-9
#: Persons conserved to this relative error: eight stocks of about 1e6 persons summed
#: over 417 Euler steps, each exact up to float rounding (as in test_shocks.py).
CONSERVATION_RTOL = 1e-9

#: Parameter sets per hypothesis example (a batch is run in one vectorised engine call;
#: the engine's cost is mostly per time step, so a batch costs little more than one run).
#: On a failure hypothesis shrinks the other sets of the batch to the bare scenario.
MIN_BATCH = 8
MAX_BATCH = 16
#: Hypothesis examples, and the parameter sets they must add up to at least.
MAX_EXAMPLES = 60
MIN_SETS = 500


# --- the declared ranges --------------------------------------------------------------


def _constants():
    return info().by_kind("constant")


def test_time_step_is_the_models():
    assert compiled().control_values()["time_step"] == TIME_STEP


def test_every_constant_declares_a_finite_range():
    open_ = [e.name for e in _constants() if None in e.limits]
    assert not open_, f"constants without both bounds: {open_}"
    for e in _constants():
        lo, hi = e.limits
        assert math.isfinite(lo) and math.isfinite(hi) and lo <= hi, e.name


def test_model_values_lie_in_their_ranges():
    cm = compiled()
    outside = []
    for e in _constants():
        lo, hi = e.limits
        value = np.asarray(cm.constants[e.name], dtype=float)
        if value.min() < lo or value.max() > hi:
            outside.append(f"{e.name} = {value} outside [{lo:g}, {hi:g}]")
    assert not outside, "; ".join(outside)


def test_uncertainty_supports_lie_in_the_ranges():
    """The whole support of each distribution (after truncation), not only its samples."""
    outside = []
    for p in load_spec(SCENARIO_DIR / "uncertainty.toml").parameters:
        lo, hi = info().get(split_name(p.name)[0]).limits
        a, b = p.distribution.bounds
        if a < lo or b > hi:
            outside.append(f"{p.name}: support [{a:g}, {b:g}] not in [{lo:g}, {hi:g}]")
    assert not outside, "; ".join(outside)


@pytest.mark.parametrize("name", [*available_scenarios(), "history"])
def test_scenario_values_lie_in_the_ranges(name):
    path = SCENARIO_DIR / "history" / "history.toml" if name == "history" else name
    assert merge_settings(load_scenario(path), (), info())  # raises outside a range


@pytest.mark.parametrize("name", available_policies())
def test_policy_values_lie_in_the_ranges(name):
    policy = load_policy(SCENARIO_DIR / "policies" / f"{name}.toml", info())
    assert merge_settings(None, policy.constants, info()) is not None


@pytest.mark.parametrize("path", sorted((SCENARIO_DIR / "shocks").glob("*.toml")), ids=str)
def test_shock_policy_values_lie_in_the_ranges(path):
    assert merge_settings(None, load_shock(path).policy, info()) is not None


def _is_date(e) -> bool:
    return e.units in ("Year", "Month") and e.limits[0] >= 1000


def test_durations_are_at_least_a_time_step_and_dates_are_dates():
    """A duration's minimum is 0 (guarded) or at least one TIME STEP; dates are years."""
    for e in _constants():
        if e.units not in ("Year", "Month") or _is_date(e):
            continue
        step = TIME_STEP if e.units == "Year" else TIME_STEP / MONTH
        low = e.limits[0]
        assert low == 0 or low >= step - 1e-12, f"{e.name}: minimum {low:g} {e.units}"
    dates = {e.name for e in _constants() if _is_date(e)}
    assert {"Shock start", "Demand shock start", "Policy start year"} <= dates
    assert all(info().get(n).limits[0] >= 1900 for n in dates)


# --- the property ---------------------------------------------------------------------


@functools.cache
def _drawable() -> tuple[tuple[str, tuple[str, ...], float, float], ...]:
    """(name, subscript elements, min, max) of every constant the property test draws."""
    out = []
    for e in _constants():
        lo, hi = e.limits
        if (
            e.name in STRUCTURAL | CALIBRATION_DATA | MACRO_LOOP | LABOUR_MARKET_CALIBRATION
            or lo == hi
        ):
            continue
        elements: list[str] = [""]
        for sub in e.subscripts:
            elements = [
                f"{a},{b}" if a else b for a in elements for b in info().range_elements(sub)
            ]
        out.append((e.name, tuple(elements) if e.subscripts else (), lo, hi))
    return tuple(out)


def _value(name: str, lo: float, hi: float) -> st.SearchStrategy[float]:
    if name in INDEX_CONSTANTS:
        return st.integers(int(lo), int(hi)).map(float)
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _perturbation(name: str, elements: tuple[str, ...], lo: float, hi: float):
    """``None`` (the scenario's value) or a value in range, per element if subscripted."""
    if not elements:
        return st.none() | _value(name, lo, hi)
    return st.none() | st.tuples(*(st.none() | _value(name, lo, hi) for _ in elements))


@st.composite
def parameter_sets(draw) -> tuple[str, dict[str, float]]:
    """A base scenario and the constants moved away from it (Vensim ``Name[elem]`` keys)."""
    scenario = draw(st.sampled_from(SCENARIOS))
    moved: dict[str, float] = {}
    for name, elements, lo, hi in _drawable():
        value = draw(_perturbation(name, elements, lo, hi))
        if value is None:
            continue
        if not elements:
            moved[name] = value
        else:
            moved.update(
                {f"{name}[{el}]": v for el, v in zip(elements, value, strict=True) if v is not None}
            )
    return scenario, moved


@functools.cache
def _shares() -> tuple[str, ...]:
    words = ("share", "rate", "fraction", "chance")
    names = [
        e.py_name
        for e in info()
        if e.kind not in ("constant", "lookup", "control")
        and e.units.split("[")[0].strip() == "Dmnl"
        and any(w in e.name.lower() for w in words)
        and e.name not in NOT_SHARES
    ]
    return tuple(sorted(names)) + EXTRA_SHARES


@functools.cache
def _outputs() -> tuple[str, ...]:
    cm = compiled()
    return tuple(py for py, el in cm.elements.items() if el["kind"] not in ("lookup", "control"))


def _engine_params(batch: list[tuple[str, dict[str, float]]]) -> dict[str, np.ndarray]:
    """Per-run arrays ``(run, *dims)`` of every constant a run of the batch sets."""
    cm = compiled()
    runs = []
    for scenario, moved in batch:
        settings_ = merge_settings(load_scenario(scenario), moved, info())  # checks ranges
        runs.append(settings_)
    names = sorted({k for s in runs for k in s})
    params: dict[str, np.ndarray] = {}
    for name in names:
        element = info().get(name)
        default = np.asarray(cm.constants[name], dtype=float)
        values = np.broadcast_to(default, (len(runs), *default.shape)).copy()
        for i, s in enumerate(runs):
            if name not in s:
                continue
            value = s[name]
            if isinstance(value, Mapping):
                for key, number in value.items():
                    idx = tuple(
                        info().range_elements(sub).index(el)
                        for sub, el in zip(element.subscripts, key.split(","), strict=True)
                    )
                    values[(i, *idx)] = number
            else:
                values[i] = value
        params[name] = values
    return params


def _not_finite(out: Mapping[str, np.ndarray]) -> list[list[str]]:
    """Per run of the batch, the variables with a NaN or inf at some saved time."""
    n = len(next(iter(out.values())))
    bad: list[list[str]] = [[] for _ in range(n)]
    for name, values in out.items():
        for run in np.flatnonzero(~np.isfinite(values.reshape(n, -1)).all(axis=1)):
            bad[run].append(name)
    return bad


def _problems(out: Mapping[str, np.ndarray], run: int, not_finite: list[str]) -> list[str]:
    """What breaks the properties in one run of the batch (empty: none)."""
    found = [f"{name} not finite" for name in not_finite[:6]]
    if found:
        return found
    for e in info():
        if e.kind == "stock" and e.py_name not in SIGNED_STOCKS:
            v = out[e.py_name][run]
            if v.min() < -EPS * max(1.0, float(np.abs(v).max())):
                found.append(f"stock {e.name} negative ({v.min():.3g})")
    for name in _shares():
        v = out[name][run]
        if v.min() < -EPS or v.max() > 1 + EPS:
            found.append(f"share {name} outside [0, 1] ({v.min():.3g}, {v.max():.3g})")
    lis = out["labour_income_share"][run]
    if not (lis.min() > 0 and lis.max() <= 1 + EPS):
        found.append(f"labour income share outside (0, 1] ({lis.min():.3g}, {lis.max():.3g})")
    persons = sum(out[p][run].sum(axis=-1) for p in PERSON_STOCKS) - out[POPULATION_COUNTER][run]
    drift = float(np.max(np.abs(persons / persons[0] - 1.0)))
    if drift > CONSERVATION_RTOL:
        found.append(f"persons not conserved (relative drift {drift:.3g})")
    return found


def check_batch(batch: list[tuple[str, dict[str, float]]]) -> None:
    """Run a batch of parameter sets and assert the properties for each of them."""
    out, _ = compiled().run_arrays(len(batch), params=_engine_params(batch), variables=_outputs())
    not_finite = _not_finite(out)
    for run, (scenario, moved) in enumerate(batch):
        problems = _problems(out, run, not_finite[run])
        assert not problems, f"scenario {scenario!r} with {moved}: " + "; ".join(problems[:6])


#: Parameter sets run, for the count check (hypothesis generates them deterministically).
_SETS_RUN: list[int] = []


@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(parameter_sets(), min_size=MIN_BATCH, max_size=MAX_BATCH))
def _property(batch: list[tuple[str, dict[str, float]]]) -> None:
    _SETS_RUN.append(len(batch))
    check_batch(batch)


def test_excluded_constants_are_model_constants():
    names = {e.name for e in _constants()}
    assert STRUCTURAL | CALIBRATION_DATA | MACRO_LOOP | LABOUR_MARKET_CALIBRATION <= names
    assert INDEX_CONSTANTS <= names
    assert len(_drawable()) >= 100  # a large subset of the 179 constants is drawn


def test_model_stays_physical_inside_the_declared_ranges():
    _drawable()  # metadata loaded before hypothesis draws (no global state in strategies)
    _SETS_RUN.clear()
    _property()
    assert sum(_SETS_RUN) >= MIN_SETS, f"only {sum(_SETS_RUN)} parameter sets were run"


#: Found by the property test while it drew the macro-loop constants too, reduced to the
#: constants it needs (each removal makes the run physical again): in the conservative
#: scenario the labour income share peaks at 1.05. Every value lies inside its declared
#: range; wages at their fastest (a quarter year), the output gap closed within a year,
#: firms' expectations formed within a time step and a low depreciation (a large
#: capital stock to adjust) make the multiplier-accelerator overshoot, and compensation
#: exceeds value added. Raising any one lag (wage adjustment 0.5, investment planning
#: 0.5) or the depreciation (0.04) removes it here, but other corners of the same loop
#: fail with those (measured, with overtime 0.3: wage adjustment 1, capital adjustment 2,
#: investment planning 0.5, consumption adjustment 0.25, pass-through 1, output-gap
#: closure 2 and depreciation 0.02 give 1.1), so no box of minima below the plausible
#: ranges' lower ends is safe, and the property test holds these lags at the scenarios'
#: values instead (MACRO_LOOP).
FAST_MACRO_LAGS = {
    "Downward wage rigidity": 1.0,
    "Elasticity of substitution between tasks": 0.1,
    "Investment planning time": 0.0625,
    "Maximum overtime share": 0.18,
    "Other capital depreciation rate": 0.02,
    "Output gap closure time": 1.0,
    "Participation wage elasticity": 0.1,
    "Wage adjustment time": 0.25,
}


@pytest.mark.xfail(
    strict=True,
    reason="model defect: several fast macro lags at once leave the multiplier-accelerator "
    "undamped; labour income share 1.05 (conservative) with FAST_MACRO_LAGS",
)
def test_fast_macro_lags_together_break_the_labour_income_share():
    check_batch([("conservative", FAST_MACRO_LAGS)])


#: Found by the property test while it drew the labour-market calibration too, reduced to
#: the constants it needs; every value lies inside its declared range. Slow hiring in two
#: groups, few involuntary separations and strong scarring leave the 2024 state far from
#: its steady state; with the WW abolished in effect (replacement rates near 0, the
#: maximum duration 3 months) the WW chain and the bijstand stock then turn negative
#: (-1.05e3 and -8.2e4 persons).
SLOW_LABOUR_MARKET = {
    "Base job finding hazard[low]": 1.5,
    "Base job finding hazard[middle]": 1.5,
    "Involuntary churn share": 0.3,
    "Scarring factor": 0.2,
    "WW exhaustion spike": 0.0,
    "WW maximum duration": 3.0,
    "WW maximum entitlement share": 0.05,
    "WW replacement rate higher": 0.02,
    "WW replacement rate lower": 0.0,
    "WW short entitlement share": 0.0,
}


@pytest.mark.xfail(
    strict=True,
    reason="model defect: slow hiring, few involuntary separations and strong scarring at "
    "once leave 2024 far from steady state; WW recipients and bijstand turn negative "
    "(conservative) with SLOW_LABOUR_MARKET",
)
def test_slow_labour_market_calibration_breaks_the_ww_chain():
    check_batch([("conservative", SLOW_LABOUR_MARKET)])
