"""Coverage of the model's uncertain constants by the uncertainty specification (issue 15).

Every constant whose comment in the ``.mdl`` states a plausible range is sampled by
``scenarios/uncertainty.toml`` or listed there as an ``[[exclusion]]`` with a reason.
"""

from __future__ import annotations

import textwrap
import tomllib

import pytest
from modelruns import info

from sdmodel.experiments.coverage import (
    EXCLUSION_KINDS,
    check_coverage,
    coverage,
    ranged_constants,
)
from sdmodel.experiments.uncertainty import SpecError, load_spec, parse_spec
from sdmodel.io.paths import SCENARIO_DIR

SPEC = SCENARIO_DIR / "uncertainty.toml"


def test_the_default_specification_covers_every_ranged_constant():
    spec = load_spec(SPEC)
    result = check_coverage(spec, info())
    assert not result.missing
    ranged = ranged_constants(info())
    assert set(result.sampled) | set(result.excluded) == set(ranged)
    assert not set(result.sampled) & set(result.excluded)
    # most of the model's stated uncertainty is sampled, not excluded
    assert len(result.sampled) >= 75 and len(result.excluded) <= 20  # 76 and 18
    # every exclusion is a ranged constant (an exclusion of an unranged one says nothing)
    assert {x.name for x in spec.exclusions} == set(result.excluded)


def test_ranged_constants_are_those_whose_comment_states_a_plausible_range():
    ranged = set(ranged_constants(info()))
    assert {"Wage adjustment time", "Capital adjustment time", "GDP 2024"} <= ranged
    for name in ranged:
        assert "plausible" in info().get(name).comment.lower(), name
    # structural constants and facts without a stated range are not in it
    assert not {"Has group above", "WW running benefits 2024"} & ranged


def test_a_constant_neither_sampled_nor_excluded_is_named(tmp_path):
    text = SPEC.read_text(encoding="utf-8")
    block = (
        '[[parameter]]\nname = "Reinstatement delay"\ndistribution = "triangular"\n'
        "lower = 2.0\nmode = 5.0\nupper = 10.0\n"
    )
    start = text.index(block)
    end = text.index("\n\n", start)
    path = tmp_path / "uncertainty.toml"
    path.write_text(text[:start] + text[end + 2 :], encoding="utf-8")
    with pytest.raises(SpecError, match=r"1 constant\(s\) .*: Reinstatement delay$") as err:
        check_coverage(load_spec(path), info())
    assert str(path) in str(err.value)


def _spec(extra: str):
    base = '[[parameter]]\nname = "Reinstatement delay"\ndistribution = "uniform"\n'
    base += 'lower = 2.0\nupper = 10.0\nrationale = "r"\n'
    extra = textwrap.dedent(extra)
    # a top-level key must come before the first table
    text = extra + base if not extra.startswith("[[") else base + extra
    return parse_spec(tomllib.loads(text), "s.toml")


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        ('[[exclusion]]\nname = "GDP 2024"\nkind = "fact"\nreason = "r"\n', ["kind must be"]),
        ('[[exclusion]]\nname = "GDP 2024"\nkind = "calibration"\nreason = " "\n', ["reason"]),
        ('[[exclusion]]\nname = "GDP 2024"\nkind = "calibration"\n', ["exactly the keys"]),
        (
            '[[exclusion]]\nname = "GDP 2024"\nkind = "calibration"\nreason = "r"\nnote = 1\n',
            ["exactly the keys"],
        ),
        (
            '[[exclusion]]\nname = "Relative wage level[low]"\nkind = "calibration"\n'
            'reason = "r"\n',
            ["whole constant"],
        ),
        (
            '[[exclusion]]\nname = "GDP 2024"\nkind = "calibration"\nreason = "r"\n'
            '[[exclusion]]\nname = "gdp  2024"\nkind = "calibration"\nreason = "r"\n',
            ["exclusion #2", "listed twice"],
        ),
        ('exclusion = "GDP 2024"\n', ["array of tables"]),
    ],
)
def test_malformed_exclusions_are_refused_naming_the_file_and_entry(extra, fragments):
    with pytest.raises(SpecError) as err:
        _spec(extra)
    assert str(err.value).startswith("s.toml: ")
    for fragment in fragments:
        assert fragment in str(err.value)


def test_an_exclusion_must_be_a_model_constant_not_also_sampled():
    with pytest.raises(SpecError, match="'No such constant': unknown model constant"):
        coverage(
            _spec('[[exclusion]]\nname = "No such constant"\nkind = "guard"\nreason = "r"'), info()
        )
    also = '[[exclusion]]\nname = "Reinstatement delay"\nkind = "guard"\nreason = "r"'
    with pytest.raises(SpecError, match="also a \\[\\[parameter\\]\\]"):
        coverage(_spec(also), info())


def test_every_exclusion_kind_is_explained_and_used_kinds_are_known():
    assert all(text.strip() for text in EXCLUSION_KINDS.values())
    assert {x.kind for x in load_spec(SPEC).exclusions} <= set(EXCLUSION_KINDS)


def test_the_sweep_cli_refuses_a_bad_exclusion_in_one_line(tmp_path):
    from click.testing import CliRunner

    from sdmodel.cli import main

    path = tmp_path / "spec.toml"
    path.write_text(
        '[[parameter]]\nname = "Reinstatement delay"\ndistribution = "uniform"\n'
        'lower = 2.0\nupper = 10.0\nrationale = "r"\n'
        '[[exclusion]]\nname = "GDP 2024"\nkind = "fact"\nreason = "r"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["sweep", "--spec", str(path), "--out", str(out), "--runs", "4", "--quiet"]
    )
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "kind must be" in lines[0]
    assert not out.exists()
