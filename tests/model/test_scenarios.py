"""Scenario files, --set overrides, model metadata and the pysd runner (tiny model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sdmodel.errors import SdmodelError
from sdmodel.experiments.runner import run_scenarios
from sdmodel.io.paths import MODEL_PATH, SCENARIO_DIR, file_hash
from sdmodel.model.info import load_info, parse_mdl_entries
from sdmodel.model.scenarios import (
    available_scenarios,
    load_scenario,
    merge_settings,
    parse_set,
    to_pysd_params,
)
from sdmodel.model.translate import translate
from tests.conftest import TINY_MDL, TINY_SCENARIOS, requires_model

GOOD = 'description = "d"\nsources = ["s"]\n'


def write(tmp_path: Path, text: str, name: str = "sc.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- model metadata -------------------------------------------------------------------


def test_modelinfo_kinds_units_comments(tiny_info) -> None:
    kinds = {e.name: e.kind for e in tiny_info}
    assert kinds["Employment"] == "stock"
    assert kinds["Hiring"] == "flow"
    assert kinds["Displacement"] == "flow"
    assert kinds["Total employment"] == "auxiliary"
    assert kinds["Hiring rate"] == "constant"
    assert kinds["Effect lookup"] == "lookup"
    assert kinds["TIME STEP"] == "control"
    rate = tiny_info.get("Displacement rate")
    assert rate.subscripts == ("Skill",)
    assert rate.units == "1/Year"
    assert rate.comment == "Fraction displaced per year."
    assert rate.equation == "Displacement rate[Skill]= 0.01, 0.02, 0.03"
    assert tiny_info.get("Employment").equation.startswith("Employment[Skill]= INTEG (")


def test_resolve_names(tiny_info) -> None:
    assert tiny_info.resolve("hiring_RATE").element.name == "Hiring rate"
    assert tiny_info.resolve("hiring_rate").element.name == "Hiring rate"
    ref = tiny_info.resolve("  displacement   rate [ MIDDLE ] ")
    assert (ref.element.name, ref.subscript) == ("Displacement rate", ("middle",))
    assert ref.label == "Displacement rate[middle]"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Hirng rate", "did you mean 'Hiring rate'"),
        ("Hiring rate[low]", "has no subscripts"),
        ("Displacement rate[mid]", "unknown element 'mid'"),
        ("Displacement rate[low,high]", "got 2 element"),
    ],
)
def test_resolve_errors(tiny_info, name: str, fragment: str) -> None:
    with pytest.raises(SdmodelError, match=fragment.replace("[", r"\[")):
        tiny_info.resolve(name)


def test_parse_mdl_entries_joins_element_equations() -> None:
    text = "{UTF-8}\nX[a]= 1 ~ Person ~ First. |\nX[b]= 2 ~ Person ~ |\n\\\\\\---/// sketch"
    entries = parse_mdl_entries(text)
    assert entries["x"]["equation"] == "X[a]= 1\nX[b]= 2"
    assert entries["x"]["units"] == "Person"
    assert entries["x"]["comment"] == "First."


def test_translation_is_cached_outside_the_tree(tmp_path, monkeypatch, tiny_mdl) -> None:
    monkeypatch.setenv("SDMODEL_CACHE_DIR", str(tmp_path / "cache"))
    first = translate(tiny_mdl)
    assert first.is_relative_to(tmp_path / "cache")
    assert first.parent.name == file_hash(tiny_mdl)
    mtime = first.stat().st_mtime_ns
    assert translate(tiny_mdl) == first and first.stat().st_mtime_ns == mtime  # reused
    assert not tiny_mdl.with_suffix(".py").exists()
    changed = tmp_path / "tiny.mdl"
    changed.write_text(TINY_MDL.replace("0.015", "0.016"), encoding="utf-8")
    assert translate(changed).parent != first.parent  # new hash, new translation
    assert not list((tmp_path / "cache" / "pysd").glob(".*"))  # no temp dirs left


def test_missing_model_file(tmp_path) -> None:
    with pytest.raises(SdmodelError, match="nope.mdl"):
        translate(tmp_path / "nope.mdl")


# --- scenario files -------------------------------------------------------------------


def test_load_scenario_defaults_and_validation(tiny_dir, tiny_info) -> None:
    sc = load_scenario("no_further_ai", tiny_info, tiny_dir / "scenarios")
    assert sc.name == "no_further_ai"
    assert sc.description == "Nobody is displaced."
    assert sc.sources == ("test",)
    assert sc.constants == {"Displacement rate": 0}
    assert sc.path == tiny_dir / "scenarios" / "no_further_ai.toml"


def test_available_scenarios_order(tmp_path) -> None:
    for name in ["zzz", "explosive", "central", "aaa", "no_further_ai", "conservative"]:
        write(tmp_path, GOOD, f"{name}.toml")
    expected = ["no_further_ai", "conservative", "central", "explosive", "aaa", "zzz"]
    assert available_scenarios(tmp_path) == expected


def test_unknown_scenario_lists_available(tiny_dir) -> None:
    with pytest.raises(SdmodelError, match="unknown scenario 'nope'.*central"):
        load_scenario("nope", directory=tiny_dir / "scenarios")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('description = "d"\nsources = [\n', "malformed TOML"),
        ('sources = ["s"]\n', "'description' is required"),
        ('description = ""\nsources = ["s"]\n', "'description' is required"),
        ('description = "d"\n', "'sources' is required"),
        ('description = "d"\nsources = "s"\n', "'sources' is required"),
        (GOOD + "constant = 1\n", "unknown key 'constant'"),
        (GOOD + "constants = 3\n", "'constants' must be a table"),
        (GOOD + '[constants]\n"Hirng rate" = 1\n', "key 'Hirng rate'.*did you mean 'Hiring rate'"),
        (GOOD + '[constants]\n"Employment" = 1\n', "key 'Employment'.*stock, not a constant"),
        (GOOD + '[constants]\n"Wage bill" = 1\n', "auxiliary, not a constant"),
        (GOOD + '[constants]\n"TIME STEP" = 1\n', "control, not a constant"),
        (GOOD + '[constants]\n"Displacement rate[mid]" = 1\n', "unknown element 'mid'"),
        (GOOD + '[constants]\n"Displacement rate" = {mid = 1}\n', "unknown element 'mid'"),
        (GOOD + '[constants]\n"Hiring rate" = "0.1"\n', "key 'Hiring rate'.*not a number"),
        (GOOD + '[constants]\n"Hiring rate" = true\n', "not a number"),
        (GOOD + '[constants]\n"Hiring rate" = nan\n', "key 'Hiring rate'.*not finite"),
        (GOOD + '[constants]\n"Displacement rate[low]" = inf\n', "not finite"),
        (GOOD + '[constants]\n"Hiring rate" = {low = 1}\n', "no subscripts; give one number"),
        (GOOD + '[constants]\n"Displacement rate[low]" = {a = 1}\n', "one element"),
        (GOOD + "control = 3\n", "'control' must be a table"),
        (GOOD + "[control]\ntime_step = 1\n", "unknown control 'time_step'"),
        (GOOD + '[control]\ninitial_time = "1995"\n', "control 'initial_time'.*not a number"),
        (GOOD + "[control]\ninitial_time = 2030\nfinal_time = 2030\n", "not before final_time"),
    ],
)
def test_invalid_scenarios_name_file_and_key(tmp_path, tiny_info, text, fragment) -> None:
    path = write(tmp_path, text, "broken.toml")
    with pytest.raises(SdmodelError, match=fragment.replace("[", r"\[")) as info:
        load_scenario(path, tiny_info)
    assert "broken.toml" in str(info.value)


def test_control_table_sets_the_period_for_both_engines(tiny_dir, tiny_mdl, tmp_path) -> None:
    """A scenario's ``[control]`` period (the history run's mechanism) holds in pysd and
    the engine alike, and a time-invariant model started later is the same path shifted."""
    text = TINY_SCENARIOS["central"].replace('name = "central"', 'name = "later"')
    path = write(tmp_path, text + "[control]\ninitial_time = 2026\nfinal_time = 2029\n")
    assert load_scenario(path).control == {"initial_time": 2026.0, "final_time": 2029.0}
    runs = {
        engine: run_scenarios([path], None, tiny_mdl, engine=engine) for engine in ("pysd", "numpy")
    }
    for ds in runs.values():
        np.testing.assert_allclose(ds["time"].values, 2026 + 0.25 * np.arange(13), rtol=0, atol=0)
    np.testing.assert_allclose(
        runs["numpy"]["employment"].values, runs["pysd"]["employment"].values, rtol=1e-12
    )
    standard = run_scenarios(["central"], None, tiny_mdl, scenario_dir=tiny_dir / "scenarios")
    np.testing.assert_allclose(
        runs["numpy"]["employment"].isel(scenario=0).values,
        standard["employment"].isel(scenario=0, time=slice(0, 13)).values,
        rtol=1e-12,
    )
    assert json.loads(runs["numpy"].attrs["scenarios"])["scenarios"][0]["control"] == {
        "initial_time": 2026.0,
        "final_time": 2029.0,
    }
    with pytest.raises(SdmodelError, match="different \\[control\\] values"):
        run_scenarios([path, tiny_dir / "scenarios" / "central.toml"], None, tiny_mdl)


def test_commands_that_cannot_honour_a_period_refuse_it(tmp_path) -> None:
    from sdmodel.model.scenarios import require_model_period

    plain = load_scenario(write(tmp_path, GOOD, "plain.toml"))
    require_model_period([plain], "sdmodel sweep")  # no [control]: fine
    dated = load_scenario(write(tmp_path, GOOD + "[control]\ninitial_time = 1995\n", "h.toml"))
    with pytest.raises(SdmodelError, match="sdmodel sweep: scenario 'h'.*own period"):
        require_model_period([plain, dated], "sdmodel sweep")


# --- --set and merging ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hiring rate=0.5", ("Hiring rate", 0.5)),
        (" Displacement rate[low] = 1e-3 ", ("Displacement rate[low]", 0.001)),
        ("x=-2", ("x", -2.0)),
    ],
)
def test_parse_set(text: str, expected: tuple[str, float]) -> None:
    assert parse_set(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Hiring rate", "expected"),
        ("=1", "expected"),
        ("a=abc", "'abc' is not a number"),
        ("a=inf", "not finite"),
        ("a=", "not a number"),
    ],
)
def test_parse_set_errors(text: str, fragment: str) -> None:
    with pytest.raises(SdmodelError, match=fragment) as info:
        parse_set(text)
    assert repr(text) in str(info.value)


def test_merge_settings_order_and_shapes(tiny_dir, tiny_info) -> None:
    sc = load_scenario("central", tiny_info, tiny_dir / "scenarios")
    settings = merge_settings(
        sc, [("hiring rate", 0.03), ("Displacement rate[low]", 0.2)], tiny_info
    )
    assert settings == {
        "Hiring rate": 0.03,  # --set wins over the scenario's 0.02
        "Displacement rate": {"middle": 0.05, "low": 0.2},
        "Initial employment": {"low": 1100.0, "high": 1400.0},
    }
    none = load_scenario("no_further_ai", tiny_info, tiny_dir / "scenarios")
    assert merge_settings(none, {}, tiny_info) == {
        "Displacement rate": {"low": 0.0, "middle": 0.0, "high": 0.0}  # scalar -> all
    }
    with pytest.raises(SdmodelError, match="--set 'Hirng rate'"):
        merge_settings(None, [("Hirng rate", 1.0)], tiny_info)


def test_to_pysd_params(tiny_model, tiny_info) -> None:
    tiny_model.reload()
    settings = {"Hiring rate": 0.03, "Displacement rate": {"middle": 0.5}}
    params = to_pysd_params(settings, tiny_model, tiny_info)
    assert params["hiring_rate"] == 0.03
    rate = params["displacement_rate"]
    assert isinstance(rate, xr.DataArray) and rate.dims == ("Skill",)
    np.testing.assert_array_equal(rate.sel(Skill=["low", "middle", "high"]), [0.01, 0.5, 0.03])


# --- runner ---------------------------------------------------------------------------


def euler_employment(e0, hiring, displacement, years, dt=1 / 16):
    """Closed form of Euler integration of dE/dt = (h - d) E."""
    steps = np.rint(np.asarray(years) / dt)
    return (
        np.asarray(e0)[None, :]
        * (1 + (hiring - np.asarray(displacement))[None, :] * dt) ** (steps[:, None])
    )


def test_run_dims_constants_and_values(tiny_run) -> None:
    ds = tiny_run
    assert list(ds["scenario"].values) == ["no_further_ai", "central"]
    assert list(ds["skill"].values) == ["low", "middle", "high"]
    np.testing.assert_allclose(ds["time"].values, 2024 + 0.25 * np.arange(25), rtol=0, atol=0)
    assert ds["employment"].dims == ("scenario", "time", "skill")
    assert ds["total_employment"].dims == ("scenario", "time")
    assert ds["displacement_rate"].dims == ("scenario", "skill")  # constants: no time
    assert ds["hiring_rate"].dims == ("scenario",)
    assert "effect_lookup" not in ds and "time_step" not in ds
    np.testing.assert_array_equal(
        ds["displacement_rate"].sel(scenario="central"), [0.01, 0.05, 0.03]
    )
    np.testing.assert_array_equal(
        ds["initial_employment"].sel(scenario="central"), [1100, 2000, 1400]
    )
    np.testing.assert_array_equal(ds["average_wage"], [50000, 50000])  # override on both
    years = ds["time"].values - 2024
    central = ds["employment"].sel(scenario="central").values
    expected = euler_employment([1100, 2000, 1400], 0.02, [0.01, 0.05, 0.03], years)
    np.testing.assert_allclose(central, expected, rtol=1e-12)
    baseline = ds["employment"].sel(scenario="no_further_ai").values
    np.testing.assert_allclose(
        baseline, euler_employment([1000, 2000, 1500], 0.015, [0] * 3, years), rtol=1e-12
    )


def test_run_metadata(tiny_run, tiny_mdl) -> None:
    ds = tiny_run
    var = ds["wage_bill"]
    assert var.attrs["long_name"] == "Wage bill"
    assert var.attrs["vensim_units"] == "EUR/Year"
    assert var.attrs["comment"] == "Total wages."
    assert var.attrs["kind"] == "auxiliary"
    assert ds.attrs["model_file"] == "tiny.mdl"
    assert len(ds.attrs["model_sha256"]) == 64
    record = json.loads(ds.attrs["scenarios"])
    assert [s["name"] for s in record["scenarios"]] == ["no_further_ai", "central"]
    assert record["overrides"] == {"Average wage": 50000.0}


def test_scenarios_do_not_leak(tiny_run, tiny_dir, tiny_mdl) -> None:
    # central changes the hiring rate that no_further_ai leaves at the model's value: run
    # it first so that a leak would show up in no_further_ai
    reverse = run_scenarios(
        ["central", "no_further_ai"],
        [("Average wage", 50000.0)],
        tiny_mdl,
        scenario_dir=tiny_dir / "scenarios",
    )
    assert reverse["hiring_rate"].sel(scenario="no_further_ai") == 0.015
    xr.testing.assert_identical(
        reverse.drop_attrs().sel(scenario="no_further_ai"),
        tiny_run.drop_attrs().sel(scenario="no_further_ai"),
    )


def test_run_errors(tiny_dir, tiny_mdl, tmp_path) -> None:
    with pytest.raises(SdmodelError, match="unknown engine 'vensim'"):
        run_scenarios(["central"], None, tiny_mdl, engine="vensim", scenario_dir=tiny_dir)
    with pytest.raises(SdmodelError, match="--set 'Hirng rate'"):
        run_scenarios(
            ["central"], [("Hirng rate", 1.0)], tiny_mdl, scenario_dir=tiny_dir / "scenarios"
        )
    with pytest.raises(SdmodelError, match="model file not found"):
        run_scenarios(["central"], None, tmp_path / "x.mdl", scenario_dir=tiny_dir / "scenarios")


# --- the project's own scenarios ------------------------------------------------------


@requires_model
def test_project_scenarios_validate_against_the_model(real_info) -> None:
    names = available_scenarios()
    assert names[:4] == ["no_further_ai", "conservative", "central", "explosive"]
    for name in names:
        sc = load_scenario(name, real_info, SCENARIO_DIR)
        assert sc.description and sc.sources, name


def test_uncertainty_spec_is_not_a_scenario() -> None:
    """scenarios/ also holds uncertainty.toml, which `sdmodel run` must not run."""
    assert (SCENARIO_DIR / "uncertainty.toml").is_file()
    assert available_scenarios() == ["no_further_ai", "conservative", "central", "explosive"]


@requires_model
@pytest.mark.parametrize(
    ("name", "bad", "word"),
    [
        ("WW replacement rate higher", 1.5, "maximum 1"),
        ("WW replacement rate lower", -0.1, "minimum 0"),
        ("WW maximum duration", 2.0, "minimum 3"),
        ("AWf premium rule switch", 2.0, "maximum 1"),
        ("Retraining capacity investment", -100.0, "minimum 0"),
        ("Capacity response to waiting list", -1.0, "minimum 0"),
        ("Adoption support factor", -0.5, "minimum 0"),
        ("AWf premium adjustment time", 0.0, "minimum 0.0625"),
        ("AWf balance restoration horizon", 0.0, "minimum 0.0625"),
    ],
)
def test_policy_levers_outside_their_declared_range_are_rejected(name, bad, word):
    """Each policy lever declares its range in the .mdl; a value outside gets one line."""
    info = load_info(MODEL_PATH)
    with pytest.raises(SdmodelError, match=f"{name}.*{word}"):
        merge_settings(None, {name: bad}, info)
    bound = float(word.split()[-1])  # the declared bound itself is accepted
    assert merge_settings(None, {name: bound}, info)[name] == bound
