"""Issue 13: every bad input gets a clean answer.

Exit status 2, one line on stderr naming the culprit and the cause, no traceback and no
output left behind (:func:`sdmodel.testing.assert_user_error`). Small inputs only: tiny
models written here, options refused before any run.
"""

from __future__ import annotations

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


@pytest.fixture(autouse=True)
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
def test_run_refuses_unsupported_construct(tmp_path, out_dir, scenario, case) -> None:
    equations, culprit = UNSUPPORTED[case]
    mdl = tmp_path / f"{case}.mdl"
    mdl.write_text(equations + CONTROL, encoding="utf-8")
    result = invoke("run", "--model", mdl, "--scenario", scenario, "--out", out_dir / "x.nc")
    assert_user_error(result, f"{case}.mdl: element", out_dir, out_existed=True)
    assert culprit in result.stderr and "unsupported construct" in result.stderr


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_shock_run_refuses_unsupported_construct(tmp_path, case) -> None:
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
def test_not_a_vensim_model_is_one_line(tmp_path, out_dir, scenario, text, command) -> None:
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


def test_run_refuses_binary_scenario(tmp_path, out_dir) -> None:
    mdl = tmp_path / "ok.mdl"
    mdl.write_text("x = 1 ~ dmnl ~ |\n" + CONTROL, encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(BINARY)
    result = invoke("run", "--model", mdl, "--scenario", bad, "--out", out_dir / "x.nc")
    assert_user_error(result, "bad.toml: not a UTF-8 text file", out_dir, out_existed=True)
