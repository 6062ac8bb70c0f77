"""Issue 13: every bad input gets a clean answer.

Exit status 2, one line on stderr naming the culprit and the cause, no traceback and no
output left behind (:func:`sdmodel.testing.assert_user_error`). Small inputs only: tiny
models written here, options refused before any run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdmodel.cli import main
from sdmodel.testing import assert_user_error
from tests.conftest import requires_model

CONTROL = """INITIAL TIME = 0 ~ year ~ |
FINAL TIME = 2 ~ year ~ |
TIME STEP = 1 ~ year ~ |
SAVEPER = TIME STEP ~ year ~ |
"""
#: Models the engine refuses: ``(equations, culprit in the error line)``.
UNSUPPORTED = {
    "random": ("x = RANDOM UNIFORM(0, 1, 0) ~ dmnl ~ |\ns = INTEG(x, 0) ~ dmnl ~ |\n", "'x'"),
    "loop": ("a = b + 1 ~ dmnl ~ |\nb = a * 2 ~ dmnl ~ |\n", "a -> b -> a"),
}
SCENARIO = 'name = "s"\ndescription = "no settings"\nsources = ["test"]\n'


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of this test's own: every model is translated afresh (pysd's warnings)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SDMODEL_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


# --- row 1: constructs the engine cannot compile ---------------------------------------
@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_run_refuses_unsupported_construct(tmp_path, fresh_cache, out_dir, scenario, case) -> None:
    equations, culprit = UNSUPPORTED[case]
    mdl = tmp_path / f"{case}.mdl"
    mdl.write_text(equations + CONTROL, encoding="utf-8")
    result = invoke("run", "--model", mdl, "--scenario", scenario, "--out", out_dir / "x.nc")
    assert_user_error(result, f"{case}.mdl: element", out_dir, out_existed=True)
    assert culprit in result.stderr and "unsupported construct" in result.stderr


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_shock_run_refuses_unsupported_construct(tmp_path, fresh_cache, case) -> None:
    equations, culprit = UNSUPPORTED[case]
    mdl = tmp_path / f"{case}.mdl"
    mdl.write_text(equations + CONTROL, encoding="utf-8")
    out = tmp_path / "shock"
    result = invoke("shock", "run", "--share", "0.1", "--model", mdl, "--out", out)
    assert_user_error(result, f"{case}.mdl: element", out)
    assert culprit in result.stderr


# --- row 6: an empty or non-Vensim model file ------------------------------------------
@pytest.mark.parametrize("text", ["", "hello, this is not a Vensim model\n"])
@pytest.mark.parametrize("command", ["run", "info"])
def test_not_a_vensim_model_is_one_line(
    tmp_path, fresh_cache, out_dir, scenario, text, command
) -> None:
    mdl = tmp_path / "junk.mdl"
    mdl.write_text(text, encoding="utf-8")
    if command == "run":
        args = ["run", "--model", mdl, "--scenario", scenario, "--out", out_dir / "x.nc"]
    else:
        args = ["info", "--model", mdl]
    result = invoke(*args)
    assert_user_error(result, "junk.mdl", out_dir, out_existed=True)
    # the parser's own complaint, not pysd's encoding warning (an error under pytest)
    assert "cannot translate" in result.stderr and "No encoding" not in result.stderr
    assert "line 1, column" in result.stderr


# --- row 2: a binary file where a TOML file belongs --------------------------------------
#: Not UTF-8: 0xff can start no UTF-8 sequence.
BINARY = b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01"


@requires_model
def test_sweep_refuses_binary_spec(tmp_path, out_dir) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_bytes(BINARY)
    result = invoke("sweep", "--spec", spec, "--runs", "2", "--out", out_dir / "e.nc", "--quiet")
    assert_user_error(result, "spec.toml: not a UTF-8 text file", out_dir, out_existed=True)
    assert "byte 0x89 at offset 0" in result.stderr


def test_run_refuses_binary_scenario(tmp_path, fresh_cache, out_dir) -> None:
    mdl = tmp_path / "ok.mdl"
    mdl.write_text("x = 1 ~ dmnl ~ |\n" + CONTROL, encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(BINARY)
    result = invoke("run", "--model", mdl, "--scenario", bad, "--out", out_dir / "x.nc")
    assert_user_error(result, "bad.toml: not a UTF-8 text file", out_dir, out_existed=True)


# --- row 3: seeds outside what the files can record ------------------------------------
@pytest.mark.parametrize("seed", [str(2**64), "-1", "abc"])
@pytest.mark.parametrize("command", [["sweep"], ["shock", "run", "--share", "0.1"]])
def test_seed_out_of_range(tmp_path, seed, command) -> None:
    out = tmp_path / "out"
    result = invoke(*command, f"--seed={seed}", "--runs", "2", "--out", out)
    assert_user_error(result, f"--seed: '{seed}'" if seed == "abc" else f"--seed: {seed}", out)
    if seed != "abc":
        assert "[0, 2**64 - 1]" in result.stderr


def test_seed_range_edges_are_accepted() -> None:
    from sdmodel.cli.common import SeedType
    from sdmodel.experiments.sampling import SEED_MAX, sample
    from sdmodel.experiments.uncertainty import parse_spec

    assert SEED_MAX == 2**64 - 1
    assert SeedType().convert(str(SEED_MAX), None, None) == SEED_MAX
    assert SeedType().convert("0", None, None) == 0
    spec = parse_spec(
        {
            "parameter": [
                {"name": "A", "distribution": "uniform", "lower": 0, "upper": 1, "source": "test"}
            ]
        },
        None,
    )
    assert sample(spec, 4, seed=SEED_MAX).values.shape == (4, 1)  # numpy takes it


def test_python_api_checks_the_seed(tmp_path) -> None:
    from sdmodel.errors import SdmodelError
    from sdmodel.experiments.sweep import SweepOptions, plan_sweep

    with pytest.raises(SdmodelError, match=r"--seed: 18446744073709551616 is outside"):
        plan_sweep(SweepOptions(seed=2**64, out=tmp_path / "e.nc"))


# --- row 5: scheduler addresses distributed cannot use ----------------------------------
@pytest.mark.parametrize(
    ("address", "cause"),
    [
        ("not a url", "is not a scheduler address"),
        ("tcp://host", "no valid port number"),
        ("host:http", "no valid port number"),
        ("tcp://:8786", "no host"),
        ("tcp://host:99999", "outside 1-65535"),
        ("htp://host:8786", "unknown protocol 'htp'"),
    ],
)
def test_bad_scheduler_address(tmp_path, address, cause) -> None:
    out = tmp_path / "e.nc"
    result = invoke("sweep", "--scheduler", address, "--runs", "2", "--out", out, "--quiet")
    assert_user_error(result, f"--scheduler: {address!r}", out)
    assert cause in result.stderr


@pytest.mark.parametrize(
    "address", ["tcp://127.0.0.1:8786", "localhost:8786", "tls://h.example:1", "inproc://x/1"]
)
def test_good_scheduler_addresses_pass(address) -> None:
    from sdmodel.experiments.executors import check_scheduler_address

    assert check_scheduler_address(address) == address  # checked only; nothing connects


# --- row 4: more runs than the machine's memory ------------------------------------------
def test_sweep_memory_parts_are_exact_sizes() -> None:
    from sdmodel.experiments.memory import sweep_memory

    parts = sweep_memory(n_runs=10, n_params=3, chunk=4, values_per_run=[27, 54], itemsize=4)
    # design: u and values (10 x 3 float64); a chunk: 4 runs x 81 values x 4 bytes;
    # summary: the larger variable's 10 runs x 54 values in float64. Exact (integers).
    assert parts == {"design": 2 * 10 * 3 * 8, "chunk": 4 * 81 * 4, "summary": 10 * 54 * 8}
    assert sweep_memory(3, 0, 2000, [5], 8)["chunk"] == 3 * 5 * 8  # chunk capped at n_runs


def test_check_sweep_memory_refuses_only_beyond_the_machine() -> None:
    from sdmodel.errors import SdmodelError
    from sdmodel.experiments.memory import check_sweep_memory

    parts = {"design": 600, "chunk": 300, "summary": 124}  # 1024 bytes in all
    check_sweep_memory(parts, 5, available=1024)  # fits exactly
    check_sweep_memory(parts, 5, available=None)  # unknown machine: no check
    with pytest.raises(SdmodelError, match=r"--runs 5: .* at least 1.0 KiB .* has 1023 B"):
        check_sweep_memory(parts, 5, available=1023)


@requires_model
def test_sweep_refuses_runs_beyond_memory(tmp_path, out_dir) -> None:
    from sdmodel.experiments.memory import format_bytes, machine_memory

    out = out_dir / "e.nc"
    result = invoke("sweep", "--runs", 10**12, "--out", out, "--quiet", "--no-figures")
    culprit = "--runs 1000000000000: the sweep needs at least"
    assert_user_error(result, culprit, out_dir, out_existed=True)
    assert f"this machine has {format_bytes(machine_memory())}" in result.stderr


@requires_model
def test_small_sweep_estimate_passes_and_matches_the_plan(tmp_path) -> None:
    from sdmodel.experiments.memory import machine_memory, sweep_memory
    from sdmodel.experiments.sweep import SweepOptions, plan_sweep

    plan = plan_sweep(SweepOptions(n_runs=8, chunk=4, out=tmp_path / "e.nc"))
    per_run = [int(v.size) for v in plan.template.data_vars.values()]
    parts = sweep_memory(8, plan.sample.values.shape[1], 4, per_run, 8)
    assert parts["design"] == 2 * plan.sample.values.nbytes  # the design the plan drew
    assert sum(parts.values()) < machine_memory()
    assert list(tmp_path.iterdir()) == []  # planning writes nothing


# --- row 7: a cache directory that cannot be written -------------------------------------
def _read_only_dir(tmp_path: Path) -> Path:
    """An existing directory this process cannot write in."""
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if not os.access(ro, os.W_OK):
        return ro
    # root ignores mode bits; sysfs refuses new files and directories even to root
    if Path("/sys").is_dir() and not _can_create_in(Path("/sys")):
        return Path("/sys")
    pytest.skip("no directory this process cannot write in")


def _can_create_in(path: Path) -> bool:
    try:
        (path / ".sdmodel-probe").mkdir()
    except OSError:
        return False
    (path / ".sdmodel-probe").rmdir()
    return True


@pytest.mark.parametrize("where", ["existing", "missing"])
def test_read_only_cache_dir(tmp_path, out_dir, scenario, monkeypatch, where) -> None:
    ro = _read_only_dir(tmp_path)
    cache = ro if where == "existing" else ro / "cache"
    monkeypatch.setenv("SDMODEL_CACHE_DIR", str(cache))
    mdl = tmp_path / "ok.mdl"
    mdl.write_text("x = 1 ~ dmnl ~ |\n" + CONTROL, encoding="utf-8")
    try:
        result = invoke("run", "--model", mdl, "--scenario", scenario, "--out", out_dir / "x.nc")
    finally:
        (tmp_path / "ro").chmod(0o755)  # let pytest clean up
    assert_user_error(result, f"cache directory {cache} is not writable", out_dir, out_existed=True)
    assert "set SDMODEL_CACHE_DIR to a writable directory" in result.stderr


# --- click's own usage errors: one line as well -------------------------------------------
@pytest.mark.parametrize(
    "args, culprit",
    [
        (("sweep", "--runs", "abc"), "Invalid value for '--runs': 'abc' is not a valid integer"),
        (("sweep", "--bogus"), "No such option '--bogus'"),
        (("run", "--engine", "x"), "Invalid value for '--engine': 'x' is not one of"),
        (("nosuch",), "No such command 'nosuch'"),
        (("shock", "run", "--share"), "Option '--share' requires an argument"),
    ],
)
def test_click_usage_errors_are_one_line(tmp_path, args, culprit) -> None:
    result = invoke(*args)
    assert_user_error(result, culprit, tmp_path / "nothing")
    if args[0] == "sweep":  # the help to read is the subcommand's
        assert result.stderr.rstrip().endswith(" sweep --help')"), result.stderr


def test_help_and_version_still_work() -> None:
    for args in (("--help",), ("sweep", "--help"), ("--version",)):
        result = invoke(*args)
        assert result.exit_code == 0 and result.stderr == "", result.output
    bare = invoke()  # a group without a command shows its help, as click does
    assert bare.exit_code == 2 and "Usage: " in bare.output and "Commands:" in bare.output
