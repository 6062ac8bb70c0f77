"""Issue 13: nothing lost, nothing stale; trusted caches; faults get one clean line.

The interruption cases run the CLI in a subprocess that sends itself a real signal at a
chosen moment (a patched writer or plotting function), so the clean-up under test is the
one a user's Ctrl-C, ``kill`` or ``kill -9`` meets. Each asserts that the outputs that
were there before the command are byte-identical afterwards and that no temporary is
left (or, after SIGKILL, that the next run removes it).
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdmodel.cli import main
from sdmodel.io.paths import PROJECT_ROOT
from sdmodel.testing import assert_user_error
from tests.conftest import requires_model

TINY = """x = 1 ~ dmnl ~ |
s = INTEG(x * k, 0) ~ dmnl ~ |
k = 0.5 ~ 1/Year [0, 2] ~ |
T = 1 ~ Year [0.01, 10] ~ a time constant |
y = s / T ~ dmnl/Year ~ |
INITIAL TIME = 0 ~ Year ~ |
FINAL TIME = 4 ~ Year ~ |
TIME STEP = 0.5 ~ Year ~ |
SAVEPER = TIME STEP ~ Year ~ |
"""
SCENARIO = 'name = "s"\ndescription = "no settings"\nsources = ["test"]\n'
#: Seconds a subprocess case may take (model from the warm cache, a few runs).
SUBPROCESS_TIMEOUT = 600


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file below ``directory`` (relative name -> bytes)."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def temporaries(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*.tmp"))


def run_interrupted(patch: str, *args: object, cache: Path) -> subprocess.CompletedProcess:
    """``sdmodel ARGS`` in a fresh interpreter after executing ``patch`` (Python source).

    ``patch`` replaces a function so that the process signals itself at a chosen moment;
    it may use ``os``, ``signal`` and ``KILL(sig)`` (send ``sig`` to this process).
    """
    script = textwrap.dedent(
        """
        import os, signal, sys, time
        def KILL(sig):
            os.kill(os.getpid(), sig)
            time.sleep(30)  # the signal arrives first
        {patch}
        from sdmodel.cli import main
        main()
        """
    ).format(patch=textwrap.indent(textwrap.dedent(patch), "").strip())
    env = {**os.environ, "SDMODEL_CACHE_DIR": str(cache), "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        env=env,
        cwd=PROJECT_ROOT,
    )


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    mdl = tmp_path / "tiny.mdl"
    mdl.write_text(TINY, encoding="utf-8")
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    return mdl, scenario


@pytest.fixture
def shared_cache() -> Path:
    """The suite's cache (the real model is translated and compiled there once)."""
    from sdmodel.io.paths import cache_dir

    return cache_dir()


# --- SIGINT while `run` draws its plot ----------------------------------------------------
@requires_model
def test_sigint_during_run_plot_keeps_previous_outputs(tmp_path, shared_cache) -> None:
    out = tmp_path / "out"
    out.mkdir()
    first = invoke("run", "--scenario", "central", "--out", out / "run.nc")
    assert first.exit_code == 0, first.output
    before = snapshot(out)
    assert set(before) == {"run.nc", "run_overview.png"}
    patch = """
        import sdmodel.plots.overview
        from sdmodel.io.atomic import atomic_path
        def interrupted(ds, path, *a, **k):
            with atomic_path(path) as tmp:
                tmp.write_bytes(b"half a PNG")
                KILL(signal.SIGINT)
        sdmodel.plots.overview.plot_overview = interrupted
    """
    # another run (other values), whose files would differ from the previous ones
    args = ("run", "--scenario", "central", "--set", "Reinstatement strength=0")
    proc = run_interrupted(patch, *args, "--out", out / "run.nc", cache=shared_cache)
    assert proc.returncode == 1 and "Aborted" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert snapshot(out) == before
    assert temporaries(out) == []


# --- SIGTERM and SIGKILL during a sweep; Ctrl-C while it draws its fan charts --------------
def _planted_sweep_outputs(out: Path) -> dict[str, bytes]:
    """Stand-ins for a previous sweep's files (the command never reads them)."""
    from sdmodel.plots.fans import FANS

    (out / "figures").mkdir(parents=True)
    charts = [f"figures/{fan.name}.png" for fan in FANS]  # the names a sweep writes
    for name in ("ensemble.nc", "summary.nc", *charts):
        (out / name).write_bytes(f"previous {name}".encode())
    return snapshot(out)


SWEEP = ("sweep", "--runs", "8", "--scenario", "central", "--chunk", "4", "--quiet")


@requires_model
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_signal_during_sweep_keeps_previous_outputs(tmp_path, shared_cache, sig) -> None:
    out = tmp_path / "out"
    before = _planted_sweep_outputs(out)
    patch = f"""
        import sdmodel.io.ensemble as io
        original = io.EnsembleWriter.write
        calls = []
        def write(self, *a, **k):
            calls.append(1)
            if len(calls) == 2:  # the first chunk is in the temporary file
                KILL(signal.{sig})
            return original(self, *a, **k)
        io.EnsembleWriter.write = write
    """
    proc = run_interrupted(patch, *SWEEP, "--out", out / "ensemble.nc", cache=shared_cache)
    expected = 128 + signal.SIGTERM if sig == "SIGTERM" else 1  # click: "Aborted!", 1
    assert proc.returncode == expected, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert snapshot(out) == before
    assert temporaries(out) == []


@requires_model
def test_sigkill_leaves_a_temporary_that_the_next_sweep_removes(tmp_path, shared_cache) -> None:
    out = tmp_path / "out"
    out.mkdir()
    patch = """
        import sdmodel.io.ensemble as io
        original = io.EnsembleWriter.write
        def write(self, *a, **k):
            original(self, *a, **k)
            KILL(signal.SIGKILL)
        io.EnsembleWriter.write = write
    """
    proc = run_interrupted(patch, *SWEEP, "--out", out / "ensemble.nc", cache=shared_cache)
    assert proc.returncode == -signal.SIGKILL
    stale = temporaries(out)
    assert len(stale) == 1 and stale[0].startswith(".ensemble.nc."), stale  # what it left
    result = invoke(*SWEEP, "--no-figures", "--out", out / "ensemble.nc")
    assert result.exit_code == 0, result.output
    assert temporaries(out) == []
    assert sorted(p.name for p in out.iterdir()) == ["ensemble.nc", "summary.nc"]


@requires_model
def test_sigint_while_drawing_fan_charts_keeps_every_previous_file(tmp_path, shared_cache) -> None:
    out = tmp_path / "out"
    before = _planted_sweep_outputs(out)
    patch = """
        import sdmodel.plots.fans as fp
        original = fp.fan_chart
        drawn = []
        def fan_chart(summary, fan, path):
            if drawn:  # one chart is done (in its temporary file)
                KILL(signal.SIGINT)
            drawn.append(path)
            return original(summary, fan, path)
        fp.fan_chart = fan_chart
    """
    proc = run_interrupted(patch, *SWEEP, "--out", out / "ensemble.nc", cache=shared_cache)
    assert proc.returncode == 1 and "Aborted" in proc.stderr, proc.stderr
    assert snapshot(out) == before  # no new chart beside six stale ones
    assert temporaries(out) == []


def test_stale_temporaries_of_live_processes_are_kept(tmp_path) -> None:
    from sdmodel.io.atomic import remove_stale_temporaries

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    mine = tmp_path / f".x.nc.{os.getpid()}.abc123.tmp"
    gone = tmp_path / f".x.nc.{dead}.abc123.tmp"
    other = tmp_path / ".x.nc.tmp"  # not this module's pattern: never touched
    for path in (mine, gone, other):
        path.write_bytes(b"")
    assert remove_stale_temporaries(tmp_path, "x.nc") == [gone]
    assert mine.exists() and other.exists() and not gone.exists()


# --- a full disk ---------------------------------------------------------------------------
@pytest.fixture
def full_disk(tmp_path: Path):
    """A 1 MiB tmpfs (needs root and mount); skipped where it cannot be made."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        # lazily: a netCDF handle xarray keeps open in this process would block it
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@requires_model
def test_run_on_a_full_disk(full_disk) -> None:
    previous = full_disk / "notes.txt"
    previous.write_bytes(b"kept")
    target = full_disk / "run.nc"
    result = invoke("run", "--scenario", "central", "--out", target)
    assert_user_error(result, f"cannot write {target}: no space left on device", target)
    assert sorted(p.name for p in full_disk.iterdir()) == ["notes.txt"]
    assert previous.read_bytes() == b"kept"


@requires_model
def test_sweep_on_a_full_disk(full_disk) -> None:
    target = full_disk / "ensemble.nc"
    result = invoke(*SWEEP, "--out", target)
    # the ensemble (8 runs) may fit and the summary not: either is named
    assert_user_error(result, f"cannot write {full_disk}/", target)
    assert ".nc: no space left on device" in result.stderr
    assert list(full_disk.iterdir()) == []


# --- trusted caches ------------------------------------------------------------------------
class Payload:
    """A pickle that, when loaded, creates a file: proof that the cache ran it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "executed"))


def _plant_modelinfo(cache: Path, mdl: Path, marker: Path) -> Path:
    from sdmodel.io.paths import file_hash
    from sdmodel.model.info import INFO_CACHE_VERSION

    store = cache / "modelinfo"
    store.mkdir(parents=True, exist_ok=True)
    pkl = store / f"{file_hash(mdl)}-v{INFO_CACHE_VERSION}.pkl"
    pkl.write_bytes(pickle.dumps(Payload(marker)))
    return pkl


def test_cache_writable_by_others_is_refused(tmp_path, tiny, monkeypatch) -> None:
    mdl, scenario = tiny
    cache = tmp_path / "cache"
    marker = tmp_path / "marker"
    _plant_modelinfo(cache, mdl, marker)
    cache.chmod(0o777)
    monkeypatch.setenv("SDMODEL_CACHE_DIR", str(cache))
    out = tmp_path / "out"
    out.mkdir()
    result = invoke("run", "--model", mdl, "--scenario", scenario, "--out", out / "x.nc")
    assert_user_error(
        result, f"cache directory {cache} is writable by other users", out, out_existed=True
    )
    assert "chmod go-w" in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("how", ["group-writable", "other owner"])
def test_untrusted_cache_file_is_rebuilt_not_loaded(tmp_path, tiny, monkeypatch, how) -> None:
    from sdmodel.model.info import ModelInfo, load_info

    mdl, _ = tiny
    cache = tmp_path / "cache"
    marker = tmp_path / "marker"
    pkl = _plant_modelinfo(cache, mdl, marker)
    if how == "group-writable":
        pkl.chmod(0o664)
    else:
        if os.geteuid() != 0:
            pytest.skip("giving a file to another user needs root")
        os.chown(pkl, 65534, 65534)
    monkeypatch.setenv("SDMODEL_CACHE_DIR", str(cache))
    assert isinstance(load_info(mdl), ModelInfo)
    assert not marker.exists()
    stat = pkl.stat()  # replaced by a genuine entry of this user's
    assert stat.st_uid == os.geteuid() and stat.st_mode & 0o022 == 0
    assert isinstance(pickle.loads(pkl.read_bytes()), ModelInfo)


def test_truncated_translation_is_rebuilt(tmp_path, tiny, monkeypatch) -> None:
    from sdmodel.model.translate import translate

    mdl, _ = tiny
    monkeypatch.setenv("SDMODEL_CACHE_DIR", str(tmp_path / "cache"))
    py_file = translate(mdl)
    whole = py_file.read_bytes()
    py_file.write_bytes(whole[: len(whole) // 2])  # a full disk or a killed process
    result = invoke("info", "T", "--model", mdl)
    assert result.exit_code == 0, result.output
    assert "value:      1" in result.stdout
    assert py_file.read_bytes() == whole


# --- declared ranges and the time step -----------------------------------------------------
def test_time_constant_below_the_time_step(tmp_path, tiny, monkeypatch) -> None:
    from sdmodel.model.info import load_info
    from sdmodel.model.scenarios import merge_settings

    mdl, scenario = tiny
    out = tmp_path / "out"
    out.mkdir()
    args = ("run", "--model", mdl, "--scenario", scenario, "--out", out / "x.nc")
    result = invoke(*args, "--set", "T=0.1")
    culprit = "--set 'T': 0.1 Year is shorter than the time step (0.5 Year)"
    assert_user_error(result, culprit, out, out_existed=True)
    # inside the declared range [0.01, 10] and at least one time step: accepted
    monkeypatch.setenv("SDMODEL_CACHE_DIR", str(tmp_path / "cache"))
    info = load_info(mdl)
    assert info.time_step == 0.5 and info.get("T").is_time_constant
    assert merge_settings(None, [("T", 0.5)], info) == {"T": 0.5}
    assert not info.get("k").is_time_constant  # a rate, not a duration


def test_uncertainty_support_outside_the_declared_range(tmp_path, tiny, monkeypatch) -> None:
    mdl, _ = tiny
    monkeypatch.setenv("SDMODEL_CACHE_DIR", str(tmp_path / "cache"))
    from sdmodel.experiments.uncertainty import SpecError, constant_elements, parse_spec, validate
    from sdmodel.model.info import load_info

    info = load_info(mdl)

    def spec(**dist):
        table = {"name": "k", "rationale": "test", **dist}
        return parse_spec({"description": "t", "parameter": [table]}, tmp_path / "u.toml")

    validate(spec(distribution="uniform", lower=0.0, upper=2.0), constant_elements(info), info)
    cases = {
        "above the maximum 2": dict(distribution="uniform", lower=0.5, upper=3.0),
        "below the minimum 0": dict(distribution="triangular", lower=-1.0, mode=0.5, upper=1.0),
        "is unbounded": dict(distribution="normal", mean=0.5, sd=0.1),
    }
    for culprit, dist in cases.items():
        with pytest.raises(SpecError, match=culprit) as caught:
            validate(spec(**dist), constant_elements(info), info)
        assert str(tmp_path / "u.toml") in str(caught.value) and "'k'" in str(caught.value)
    with pytest.raises(SpecError, match="shorter than the time step"):
        table = {"name": "T", "rationale": "test", "distribution": "uniform"}
        bad = parse_spec(
            {"description": "t", "parameter": [{**table, "lower": 0.1, "upper": 2.0}]}, None
        )
        validate(bad, constant_elements(info), info)


def test_uniform_too_wide_for_a_float(tmp_path) -> None:
    spec = tmp_path / "u.toml"
    spec.write_text(
        'description = "t"\n[[parameter]]\nname = "Wage adjustment time"\n'
        'distribution = "uniform"\nlower = -1e308\nupper = 1e308\nrationale = "t"\n',
        encoding="utf-8",
    )
    result = invoke("sweep", "--spec", spec, "--runs", "8", "--out", tmp_path / "e.nc")
    assert_user_error(result, str(spec), tmp_path / "e.nc")
    assert "not a finite number" in result.stderr


# --- a Dask cluster without workers ----------------------------------------------------------
@requires_model
def test_dask_cluster_without_workers_times_out(tmp_path, shared_cache) -> None:
    from distributed import LocalCluster

    out = tmp_path / "out"
    before = _planted_sweep_outputs(out)
    with LocalCluster(
        n_workers=0,
        processes=False,
        protocol="tcp",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
    ) as cluster:
        address = cluster.scheduler_address
        result = invoke(
            *SWEEP, "--scheduler", address, "--worker-timeout", "2", "--out", out / "ensemble.nc"
        )
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sdmodel: error: Dask cluster at"), lines
    assert address in lines[0] and "no workers for 2 s" in lines[0]
    assert snapshot(out) == before
    assert temporaries(out) == []


# --- a read-only source tree: the default outputs/ cannot be made ------------------------
@requires_model
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_read_only_source_tree(tmp_path, monkeypatch, command) -> None:
    import sdmodel.cli.run
    import sdmodel.cli.sweep
    from tests.cli.test_user_errors import _read_only_dir

    outputs = _read_only_dir(tmp_path) / "outputs"
    monkeypatch.setattr(sdmodel.cli.run, "OUTPUT_DIR", outputs)
    monkeypatch.setattr(sdmodel.cli.sweep, "OUTPUT_DIR", outputs)
    monkeypatch.setattr(sdmodel.cli.sweep, "DEFAULT_OUT", outputs / "ensemble.nc")
    target = outputs / ("run.nc" if command == "run" else "ensemble.nc")
    args = ("--scenario", "central") if command == "run" else SWEEP[1:]
    try:
        result = invoke(command, *args, "--out", target)
    finally:
        (tmp_path / "ro").chmod(0o755)  # let pytest clean up
    assert_user_error(result, f"cannot create output directory {outputs}", outputs)


# --- values outside the declared ranges, wherever they come from --------------------------
@requires_model
@pytest.mark.parametrize(
    "setting, culprit",
    [
        ("Wage adjustment time=0", "--set 'Wage adjustment time': 0 is below the minimum"),
        ("Base adoption delay[low]=-6", "--set 'Base adoption delay[low]': -6 is below the"),
    ],
)
def test_set_outside_the_declared_range(tmp_path, setting, culprit) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = invoke("run", "--scenario", "central", "--set", setting, "--out", out / "run.nc")
    assert_user_error(result, culprit, out, out_existed=True)
    assert "that the model declares for" in result.stderr


@requires_model
def test_scenario_value_outside_the_declared_range(tmp_path) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(SCENARIO + '[constants]\n"Wage adjustment time" = -2\n', "utf-8")
    out = tmp_path / "out"
    out.mkdir()
    result = invoke("run", "--scenario", scenario, "--out", out / "run.nc")
    culprit = f"{scenario}: key 'Wage adjustment time': -2 is below the minimum"
    assert_user_error(result, culprit, out, out_existed=True)


@requires_model
@pytest.mark.parametrize(
    "lever, culprit",
    [
        ("WW maximum duration=-5", "--policy 'WW maximum duration': -5 is below the minimum"),
        ("WW replacement rate higher=5", "--policy 'WW replacement rate higher': 5 is above"),
    ],
)
@pytest.mark.parametrize("command", ["run", "grid"])
def test_shock_policy_outside_the_declared_range(tmp_path, lever, culprit, command) -> None:
    out = tmp_path / "out"
    shock = ("--share", "0.05") if command == "run" else ("--sizes", "5%", "--months", "6")
    result = invoke("shock", command, *shock, "--policy", lever, "--out", out)
    assert_user_error(result, culprit, out)


@requires_model
def test_every_constant_declares_a_finite_range(real_info) -> None:
    """The contract the checks rest on: both bounds finite, the model's own value inside,
    and a time constant's minimum at least the time step."""
    import numpy as np

    from sdmodel.engine import compile_model
    from sdmodel.io.paths import MODEL_PATH

    values = compile_model(MODEL_PATH).constants
    problems = []
    for e in real_info.by_kind("constant"):
        low, high = e.limits
        if low is None or high is None or not np.isfinite([low, high]).all() or low > high:
            problems.append(f"{e.name}: range {e.limits}")
            continue
        if e.is_time_constant and low * _per_year(e.units) < real_info.time_step:
            problems.append(f"{e.name}: minimum {low:g} {e.units} below the time step")
        value = np.asarray(values[e.name], dtype=float)
        if not ((value >= low) & (value <= high)).all():
            problems.append(f"{e.name}: model value {value} outside [{low:g}, {high:g}]")
    assert problems == []


def _per_year(units: str) -> float:
    from sdmodel.model.info import TIME_UNITS

    return TIME_UNITS[units.strip().lower()]


# --- one rule for every command: the directories of --out are created ---------------------
@requires_model
def test_missing_output_directories_are_created(tmp_path) -> None:
    run_out = tmp_path / "a" / "b" / "run.nc"
    result = invoke("run", "--scenario", "central", "--out", run_out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in run_out.parent.iterdir()) == ["run.nc", "run_overview.png"]
    sweep_out = tmp_path / "c" / "d" / "e.nc"
    result = invoke(*SWEEP, "--no-figures", "--out", sweep_out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in sweep_out.parent.iterdir()) == ["e.nc", "e_summary.nc"]


def test_a_failed_run_removes_the_directories_it_created(tmp_path, tiny) -> None:
    mdl, scenario = tiny  # has none of the overview plot's variables: fails after the NetCDF
    out = tmp_path / "new" / "deeper" / "x.nc"
    result = invoke("run", "--model", mdl, "--scenario", scenario, "--out", out)
    assert_user_error(result, "overview plot needs model variable", tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml", "tiny.mdl"]


@requires_model
def test_a_sweep_touches_only_its_own_outputs(tmp_path) -> None:
    """A second sweep with another --out leaves the first one's files as they were."""
    out = tmp_path / "outputs"
    before = _planted_sweep_outputs(out)  # what `make run` leaves: ensemble, summary, figures
    result = invoke(*SWEEP, "--out", out / "sobol.nc")
    assert result.exit_code == 0, result.output
    after = snapshot(out)
    assert {k: after[k] for k in before} == before
    from sdmodel.plots.fans import FANS

    new = {"sobol.nc", "sobol_summary.nc", *(f"sobol_figures/{f.name}.png" for f in FANS)}
    assert set(after) - set(before) == new


@requires_model
@pytest.mark.parametrize(
    "flags, culprit",
    [
        (("--share", "0.05", "--start", "2024"), "'Shock start': 2024 is below the minimum 2025"),
        (("--share", "100%"), "'Shock job loss share'[low]: 1 is above the maximum 0.99"),
    ],
)
def test_shock_inputs_outside_the_declared_range(tmp_path, flags, culprit) -> None:
    out = tmp_path / "out"
    result = invoke("shock", "run", *flags, "--out", out)
    assert_user_error(result, culprit, out)
