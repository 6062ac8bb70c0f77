"""``sdmodel compare``: policy variants against the baseline (library and CLI), policy
files, the measure table, output files, user errors, and ``--policy-file`` for shocks.

All runs use the ensemble engine on the real model. Tolerances: a variant that changes
nothing reproduces the baseline exactly (0, not approximately); compare's numbers equal
a direct engine run of the same settings to 1e-12 relative (the same arithmetic, only
the reductions may be ordered differently); reruns with the same seed are bit-identical.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sdmodel.cli import main
from sdmodel.errors import SdmodelError
from sdmodel.experiments.compare import CompareModel, case_params, run_compare
from sdmodel.experiments.measures import MEASURES, PENDING_VARIABLES, Measure, resolve_measures
from sdmodel.io.netcdf import read_netcdf, to_cf
from sdmodel.io.paths import MODEL_PATH, SCENARIO_DIR
from sdmodel.model.policies import POLICY_DIR, Policy, available_policies, load_policy
from sdmodel.model.scenarios import load_scenario
from sdmodel.shocks.spec import POLICY_LEVERS
from sdmodel.testing import assert_cf_compliant, assert_user_error, file_contents
from tests.conftest import requires_model

pytestmark = requires_model
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SHOCK_FILE = SCENARIO_DIR / "shocks" / "middle_5pct_2027.toml"
WW_GENEROUS = POLICY_DIR / "ww_generous.toml"


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def write_policy(directory: Path, stem: str, constants: str, **top: str) -> Path:
    path = directory / f"{stem}.toml"
    head = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in top.items())
    if "description" not in top:
        head += 'description = "test variant"\n'
    path.write_text(head + "[constants]\n" + constants, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def model() -> CompareModel:
    return CompareModel.load(MODEL_PATH)


def policy(name: str, **constants: float) -> Policy:
    return Policy(name, "test", dict(constants))


# --- the measure table ---------------------------------------------------------------


def test_every_measure_resolves_except_pending(model) -> None:
    kept, notes = resolve_measures(model.info, model.period)
    names = {e.name for e in model.info}
    for m in MEASURES:
        missing = [v for v in m.variables if v not in names]
        assert set(missing) <= PENDING_VARIABLES, (m.key, missing)
        assert (m in kept) == (not missing), m.key
    for variable in PENDING_VARIABLES:
        note = f"{variable[0].lower()}{variable[1:]}: not in this model version"
        assert (note in notes) == (variable not in names)
    assert len(kept) >= 13 and len({m.key for m in MEASURES}) == len(MEASURES)


def test_pending_variable_left_out_with_one_note(model) -> None:
    """A measure on an announced variable the model lacks is dropped with one note; the
    model now has every variable of the table, so nothing is dropped by default."""
    kept, notes = resolve_measures(model.info, model.period)
    assert notes == () and len(kept) == len(MEASURES)
    future = Measure("future_measure", "Future measure", "Future variable", "max")
    kept, notes = resolve_measures(
        model.info, model.period, (*MEASURES, future), frozenset({"Future variable"})
    )
    assert notes == ("future variable: not in this model version",)
    assert future not in kept and len(kept) == len(MEASURES)


@pytest.mark.parametrize(
    ("change", "culprit"),
    [
        ({"variable": "Unemployment rat"}, "'Unemployment rat'"),
        ({"per": "GPD"}, "'GPD'"),
        ({"variable": "Employment"}, "subscripted"),
        ({"statistic": "mean"}, "'mean'"),
        ({"statistic": "at", "year": 2051}, "2051"),
    ],
)
def test_a_wrong_measure_is_an_error_not_a_silent_gap(model, change, culprit) -> None:
    bad = replace(MEASURES[0], **change)
    with pytest.raises(SdmodelError, match=culprit):
        resolve_measures(model.info, model.period, (*MEASURES[:3], bad))


# --- policy files --------------------------------------------------------------------


def test_shipped_policy_files_load_and_use_levers(model) -> None:
    names = available_policies()
    assert len(names) >= 3
    levers = {e.name for e in model.info if e.comment.startswith("Policy lever")}
    for name in names:
        p = load_policy(POLICY_DIR / f"{name}.toml", model.info)
        assert p.name == name and p.description and p.constants, name
        assert {k.split("[")[0] for k in p.constants} <= levers, name


def test_policy_file_elements_and_order(model, tmp_path) -> None:
    path = write_policy(
        tmp_path,
        "mixed",
        '"retraining_success_probability" = 0.5\n'
        '"Retraining success probability" = { low = 0.6, HIGH = 0.7 }\n'
        '"ww maximum duration" = 18\n',
    )
    p = load_policy(path, model.info)
    assert p.name == "mixed" and p.path == path
    assert p.constants == {
        "Retraining success probability": 0.5,
        "Retraining success probability[low]": 0.6,
        "Retraining success probability[high]": 0.7,
        "WW maximum duration": 18.0,
    }


# --- library: the numbers ------------------------------------------------------------


def test_unchanged_variants_reproduce_the_baseline_bit_for_bit(model) -> None:
    cm = model.cm
    defaults = {
        name: float(cm.constants[cm.elements[cm.resolve(name)]["name"]]) for name in POLICY_LEVERS
    }
    result = run_compare(
        model,
        [
            policy("nothing"),
            policy("defaults", **defaults),
            policy("ww", **{POLICY_LEVERS[0]: 0.8}),
        ],
        ["central", "explosive"],
    )
    assert result.variants == ("baseline", "nothing", "defaults", "ww")
    for m in result.measures:
        diff = result.difference(m.key)
        assert np.all(diff[:, :3] == 0.0), m.key  # exactly: the same arithmetic
    for name, x in result.series.items():
        assert np.array_equal(x[:, 1], x[:, 0]) and np.array_equal(x[:, 2], x[:, 0]), name
    assert np.any(result.difference("cumulative_ww_outlays")[:, 3] != 0.0)


def test_higher_ww_rate_raises_outlays_as_a_direct_engine_run_says(model) -> None:
    """Compare's numbers are the engine's numbers for the same settings (1e-12 relative)."""
    lever = "WW replacement rate higher"
    result = run_compare(model, [policy("ww_higher", **{lever: 0.85})], ["central"])
    cm, step = model.cm, model.controls["time_step"]
    constants = dict(load_scenario("central").constants)
    direct = {}
    for case, extra in (("baseline", {}), ("ww_higher", {lever: 0.85})):
        out, t = cm.run_arrays(
            1,
            params={**constants, **extra},
            variables=["WW outlays", "Unemployment rate", "AWf balance"],
            saveper=step,
        )
        t = np.asarray(t)
        direct[case] = {
            "cumulative_ww_outlays": out["ww_outlays"][0][t < 2050 - 1e-9].sum() * step,
            "peak_ww_outlays": out["ww_outlays"][0].max(),
            "unemployment_rate_2040": out["unemployment_rate"][0][np.isclose(t, 2040)][0],
            "awf_balance_trough": out["awf_balance"][0].min(),
        }
    for j, case in enumerate(result.variants):
        for key, value in direct[case].items():
            np.testing.assert_allclose(result.values[key][0, j, 0], value, rtol=1e-12, err_msg=key)
    extra = result.difference("cumulative_ww_outlays")[0, 1, 0]
    assert extra > 0  # a higher replacement rate pays more benefit
    np.testing.assert_allclose(
        extra,
        direct["ww_higher"]["cumulative_ww_outlays"] - direct["baseline"]["cumulative_ww_outlays"],
        rtol=1e-9,  # a difference of two sums that agree to 1e-12 each
    )
    table = result.table()
    row = table[(table.variant == "ww_higher") & (table.measure == "cumulative_ww_outlays")]
    assert row["difference"].item() == pytest.approx(extra * 1e-9, rel=1e-12)
    assert row["difference_p05"].isna().all()


def test_draws_are_paired_and_reproducible(model) -> None:
    variants = [policy("nothing"), policy("short", **{"WW maximum duration": 12})]
    first = run_compare(model, variants, ["central"], runs=20, seed=1)
    again = run_compare(model, variants, ["central"], runs=20, seed=1)
    assert first.seed == 1 and first.runs == 20
    for key, values in first.values.items():
        assert np.array_equal(values, again.values[key], equal_nan=True), key
        assert np.all(first.difference(key)[:, 1] == 0.0), key  # same draws as the baseline
    for name, x in first.series.items():
        assert np.array_equal(x, again.series[name], equal_nan=True), name
    assert np.ptp(first.values["peak_unemployment_rate"][0, 0]) > 0  # the draws differ
    ds = first.dataset()
    assert list(ds["quantile"].values) == [0.05, 0.5, 0.95]
    band = ds["cumulative_ww_outlays_difference"].sel(variant="nothing")
    assert np.all(band.values == 0.0)
    assert np.all(ds["ww_outlays_difference"].sel(variant="nothing").values == 0.0)
    table = first.table()
    zero = table[table.variant == "nothing"]
    assert (zero[["difference", "difference_p05", "difference_p95"]].to_numpy() == 0).all()
    other = run_compare(model, variants, ["central"], runs=20, seed=2)
    assert not np.array_equal(other.values["peak_ww_outlays"], first.values["peak_ww_outlays"])


def test_a_policy_wins_over_the_draw_of_what_it_sets(model) -> None:
    draws = {"Scarring factor": np.linspace(0.4, 0.6, 5), "Base adoption delay[low]": np.ones(5)}
    cases = [None, policy("fixed", **{"Scarring factor": 0.3, "Base adoption delay": 7.0})]
    sc = load_scenario("central", model.info)
    from sdmodel.model.policies import apply_policy

    settings = [apply_policy(sc, p, model.info) for p in cases]
    params = case_params(model, settings, cases, draws, 5)
    scarring, delay = params["scarring_factor"], params["base_adoption_delay"]
    assert np.array_equal(scarring[:5], draws["Scarring factor"])
    assert np.all(scarring[5:] == 0.3)
    assert np.all(delay[:5, 0] == 1.0) and np.all(delay[5:] == 7.0)


# --- the command: files and report ---------------------------------------------------


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, model):
    out = tmp_path_factory.mktemp("compare") / "out"
    result = invoke(
        "compare", "--scenario", "central", "--scenario", "explosive",
        "--policy-file", WW_GENEROUS, "--policy", "WW maximum duration=18", "--out", out,
    )  # fmt: skip
    library = run_compare(
        model,
        [
            load_policy(WW_GENEROUS, model.info),
            policy("command line", **{"WW maximum duration": 18}),
        ],
        ["central", "explosive"],
    )
    return result, out, library


def test_cli_writes_table_and_files(cli_run) -> None:
    result, out, library = cli_run
    assert result.exit_code == 0, (result.output, result.exception)
    assert sorted(p.name for p in out.iterdir()) == ["compare.csv", "compare.nc", "compare.png"]
    assert "scenario central" in result.stdout and "scenario explosive" in result.stdout
    assert "ww_generous" in result.stdout and "command line" in result.stdout
    has_balance = any(m.variable == "Public balance" for m in library.measures)
    note = "note: public balance: not in this model version"
    assert (note in result.stdout.splitlines()) == (not has_balance)
    assert (out / "compare.png").read_bytes().startswith(PNG_MAGIC)


def test_a_failure_while_writing_leaves_nothing(tmp_path, monkeypatch) -> None:
    import sdmodel.experiments.compare_report

    def fail(*args, **kwargs):
        raise SdmodelError("figure failed")

    monkeypatch.setattr(sdmodel.experiments.compare_report, "plot_compare", fail)
    out = tmp_path / "out"
    result = invoke("compare", "--policy-file", WW_GENEROUS, "--out", out)
    assert_user_error(result, "figure failed", out)  # compare.csv and compare.nc removed


def test_csv_matches_the_table(cli_run) -> None:
    result, out, library = cli_run
    rows = list(csv.DictReader((out / "compare.csv").read_text(encoding="utf-8").splitlines()))
    expected = library.table()
    assert len(rows) == len(expected) == 2 * 3 * len(library.measures)
    assert all(r["unit"] for r in rows)  # a long table: each row names its values' unit
    text = ("scenario", "variant", "measure", "label", "statistic", "unit")
    back = pd.read_csv(out / "compare.csv", dtype=dict.fromkeys(text, str))
    pd.testing.assert_frame_equal(back, expected, check_exact=True)  # full precision
    peak = expected[
        (expected.scenario == "central")
        & (expected.variant == "ww_generous")
        & (expected.measure == "peak_ww_outlays")
    ]
    # the terminal table shows the same numbers, rounded to its format
    line = next(x for x in result.stdout.splitlines() if x.startswith("Peak WW outlays"))
    assert f"{peak['value'].item():,.2f}" in line.split()
    assert f"{peak['difference'].item():+,.2f}" in line.split()


def test_netcdf_round_trips_with_cf_attributes(cli_run) -> None:
    _, out, library = cli_run
    path = out / "compare.nc"
    assert_cf_compliant(path)
    ds = read_netcdf(path)
    expected = to_cf(library.dataset())
    assert set(ds.data_vars) == set(expected.data_vars)
    for name, var in expected.data_vars.items():
        assert ds[name].dims == var.dims, name
        np.testing.assert_array_equal(ds[name].values, var.values, err_msg=name)
        assert ds[name].attrs["units"] and ds[name].attrs["long_name"], name
        if "time" in var.dims:  # the project's layout: time first (CDO reads it)
            assert var.dims[0] == "time", name
    assert ds["ww_outlays"].attrs["currency"].startswith("EUR")
    assert ds["time"].attrs["calendar"] == "365_day"
    assert list(ds["variant"].values) == ["baseline", "ww_generous", "command line"]
    assert ds.attrs["model_sha256"] and ds.attrs["n_runs"] == 1
    assert [p["name"] for p in json.loads(ds.attrs["policies"])] == ["ww_generous", "command line"]
    assert "sdmodel compare --policy-file" in ds.attrs["history"]


def test_cli_runs_are_bit_identical_with_the_same_seed(tmp_path) -> None:
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        result = invoke(
            "compare", "--policy-file", WW_GENEROUS, "--runs", 20, "--seed", 1, "--out", out
        )
        assert result.exit_code == 0, (result.output, result.exception)
        assert "20 parameter draws (seed 1)" in result.stdout
    a, b = (file_contents(out / "compare.nc") for out in outs)
    assert a == b
    assert (outs[0] / "compare.csv").read_bytes() == (outs[1] / "compare.csv").read_bytes()
    assert "quantile" in read_netcdf(outs[0] / "compare.nc").dims


# --- user errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("constants", "culprit"),
    [
        ('"WW replacment rate higher" = 0.8\n', "'WW replacment rate higher'"),
        ('"Wage adjustment time" = 0.1\n', "below the minimum 0.25"),
        ('"Retraining success probability" = { lowest = 0.5 }\n', "'lowest'"),
        ('"WW outlays" = 1\n', "not a constant"),
        ('"WW maximum duration" = "long"\n', "not a number"),
        ('"WW maximum duration" = \n', "malformed TOML"),
    ],
)
def test_bad_policy_file(tmp_path, constants: str, culprit: str) -> None:
    path = write_policy(tmp_path, "bad", constants)
    out = tmp_path / "out"
    result = invoke("compare", "--policy-file", path, "--out", out)
    assert_user_error(result, culprit, out)
    assert str(path) in result.stderr


@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        (("--scenario", "nope"), "'nope'"),
        (("--policy", "Scarring factor=0.1"), "Scarring factor"),
        (("--policy", "WW maximum duration=abc"), "'abc'"),
        (("--runs", "0"), "--runs"),
        (("--spec", "missing.toml", "--runs", "3"), "missing.toml"),
        (("--policy-file", "nowhere.toml"), "nowhere.toml"),
        (("--policy-file", WW_GENEROUS, "--policy-file", WW_GENEROUS), "repeat"),
    ],
)
def test_bad_options(tmp_path, args, culprit: str) -> None:
    out = tmp_path / "out"
    if "--policy-file" not in args:
        args = (*args, "--policy-file", WW_GENEROUS)
    assert_user_error(invoke("compare", *args, "--out", out), culprit, out)


def test_no_variants_and_unwritable_out(tmp_path) -> None:
    out = tmp_path / "out"
    assert_user_error(invoke("compare", "--out", out), "no policy variants", out)
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = invoke("compare", "--policy-file", WW_GENEROUS, "--out", blocker)
    assert result.exit_code == 2 and "not a directory" in result.stderr
    assert blocker.read_text() == "" and sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_missing_description_and_baseline_name(tmp_path) -> None:
    out = tmp_path / "out"
    path = tmp_path / "nodesc.toml"
    path.write_text('[constants]\n"WW maximum duration" = 12\n')
    assert_user_error(invoke("compare", "--policy-file", path, "--out", out), "description", out)
    path = write_policy(tmp_path, "b", '"WW maximum duration" = 12\n', name="baseline")
    assert_user_error(invoke("compare", "--policy-file", path, "--out", out), "baseline", out)


# --- shocks take the same policy files ------------------------------------------------


def test_shock_run_takes_a_policy_file(tmp_path) -> None:
    by_file, by_flags = tmp_path / "file", tmp_path / "flags"
    result = invoke("shock", SHOCK_FILE, "--policy-file", WW_GENEROUS, "--out", by_file)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "policy WW replacement rate higher=0.8, WW replacement rate lower=0.75" in result.stdout
    flags = invoke(
        "shock", SHOCK_FILE, "--policy", "WW replacement rate higher=0.8",
        "--policy", "WW replacement rate lower=0.75", "--out", by_flags,
    )  # fmt: skip
    assert flags.exit_code == 0, (flags.output, flags.exception)
    # the file and the same levers as flags are one variant: the same report
    assert (by_file / "metrics.csv").read_text() == (by_flags / "metrics.csv").read_text()
    ds = read_netcdf(by_file / "timeseries.nc")
    assert json.loads(ds.attrs["policy_files"])[0]["name"] == "ww_generous"


def test_shock_grid_takes_policy_files_as_variants(tmp_path) -> None:
    out = tmp_path / "grid"
    result = invoke(
        "shock", "grid", "--sizes", "5%", "--months", "12", "--policy-file", WW_GENEROUS,
        "--policy-file", POLICY_DIR / "ww_short.toml", "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, (result.output, result.exception)
    rows = list(csv.DictReader((out / "grid.csv").read_text().splitlines()))
    assert [r["variant"] for r in rows[::2]] == ["current policy", "ww_generous", "ww_short"]
    peaks = {
        r["variant"]: float(r["peak_ww_outlays_eur_bn_per_year"])
        for r in rows
        if r["jobs_lost_fraction"] == "0"
    }
    assert peaks["ww_generous"] > peaks["current policy"] > peaks["ww_short"]


def test_shock_policy_file_errors(tmp_path) -> None:
    path = write_policy(tmp_path, "bad", '"Wage adjustment time" = 0.1\n')
    out = tmp_path / "out"
    result = invoke("shock", SHOCK_FILE, "--policy-file", path, "--out", out)
    assert_user_error(result, "below the minimum", out)


def test_shock_policy_with_one_element(model, tmp_path) -> None:
    """A policy file may set one element (``Name[elem]``); shocks apply it as compare does."""
    from sdmodel.shocks.report import case_settings
    from sdmodel.shocks.spec import ShockSpec, load_shock

    p = Policy("one", "test", {"Retraining success probability[low]": 0.7})
    spec = replace(load_shock(SHOCK_FILE), policy=dict(p.constants))
    base, shocked = case_settings("central", [spec], model)
    for settings in (base, shocked):
        assert settings["Retraining success probability"] == {"low": 0.7}
    assert "Shock start" in shocked and "Shock start" not in base
    assert isinstance(spec, ShockSpec)
