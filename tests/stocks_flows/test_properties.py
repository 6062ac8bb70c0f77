"""Property tests: the model stays physical everywhere inside its declared ranges.

Every constant of ``stocks_flows/ai_labour_nl.mdl`` declares an admissible range in its
units field (``~ Year [0.0625, 50] ~``). The first tests check the declarations: both
bounds finite, the model's own values, the scenario and policy files and the whole
support of every distribution of ``scenarios/uncertainty.toml`` inside them, and the
time-constant convention (a duration's minimum is at least one TIME STEP).

The property tests then draw parameter sets with hypothesis: a forward scenario as the
base and, for each drawable constant independently, either the
scenario's value or a value inside the declared range (each element of a subscripted
constant on its own). So every example moves a large random subset of the constants at
once (about half of them), and hypothesis shrinks a failure to the few constants that
cause it, printing the falsifying set. Moving every constant at once would mostly test
the most fragile corner, every lag at the time step together (physical since the
demand gap of issue 13, with unemployment above 60%)
(``test_model_extremes.py``), and could not shrink to a cause.

Three groups are held at the scenario's values, each for a stated reason: structural
constants (indices, indicators), the calibration data (2022-2024 facts, whose joint
consistency a box of ranges cannot express) and the lags of the income-investment-wage
loop, which are admissible one at a time but not in every combination (MACRO_LOOP). The
labour-market calibration (hiring hazards, involuntary churn, scarring) is drawn since
issue 13 fixed the WW calibration it broke (``SLOW_LABOUR_MARKET``). Defects found
outside what hypothesis reaches are fixed, or physical with a strict xfail on the
behaviour that remains (``DEMAND_SHOCK_CORNER``, ``ACCELERATOR_CORNER``).

There are four property tests, one per forward scenario as the base, of
``EXAMPLES_PER_SCENARIO`` hypothesis examples each (500 in all, as issue 13 asks); each
example is one parameter set, so hypothesis shrinks a failure to the constants that cause
it. A test draws its examples first and runs them in a few engine calls (an engine call
costs about the same for one run as for 32, so this is 20 times faster than a call per
example); only if a run breaks a property does it replay the same seeded examples with
one engine call each, so that hypothesis stops at the first failing one and shrinks it.
Each is run by the numpy engine over the model period (2024-2050), saving every
variable at the model's SAVEPER (quarterly: the output users get; a NaN or inf, once it
appears, stays in the later saves, and saving every time step would double the run
time). Every run must give:
finite values everywhere, no negative stock (except the signed ones), every share in
[0, 1], a labour income share in (0, 1], and persons conserved (the person stocks sum
to their 2024 total plus the net entries at 15 and exits at 75).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import json
import math
from collections.abc import Callable, Iterator, Mapping

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
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
#: time step or its declared minimum stays physical, ``test_model_extremes.py``), but
#: several fast at once, or one fast with a deep demand shock or the largest overtime,
#: leave the multiplier-accelerator and the wage-price loop undamped (Samuelson 1939).
#: Issue 13 removed two causes with sourced minima (depreciation 0.04, capital
#: adjustment a year; FAST_MACRO_LAGS below now stays physical), but an endpoint-heavy
#: search still finds two- and three-constant corners that spiral (DEMAND_SHOCK_CORNER and
#: ACCELERATOR_CORNER): a stability property of the loop as a whole, which no box of ranges
#: can express without cutting plausible values. The property test keeps these at the
#: scenario's values so that it tests everything else.
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

#: Hypothesis examples per base scenario (one parameter set each): 4 x 125 = 500. One
#: engine call costs about 0.4 s whatever the batch (the cost is per time step), so the
#: examples are drawn first and run in batches of BATCH; 500 examples of one set each are
#: what shrink best (see _property).
EXAMPLES_PER_SCENARIO = 125
#: Runs per engine call in the batched phase of the property tests: 32 runs of every
#: variable at quarterly saves hold about 100 MB.
BATCH = 32
#: A distinct, fixed hypothesis seed per base scenario (reproducible; no database).
SEEDS = {"no_further_ai": 1301, "conservative": 1302, "central": 1303, "explosive": 1304}


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
        if e.name in STRUCTURAL | CALIBRATION_DATA | MACRO_LOOP or lo == hi:
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
def moved_constants(draw) -> dict[str, float]:
    """The constants moved away from the base scenario (Vensim ``Name[elem]`` keys)."""
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
    return moved


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


def batch_problems(batch: list[tuple[str, dict[str, float]]]) -> list[list[str]]:
    """Run a batch of parameter sets in one engine call: what breaks the properties in
    each run (empty: none)."""
    out, _ = compiled().run_arrays(len(batch), params=_engine_params(batch), variables=_outputs())
    not_finite = _not_finite(out)
    return [_problems(out, run, not_finite[run]) for run in range(len(batch))]


def check_batch(batch: list[tuple[str, dict[str, float]]]) -> None:
    """Run a batch of parameter sets and assert the properties for each of them."""
    for (scenario, moved), problems in zip(batch, batch_problems(batch), strict=True):
        assert not problems, f"scenario {scenario!r} with {moved}: " + "; ".join(problems[:6])


def run_one(scenario: str, moved: dict[str, float], variables: list[str], **options):
    """The engine's arrays of one run of ``scenario`` with ``moved`` constants."""
    out, _ = compiled().run_arrays(
        1, params=_engine_params([(scenario, moved)]), variables=variables, **options
    )
    return out


@contextlib.contextmanager
def module_independent_draws() -> Iterator[None]:
    """Hypothesis draws that do not depend on which modules were imported before.

    Since 6.131, hypothesis mixes the numeric literals of every imported local module
    (test files, sdmodel, pysd's translation of the model in the cache) into its draws:
    with a fixed seed, the examples then depend on what ran earlier in the same process.
    Under pytest-xdist that is the order in which a worker happened to take tests, so the
    500 examples were not reproducible (an example that breaks a property was drawn in
    one order only). Hypothesis has no setting for it; this empties the local pool (a
    private hook, so ``test_draws_do_not_depend_on_imported_modules`` checks that it
    works with the installed version) and drops the cached pools before and after.
    """
    from hypothesis.internal.conjecture import providers

    saved = providers._get_local_constants
    providers.CONSTANTS_CACHE.cache.clear()
    providers._get_local_constants = providers.Constants
    try:
        yield
    finally:
        providers._get_local_constants = saved
        providers.CONSTANTS_CACHE.cache.clear()


def _property(scenario: str, check: Callable[[dict[str, float]], None]):
    """The hypothesis test for one base scenario (seeded, so reproducible): ``check`` is
    called with each example's moved constants."""

    @seed(SEEDS[scenario])
    @settings(
        max_examples=EXAMPLES_PER_SCENARIO,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(moved=moved_constants())
    def prop(moved: dict[str, float]) -> None:
        check(moved)

    return prop


def test_excluded_constants_are_model_constants():
    names = {e.name for e in _constants()}
    assert STRUCTURAL | CALIBRATION_DATA | MACRO_LOOP <= names
    # drawn since issue 13 (the WW calibration no longer needs them near the defaults)
    assert {"Base job finding hazard", "Involuntary churn share", "Scarring factor"} <= {
        name for name, *_ in _drawable()
    }
    assert INDEX_CONSTANTS <= names
    assert len(_drawable()) >= 100  # a large subset of the 179 constants is drawn


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_model_stays_physical_inside_the_declared_ranges(scenario):
    """Each example's run keeps every property; batched, replayed one by one on failure.

    The examples are drawn first (``check`` only records them) and run in batches of
    :data:`BATCH`: a batch gives every run bit for bit what a run on its own gives
    (``tests/engine``). If any run breaks a property, the same seeded examples are drawn
    again with one engine call each: hypothesis then stops at the first failing example
    and shrinks it, and the test fails with the falsifying constants.
    """
    _drawable()  # metadata loaded before hypothesis draws (no global state in strategies)
    drawn: list[dict[str, float]] = []
    with module_independent_draws():
        _property(scenario, drawn.append)()
    # hypothesis stops early only if it runs out of distinct examples, which this box
    # of over 100 constants does not; the count guards against a silent early stop
    assert len(drawn) >= EXAMPLES_PER_SCENARIO, f"only {len(drawn)} examples ran"
    failing = []
    for start in range(0, len(drawn), BATCH):
        batch = [(scenario, moved) for moved in drawn[start : start + BATCH]]
        found = zip(batch, batch_problems(batch), strict=True)
        failing += [moved for (_, moved), problems in found if problems]
    if failing:
        with module_independent_draws():
            _property(scenario, lambda moved: check_batch([(scenario, moved)]))()
        pytest.fail(  # the replay must fail: a batch and single runs differ otherwise
            f"{len(failing)} batched runs break a property but no single run does: "
            f"the first is {failing[0]}"
        )


def _draws(n: int) -> str:
    """Digest of the first ``n`` parameter sets the explosive property test draws."""
    drawn: list[str] = []

    @seed(SEEDS["explosive"])
    @settings(max_examples=n, database=None, deadline=None)
    @given(moved=moved_constants())
    def record(moved: dict[str, float]) -> None:
        drawn.append(json.dumps(moved, sort_keys=True))

    with module_independent_draws():
        record()
    return hashlib.sha256("\n".join(drawn).encode()).hexdigest()


def test_draws_do_not_depend_on_imported_modules(tmp_path, monkeypatch):
    """A module with literals inside the drawn ranges (as any test file or pysd
    translation has) imported between two runs of the same seeded test leaves the
    examples unchanged; without module_independent_draws they change (measured: the
    first 125 explosive examples differ once test_model_automation is imported)."""
    _drawable()
    before = _draws(60)
    values = sorted({lo + (hi - lo) * f for _, _, lo, hi in _drawable() for f in (0.3, 0.7)})
    (tmp_path / "literals_for_hypothesis.py").write_text(
        "VALUES = [" + ", ".join(repr(v) for v in values) + "]\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("literals_for_hypothesis")
    assert _draws(60) == before


#: Found by the property test while it drew the macro-loop constants too, reduced to the
#: constants it needs (each removal makes the run physical again): wages at their fastest
#: (a quarter year), the output gap closed within a year, firms' expectations formed
#: within a time step and a low depreciation make the multiplier-accelerator undamped, a
#: wage-price spiral (prices 9 to 90 times their trend) and a labour income share of 1.07
#: to 1.14 in every scenario, no_further_ai included. The depreciation is what matters:
#: the derived other capital output ratio is investment / (depreciation + growth), 6.8
#: times GDP at 0.02, twice the Netherlands' whole net fixed capital stock, so the
#: accelerator's gain was implausible. Fixed in the model (issue 13): the depreciation's
#: declared minimum is 0.04 (3.7 times GDP; sources in the model comment). The set below
#: is the former defect at that minimum.
FAST_MACRO_LAGS = {
    "Downward wage rigidity": 1.0,
    "Elasticity of substitution between tasks": 0.1,
    "Investment planning time": 0.0625,
    "Maximum overtime share": 0.18,
    "Other capital depreciation rate": 0.04,
    "Output gap closure time": 1.0,
    "Participation wage elasticity": 0.1,
    "Wage adjustment time": 0.25,
}


def test_depreciation_below_the_capital_stock_bound_is_rejected():
    with pytest.raises(Exception, match="Other capital depreciation rate"):
        merge_settings(None, {"Other capital depreciation rate": 0.02}, info())
    with pytest.raises(Exception, match="Capital adjustment time"):
        merge_settings(None, {"Capital adjustment time": 0.0625}, info())


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fast_macro_lags_at_the_depreciation_minimum_stay_physical(scenario):
    """The former defect's lags with the depreciation at its declared minimum: every
    property holds, and there is no wage-price spiral (price level and wages within 30% of
    their trend; they reach 9 to 200 times it at 0.02)."""
    check_batch([(scenario, FAST_MACRO_LAGS)])
    out = run_one(scenario, FAST_MACRO_LAGS, ["Price level", "Negotiated relative wage"])
    assert float(np.max(out["price_level"])) < 1.3
    assert float(np.max(out["negotiated_relative_wage"])) < 1.3


#: Formerly the last of the KNOWN_DEFECTS (found by an endpoint-heavy random search in
#: issue 13): wages at their fastest with a 40% demand shock. The wage-price loop diverged
#: and the run ended in NaN in 2046 without AI: the participation incentive, a power of the
#: spiralling wage, drew more than the inactive stock into the labour force in one time
#: step. Since the inactive stock's Euler exit scale (2026-12-04) every property holds in
#: all four scenarios, but the spiral itself remains without AI and in explosive (the
#: strict xfail below): the model has no nominal anchor (stocks_flows/README.md).
DEMAND_SHOCK_CORNER = {"Demand shock depth": 0.4, "Wage adjustment time": 0.25}


def test_demand_shock_corner_stays_physical():
    """The former defect's set, in every scenario: all properties hold through 2050."""
    check_batch([(scenario, DEMAND_SHOCK_CORNER) for scenario in SCENARIOS])


@pytest.mark.xfail(strict=True, reason="known model defect: the wage-price loop has no anchor")
@pytest.mark.parametrize("scenario", ["no_further_ai", "explosive"])
def test_demand_shock_corner_spirals(scenario):
    """Finite but not stable: wages 473 (no AI) and 315 (explosive) times their trend by
    2050, the price level 168 and 33 times its 2024 value (conservative and central stay
    within 2 times). The bound is the one the layoff corners meet."""
    out = run_one(scenario, DEMAND_SHOCK_CORNER, ["Negotiated relative wage"])
    assert float(np.max(out["negotiated_relative_wage"])) < 2.0


#: Formerly in KNOWN_DEFECTS: a year's capital adjustment with the largest overtime and
#: strong downward wage rigidity. It broke the properties (NaN) in the explosive scenario
#: because the integral of the output-gap closure (Accumulated demand stabilisation) fed
#: on measured output, which stops at capacity: in a boom it saw a gap of at most the
#: overtime margin and stayed wound up from the slump before. Since it integrates the
#: demand gap (demand above capacity counts; issue 13) every property holds in all four
#: scenarios. The multiplier-accelerator cycle itself remains (the strict xfail below).
ACCELERATOR_CORNER = {
    "Capital adjustment time": 1.0,
    "Downward wage rigidity": 5.0,
    "Maximum overtime share": 0.3,
}


def test_accelerator_corner_stays_physical():
    """The former defect's set, in every scenario: all properties hold through 2050, and
    without AI there is no wage spiral (wages within twice their trend; measured 1.35)."""
    check_batch([(scenario, ACCELERATOR_CORNER) for scenario in SCENARIOS])
    out = run_one("no_further_ai", ACCELERATOR_CORNER, ["Negotiated relative wage"])
    assert float(np.max(out["negotiated_relative_wage"])) < 2.0


@pytest.mark.xfail(strict=True, reason="known model defect: the multiplier-accelerator cycle grows")
@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "no_further_ai"])
def test_accelerator_corner_cycles_ever_wider(scenario):
    """With AI the accelerator corner is finite but not stable: an eight-year cycle whose
    amplitude grows (unemployment between 0.7% and 60-64%, detrended other capital 9 to
    13 times its 2024 level by 2050, wages 9 to 12 times their trend). The bound is the
    one the layoff corners meet: wages within twice their trend."""
    out = run_one(scenario, ACCELERATOR_CORNER, ["Negotiated relative wage"])
    assert float(np.max(out["negotiated_relative_wage"])) < 2.0


#: Formerly in KNOWN_DEFECTS, reduced to the constants each needs: near-total layoffs of
#: one group with much overtime. The explosive endgame was found by the 500-example
#: property test in one CI run (a 98% low-skill job loss in 2027; the high group's
#: employment collapsed in the last two years, an unemployment rate of -2.5% and then
#: 144%, NaN in 2050). The other is one member of the largest family of the endpoint-heavy
#: search (35 of its 57 failures had a shock share of 0.97 or more; without AI the low and
#: high groups' wages reached 11 and 12 times their trend by 2035, NaN by 2040). The
#: laid-off counted as slack in a pooled potential output (total normal employment over
#: the total labour requirement), so the output-gap closure filled that slack with demand
#: that only the other groups could meet. Fixed in the model (issue 13): potential output
#: weights each group's potential by its share of the labour requirement (a harmonic
#: mean), so persons whose group has lost its tasks are not counted as capacity.
LAYOFF_CORNERS = {
    "explosive_endgame_after_a_near_total_layoff": {
        "Maximum overtime share": 0.1875,
        "Shock job loss share[low]": 0.984375,
    },
    "near_total_layoff_with_overtime_without_ai": {
        "Maximum overtime share": 0.3,
        "Shock job loss share[middle]": 0.99,
    },
}


@pytest.mark.parametrize("name", sorted(LAYOFF_CORNERS))
def test_near_total_layoffs_stay_physical(name):
    """The former defects' sets, in every scenario: all properties hold, and no wage
    spiral: wages stay within twice their trend. Measured at most 1.52 (no AI, the other
    groups' wages after the low group lost 98% of its tasks, rising in 2045-2050); with
    the pooled potential output they reached 7 to 9 times their trend, and NaN without AI.
    """
    moved = LAYOFF_CORNERS[name]
    check_batch([(scenario, moved) for scenario in SCENARIOS])
    for scenario in SCENARIOS:
        out = run_one(scenario, moved, ["Negotiated relative wage"])
        assert float(np.max(out["negotiated_relative_wage"])) < 2.0, scenario


#: Formerly in KNOWN_DEFECTS (the second family of the endpoint-heavy search, 10 of its 57
#: failures): a EUR 50,000 basic income, a propensity to earn of 1 and the fastest
#: response. The labour-supply reduction was the linear earnings response capped at 1, so
#: the low and middle groups' targets were the whole group; the withdrawal and the
#: separations of one time step emptied the low group's employment (-17 persons) and the
#: hours factor was NaN. Fixed in the model (issue 13): the reduction saturates,
#: 1 - exp(-x) of the earnings given up in persons x, so no group leaves entirely.
BASIC_INCOME_CORNER = {
    "Basic income labour supply response time": 0.0625,
    "Basic income marginal propensity to earn": 1.0,
    "Basic income per recipient": 50000.0,
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_basic_income_corner_keeps_every_group_at_work(scenario):
    """The former defect's set, in every scenario: all properties hold, and in every group
    the reduction stays below 1 and most of the remaining labour force stays employed."""
    check_batch([(scenario, BASIC_INCOME_CORNER)])
    out = run_one(
        scenario,
        BASIC_INCOME_CORNER,
        ["Basic income labour supply reduction", "Employment", "Labour force"],
    )
    reduction = out["basic_income_labour_supply_reduction"]
    # measured: 0.78 at most (the low group, 1 - exp(-1.5)); the old cap gave 1
    assert float(np.max(reduction)) < 0.9
    # measured: 77-87% of the remaining labour force employed at the lowest (the labour
    # force shrinks with the withdrawals); the old model emptied employment
    employed = out["employment"] / out["labour_force"]
    assert float(np.min(employed)) > 0.5


#: Found by the endpoint-heavy search (scripts/endpoint_search.py, 2026-12-04), reduced to
#: the constants each needs: a basic income whose start (or a near-total layoff) moves a
#: whole group's target gap within a time step. The withdrawal was bounded by employment
#: alone, so with the separations of the same step it took more than the employed (the
#: low group at -9,800 persons in 2026, then NaN). The withdrawal now leaves room for the
#: group's other outflows (Basic income withdrawal room).
BASIC_INCOME_START_CORNERS = {
    "fast_ai_and_a_large_basic_income": (
        "central",
        {
            "Adoption barrier erosion rate": 2.0,
            "Adoption support factor": 3.2698169829353163,
            "Algorithmic diminishing returns": 0.05,
            "Basic income labour supply response time": 0.0625,
            "Basic income marginal propensity to earn": 0.9127657457205951,
            "Basic income per recipient": 31240.40761014986,
            "Compute spending doubling time": 0.75,
        },
    ),
    "basic_income_after_a_near_total_layoff": (
        "conservative",
        {
            "Basic income labour supply response time": 0.0625,
            "Basic income marginal propensity to earn": 1.0,
            "Basic income per recipient": 7397.236776392574,
            "Policy start year": 2034.1263934073359,
            "Pre generative AI automation potential[low]": 0.1,
            "Shock job loss share[high]": 0.99,
        },
    ),
}


@pytest.mark.parametrize("name", sorted(BASIC_INCOME_START_CORNERS))
def test_a_basic_income_start_cannot_take_more_than_the_employed(name):
    """All properties hold, and it is the withdrawal's guard that binds."""
    scenario, moved = BASIC_INCOME_START_CORNERS[name]
    check_batch([(scenario, moved)])
    names = ["Basic income withdrawal", "Basic income withdrawal room"]
    out = run_one(scenario, moved, names, saveper=TIME_STEP)
    withdrawal, room = out["basic_income_withdrawal"], out["basic_income_withdrawal_room"]
    assert (withdrawal <= room).all() and (withdrawal == room).any()


#: Found by the property test while it drew the labour-market calibration too, reduced to
#: the constants it needs; every value lies inside its declared range. Slow hiring in two
#: groups, few involuntary separations and strong scarring leave a 2024 churn rate of
#: 0.4% a year in the middle group, too few involuntary separations for the 2023 WW
#: inflow (WW eligible share capped at 1, the inflow a sixth of the fact). The 2024 WW
#: spell was then running benefits over that inflow, 3.8 years, longer than any
#: entitlement, so the calibrated WW hazard was negative (-1.7 a year) and the WW chain
#: and bijstand turned negative (-1.05e3 and -8.2e4 persons) once the WW was abolished in
#: effect. Fixed in the model (issue 13): the spell is the ratio of the two WW facts.
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


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_slow_labour_market_calibration_keeps_the_ww_chain_physical(scenario):
    """The former defect's parameter set, in every scenario: all properties hold, and the
    calibrated WW hazard is positive although the eligible share is capped at 1: the
    spell guard (WW maximum spell share of entitlement) binds."""
    check_batch([(scenario, SLOW_LABOUR_MARKET)])
    out = run_one(
        scenario,
        SLOW_LABOUR_MARKET,
        [
            "WW exit to work hazard 2024",
            "WW eligible share",
            "WW mean duration 2024",
            "WW mean entitlement at current rules",
            "WW maximum spell share of entitlement",
        ],
    )

    def first(name: str) -> float:
        return float(np.ravel(out[name])[0])

    assert first("ww_eligible_share") == 1.0  # the cap binds here
    assert first("ww_exit_to_work_hazard_2024") > 0
    # and so does the spell guard: the stock fact would need a spell beyond the entitlement
    assert first("ww_mean_duration_2024") == pytest.approx(
        first("ww_maximum_spell_share_of_entitlement")
        * first("ww_mean_entitlement_at_current_rules"),
        rel=1e-12,
    )


#: Found by the property test: the low-migration projection (0.94) falling within one year
#: (2049-2050). The participating part of the fall left the short-term unemployed as a
#: fixed flow, larger than the stock, which turned negative. Fixed in the model (issue 13):
#: a fall is a first-order exit from every person stock in proportion.
POPULATION_FALL_WITHIN_A_YEAR = {
    "Population projection start": 2049.0,
    "Working age population 2050 relative to 2023": 0.94,
    "WW replacement rate lower": 0.0,
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_population_fall_within_a_year_keeps_every_stock_physical(scenario):
    """The former defect's parameter set, in every scenario: all properties hold, and the
    population falls exactly as projected (cohort entries replace the exits at 75, so the
    total changes by the projection's growth alone: 2050 = 0.94 x 2023, to rounding)."""
    check_batch([(scenario, POPULATION_FALL_WITHIN_A_YEAR)])
    out = run_one(
        scenario,
        POPULATION_FALL_WITHIN_A_YEAR,
        ["Total population", "Population 15 to 75 2023", "Population decline rate"],
    )
    total, start = out["total_population"][0], float(np.ravel(out["population_15_to_75_2023"])[0])
    assert total[-1] == pytest.approx(0.94 * start, rel=1e-9)
    assert total[-5] == pytest.approx(start, rel=1e-9)  # 2049: the fall has not begun
    rate = out["population_decline_rate"][0]
    assert rate[-6] == 0.0 and rate[-2] > 0.05  # 2048.75: none; 6% of it leaves in 2049


#: Found by an endpoint-heavy random search of the declared ranges (issue 13, 2026-12-03),
#: reduced to the constants it needs: in explosive, a 99% job loss in the middle group with
#: vacancies at their most sensitive dries up every group's vacancies from 2028 (all
#: three below 1e-4 persons). ZIDZ treats a denominator below 1e-6 as zero, so the
#: retraining destination shares (weights summing to about 1e-7) were all zero, and the
#: cross-group placements vanished from the person stocks: relative drift 3.0e-4 by 2050.
#: Fixed in the model: below the threshold the shares are the 2024 ones (XIDZ). The
#: job-to-job shares had the same flaw and the same fix; the lever is on here, though its
#: fallback (vacancies summing to less than 1e-6 persons) is not reached in this run.
DRY_VACANCIES = {
    "AI cost dispersion": 1.96539,
    "Elasticity of substitution between skill groups": 3.80594,
    "Job to job service coverage": 1.0,
    "Policy start year": 2025.0,
    "Shock job loss share[middle]": 0.99,
    "Vacancy sensitivity": 20.0,
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_placements_keep_persons_when_no_group_has_vacancies(scenario):
    check_batch([(scenario, DRY_VACANCIES)])
    out = run_one(
        scenario,
        DRY_VACANCIES,
        [
            "Retraining destination share",
            "Job to job destination share",
            "Retraining destination weight",
        ],
        saveper=TIME_STEP,
    )
    for name in ("retraining_destination_share", "job_to_job_destination_share"):
        # shares of one: rounding of three terms
        np.testing.assert_allclose(out[name][0].sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    if scenario == "explosive":  # the retraining fallback is what runs here
        weights = out["retraining_destination_weight"][0].sum(axis=-1)
        assert float(weights.min()) < 1e-6


#: Found by an endpoint-heavy random search of the declared ranges (issue 13, 2026-12-03;
#: the property test had not drawn it), reduced to the constants it needs: 99% of the low
#: group's jobs lost over 2.96 years. PULSE was on for 48 steps (3.0 years), so the rate
#: share / duration removed 1.003 of the group's tasks: task retention -0.003, labour
#: demand negative, and NaN from the shock's last step in every scenario. Fixed in
#: the model: the loss stops once the share is removed (Shock task loss rate).
LONG_UNEVEN_SHOCK = {"Shock duration": 2.96035, "Shock job loss share[low]": 0.99}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_near_total_shock_of_uneven_duration_keeps_the_task_measure_physical(scenario):
    check_batch([(scenario, LONG_UNEVEN_SHOCK)])


#: Found by the 500-example property test (central base), reduced to the constants it
#: needs (each removal but one makes the run physical): a 75% job loss in the middle group
#: and 50% in the high group, no WW for the lower paid (their recipients search harder
#: than in 2024) and a strong scarring. When the laid-off have found work again the WW
#: chain, counted apart from the short-term unemployed, still adds extra hires to them,
#: and the Euler exit scale, which counted only the hazard, let the stock go to -2,200.
MASS_LAYOFF_HARD_SEARCH = {
    "Adoption cost elasticity": 0.9307749282666304,
    "Compute spending doubling time": 1.0,
    "Maximum overtime share": 0.27054027908111866,
    "Scarring factor": 0.25,
    "Shock job loss share[middle]": 0.75,
    "Shock job loss share[high]": 0.5,
    "WW replacement rate lower": 0.0,
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_mass_layoff_with_hard_ww_search_keeps_the_short_term_unemployed_physical(scenario):
    """The exit scale now counts the WW search deviation: all properties hold, and in the
    central base, where the stock went negative, it is the guard that binds."""
    check_batch([(scenario, MASS_LAYOFF_HARD_SEARCH)])
    out = run_one(scenario, MASS_LAYOFF_HARD_SEARCH, ["Short term exit scale"])
    scale = np.asarray(out["short_term_exit_scale"])
    assert scale.min() > 0 and scale.max() == 1.0
    if scenario == "central":
        assert scale.min() < 1.0  # binds here, as stocks_flows/README.md says


#: Found by the property test with the MACRO_LOOP lags drawn too (no_further_ai base,
#: 2026-12-04), reduced to the constants it needs (removing any one makes the run
#: physical): fast wages, capital and output-gap closure with a 90% layoff of the low
#: group start a wage-price spiral (high-group wages 4 times their trend by 2036), and
#: the participation incentive, a power of the wage (elasticity 0.76 here), took 2.4
#: times the high group's inactive stock into the labour force in one time step.
INACTIVE_OVERDRAW = {
    "Adoption support factor": 1.1754943508222875e-38,
    "Automatic stabiliser response": 1.2815515882138626,
    "Base job finding hazard[middle]": 4.540179205342361,
    "Base job finding hazard[high]": 4.123040482044459,
    "Capital adjustment time": 1.0,
    "Downward wage rigidity": 7.149989219074555,
    "Elasticity of substitution between tasks": 0.349404568180113,
    "Labour force exit rate": 0.022301714957139323,
    "Layoff adjustment time": 1.5,
    "Mobility team coverage": 0.8593258669439447,
    "Mobility team job finding effect": 0.5308352377317965,
    "Non AI productivity growth": 0.04,
    "Other capital depreciation rate": 0.1327047565434641,
    "Output gap closure time": 1.9,
    "Participation benefit elasticity": 0.2586744383962283,
    "Participation wage elasticity": 0.4986749199728414,
    "Propensity to consume labour income": 0.7542332962515002,
    "Required return on capital": 5.960464477539063e-08,
    "Retraining capacity investment": 51416.809024920796,
    "Retraining referral rate": 0.3154759662477069,
    "Retraining success probability[low]": 0.9033833064949062,
    "Retraining success probability[high]": 0.04761635608973632,
    "Shock duration": 7.496580901645794,
    "Shock job loss share[low]": 0.9033833064949062,
    "Wage adjustment time": 0.5036094459437802,
    "Within group wage dispersion": 0.481576730192857,
    "WW replacement rate lower": 0.5388279971850983,
}


def test_a_wage_spiral_cannot_draw_more_than_the_inactive_into_the_labour_force():
    """With the Euler guard on the inactive stock's outflows every property holds, and it
    is the guard that binds (in the high group)."""
    check_batch([("no_further_ai", INACTIVE_OVERDRAW)])
    out = run_one("no_further_ai", INACTIVE_OVERDRAW, ["Inactive exit scale"])
    scale = np.asarray(out["inactive_exit_scale"])
    assert 0 < scale.min() < 1.0 and scale.max() == 1.0


def test_ww_mean_entitlement_exceeds_the_mean_spell_over_the_declared_ranges():
    """The WW hazard calibration has a positive root for every admissible entitlement
    distribution: the mean entitlement (the mean spell at hazard 0) is above the mean
    spell of the facts (167,800 / (20,800 x 12) years) at every corner of the declared
    ranges of the entitlement shares, the shortest at short 0.4 and maximum 0.05."""
    short, maximum = (
        info().get("WW short entitlement share"),
        info().get("WW maximum entitlement share"),
    )
    corners = [(a, b) for a in short.limits for b in maximum.limits]
    params = {
        "WW short entitlement share": np.array([a for a, _ in corners]),
        "WW maximum entitlement share": np.array([b for _, b in corners]),
    }
    names = ["WW mean entitlement at current rules", "WW mean duration 2024"]
    out, _ = compiled().run_arrays(len(corners), params=params, variables=names)
    entitlement = np.asarray(out["ww_mean_entitlement_at_current_rules"])[:, 0]
    spell = np.asarray(out["ww_mean_duration_2024"])[:, 0]
    assert spell == pytest.approx(167_800 / (20_800 * 12), rel=1e-12)
    assert entitlement.min() == pytest.approx(9.825 / 12, rel=1e-12)  # short 0.4, max 0.05
    assert (entitlement > spell).all()
