"""What the commands print and where they write: ``--verbose`` timings and ``--quiet``,
``shock grid``'s default output directory, and CSV columns named with their unit."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdmodel.cli import main
from sdmodel.shocks.grid import GRID_COLUMNS
from tests.conftest import requires_model

SHOCK_FILE = Path(__file__).resolve().parents[2] / "scenarios" / "shocks" / "middle_5pct_2027.toml"
TIMING = re.compile(r"^sdmodel: timing: (\S+) (\d+\.\d\d) s$")
#: Units a numeric CSV column name ends in (grid.csv).
UNIT_SUFFIXES = (
    "_fraction",
    "_eur_bn",
    "_eur_bn_per_year",
    "_persons",
    "_months",
    "_decimal_year",
    "_flag",
)
TEXT_COLUMNS = {"scenario", "variant", "skill"}


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def timings(stderr: str) -> list[str]:
    """The steps of the timing lines; every stderr line must be one."""
    lines = stderr.splitlines()
    matches = [TIMING.match(line) for line in lines]
    assert all(matches), stderr
    return [m.group(1) for m in matches]


def tree(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``root``: its inode (a replaced file gets a new one) and bytes."""
    return {
        str(p.relative_to(root)): (p.stat().st_ino, p.read_bytes())
        for p in root.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize(
    "command",
    [("run",), ("sweep",), ("shock", "run"), ("shock", "grid"), ("compare",)],
)
def test_quiet_and_verbose_exclude_each_other(tmp_path, command) -> None:
    out = tmp_path / "out"
    result = invoke(*command, "--quiet", "--verbose", "--out", out)
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sdmodel: error: --quiet and --verbose exclude each other")
    assert f"{' '.join(command)} --help" in lines[0]
    assert list(tmp_path.iterdir()) == []


@requires_model
def test_run_verbose_times_each_step_and_quiet_prints_nothing(tmp_path) -> None:
    verbose = invoke("run", "--scenario", "central", "--out", tmp_path / "v.nc", "--verbose")
    assert verbose.exit_code == 0, (verbose.output, verbose.exception)
    steps = timings(verbose.stderr)
    assert {"compile", "integrate", "write", "plot"} <= set(steps), steps
    assert len(steps) == len(set(steps))  # one line each
    quiet = invoke("run", "--scenario", "central", "--out", tmp_path / "q.nc", "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    # the report on stdout is the same, but for the file names
    assert verbose.stdout.replace("v.nc", "q.nc").replace("v_overview", "q_overview") == (
        quiet.stdout
    )


@requires_model
def test_sweep_verbose_times_its_steps(tmp_path) -> None:
    out = tmp_path / "s.nc"
    args = ("sweep", "--runs", "4", "--scenario", "central", "--no-figures", "--out", out)
    result = invoke(*args, "--verbose")
    assert result.exit_code == 0, (result.output, result.exception)
    steps = timings(result.stderr)
    assert {"compile", "plan", "integrate+write", "summary", "total"} <= set(steps), steps
    quiet = invoke(*args, "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""


@requires_model
def test_shock_verbose_and_metrics_csv_units(tmp_path) -> None:
    out = tmp_path / "report"
    result = invoke("shock", SHOCK_FILE, "--out", out, "--verbose")
    assert result.exit_code == 0, (result.output, result.exception)
    assert {"compile", "integrate", "write", "plot"} <= set(timings(result.stderr))
    rows = list(csv.DictReader((out / "metrics.csv").read_text().splitlines()))
    # a long table: every value's unit is in its row, the terminal table's unit
    table = (out / "table.txt").read_text().splitlines()
    for row in rows:
        assert row["unit"], row
        if row["column"] != "shock_minus_baseline" or row["unit"] == "decimal year":
            continue
        line = next(x for x in table if x.startswith(row["label"] + " "))
        assert f" {row['unit']} " in line, (row, line)
        printed = float(line.split()[-1].replace(",", ""))
        digits = len(line.split()[-1].partition(".")[2])
        assert printed == pytest.approx(float(row["median"]), abs=0.51 * 10**-digits), row


@requires_model
def test_grid_default_directory_is_its_own(tmp_path, monkeypatch) -> None:
    """Another grid never replaces one's files; the same settings replace their own."""
    import sdmodel.cli.shock

    shocks = tmp_path / "outputs" / "shocks"
    monkeypatch.setattr(sdmodel.cli.shock, "SHOCK_DIR", shocks)
    (shocks / "grid_all").mkdir(parents=True)  # the old default name, and a neighbour
    (shocks / "grid_all" / "grid.csv").write_text("earlier grid\n")
    (tmp_path / "outputs" / "run.nc").write_bytes(b"a run")

    def grid(*args: str):
        before = tree(tmp_path)
        result = invoke("shock", "grid", "--months", "12", *args)
        assert result.exit_code == 0, (result.output, result.exception)
        after = tree(tmp_path)
        assert set(before) <= set(after)  # nothing removed
        written = sorted(set(after) - set(before) | {k for k in before if after[k] != before[k]})
        return result, written

    first, written = grid("--sizes", "5%")
    (name,) = {Path(w).parent.name for w in written}
    assert re.fullmatch(r"grid_all_central_[0-9a-f]{8}", name), name
    assert written == [f"outputs/shocks/{name}/grid.csv", f"outputs/shocks/{name}/heatmaps.png"]
    assert f"wrote {shocks / name / 'grid.csv'}" in first.stdout.splitlines()

    _, other = grid("--sizes", "0.1")  # another size: another directory
    assert {Path(w).parent.name for w in other} != {name}
    assert all(w.startswith("outputs/shocks/grid_all_central_") for w in other)
    kept = tree(tmp_path)
    _, again = grid("--sizes", "0.05")  # the first grid's settings (5% = 0.05) again
    assert again == written  # replaced (new files), the same contents
    assert all(tree(tmp_path)[w][1] == kept[w][1] for w in written)
    assert (shocks / "grid_all" / "grid.csv").read_text() == "earlier grid\n"
    assert sorted(p.name for p in shocks.iterdir()) == sorted(
        ["grid_all", name, Path(other[0]).parent.name]
    )

    # grid.csv: every numeric column named with its unit, values as the table prints them
    rows = list(csv.DictReader((shocks / name / "grid.csv").read_text().splitlines()))
    assert list(rows[0]) == [c for c, _ in GRID_COLUMNS]
    for column in rows[0]:
        assert column in TEXT_COLUMNS or column.endswith(UNIT_SUFFIXES), column
    cell = next(r for r in rows if r["jobs_lost_fraction"] == "0.05")
    assert cell["period_months"] == "12" and cell["start_decimal_year"] == "2027"
    assert cell["outlay_threshold_share_of_gdp_fraction"] == "0.01"  # the default, 1%
    line = next(x for x in first.stdout.splitlines() if x.strip().startswith("5%"))
    share = float(cell["peak_ww_outlays_share_of_gdp_fraction"])
    assert line.split()[1] == f"{share * 100:.3f}"  # the table: % of GDP
    baseline = next(r for r in rows if r["jobs_lost_fraction"] == "0")
    header = first.stdout.splitlines()[0]
    assert f"(baseline {float(baseline['peak_ww_outlays_share_of_gdp_fraction']) * 100:.3f})" in (
        header
    )
    flags = line.split()[2] if len(line.split()) > 2 else ""
    assert ("O" in flags) == (cell["outlays_over_threshold_flag"] == "1")
    assert ("F" in flags) == (cell["fund_exhausted_flag"] == "1")


def test_grid_default_dirname_follows_every_setting() -> None:
    from sdmodel.shocks.grid import default_dirname
    from sdmodel.shocks.spec import SKILLS

    base = ("central", (0.05,), (12.0,), SKILLS, 2027.0, {}, 0.01, [], "m.mdl")
    name = default_dirname(*base)
    assert name.startswith("grid_all_central_")
    assert default_dirname(*base) == name
    assert default_dirname("central", [5 / 100], [12], SKILLS, 2027, None, 0.01, [], "m.mdl") == (
        name
    )
    changed = {
        default_dirname(*(base[:k] + (value,) + base[k + 1 :]))
        for k, value in enumerate(
            [
                "explosive",
                (0.1,),
                (3.0,),
                ("middle",),
                2028.0,
                {"WW maximum duration": 12.0},
                0.02,
                [("ww_generous", {"WW maximum duration": 30.0})],
                "other.mdl",
            ]
        )
    }
    assert name not in changed and len(changed) == 9
    assert default_dirname("scenarios/x y.toml", *base[1:]).startswith("grid_all_x-y_")
    assert default_dirname(base[0], base[1], base[2], ("low", "high"), *base[4:]).startswith(
        "grid_low+high_central_"
    )


@requires_model
def test_shock_run_default_directory_is_its_own(tmp_path, monkeypatch) -> None:
    """The same shock under another scenario or policy gets its own report directory;
    the same settings again replace their own; no other file is touched."""
    import sdmodel.cli.shock

    shocks = tmp_path / "outputs" / "shocks"
    monkeypatch.setattr(sdmodel.cli.shock, "SHOCK_DIR", shocks)
    shocks.mkdir(parents=True)
    (shocks / "middle_5pct_2027").mkdir()  # the old default name: left alone
    (shocks / "middle_5pct_2027" / "table.txt").write_text("earlier report\n")

    def shock(*args: str) -> list[str]:
        before = tree(tmp_path)
        result = invoke("shock", SHOCK_FILE, "--quiet", *args)
        assert result.exit_code == 0, (result.output, result.exception)
        after = tree(tmp_path)
        assert set(before) <= set(after)
        changed = {k for k in before if after[k] != before[k]}
        return sorted(set(after) - set(before) | changed)

    first = shock()
    (name,) = {Path(w).parent.name for w in first}
    assert re.fullmatch(r"middle_5pct_2027_central_[0-9a-f]{8}", name), name
    assert sorted(Path(w).name for w in first) == [
        "comparison.png",
        "metrics.csv",
        "table.txt",
        "timeseries.nc",
    ]
    (other,) = {Path(w).parent.name for w in shock("--scenario", "explosive")}
    assert re.fullmatch(r"middle_5pct_2027_explosive_[0-9a-f]{8}", other), other
    (lever,) = {Path(w).parent.name for w in shock("--policy", "WW maximum duration=18")}
    assert re.fullmatch(r"middle_5pct_2027_central_[0-9a-f]{8}", lever) and lever != name
    kept = tree(tmp_path)
    again = shock()
    assert again == first  # the first settings again: their own directory, replaced
    same = [w for w in first if w.endswith(("table.txt", "metrics.csv"))]  # no time stamps
    assert len(same) == 2 and all(tree(tmp_path)[w][1] == kept[w][1] for w in same)
    assert sorted(p.name for p in shocks.iterdir()) == sorted(
        ["middle_5pct_2027", name, other, lever]
    )
    assert (shocks / "middle_5pct_2027" / "table.txt").read_text() == "earlier report\n"
