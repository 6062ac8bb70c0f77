"""Dimensional consistency of every equation of the project model, by unit scaling.

For each base unit of the model (persons, places, euros, FLOP, months, years), every
constant is rescaled as its declared units say and the model is run again: every variable
must scale exactly as its own declared units say (sdmodel.model.unitcheck). Rescaling by 2 is
exact in floating point, so the tolerance 1e-9 only absorbs the rounding of nonlinear
functions (powers, exponentials) of rescaled operands.
"""

from __future__ import annotations

import textwrap

import pytest
from modelruns import compiled

from sdmodel.engine import compile_model
from sdmodel.model.unitcheck import base_units, scaling_mismatches

EXPECTED_BASES = {"eur", "flop", "month", "person", "place", "year"}


def test_model_uses_the_expected_base_units():
    assert set(base_units(compiled())) == EXPECTED_BASES


@pytest.mark.parametrize("base", sorted(EXPECTED_BASES))
def test_every_equation_is_dimensionally_consistent(base):
    problems = scaling_mismatches(compiled(), base)
    assert not problems, f"rescaling {base}:\n" + "\n".join(problems[:20])


#: A model with a hidden unit literal (persons minus a bare 1) and a wrong declared unit.
BROKEN = textwrap.dedent(
    """\
    {UTF-8}
    Workers= INTEG (Hiring, 100)
        ~    Person
        ~    |
    Hiring=
        (Workers - 1) * Hiring rate
        ~    Person/Year
        ~    |
    Hiring rate=
        0.1
        ~    1/Year
        ~    |
    Payroll=
        Workers * Wage
        ~    EUR
        ~    declared EUR, but it is EUR/Year.|
    Wage=
        40000
        ~    EUR/(Person*Year)
        ~    |
    INITIAL TIME = 0
        ~    Year
        ~    |
    FINAL TIME = 2
        ~    Year
        ~    |
    TIME STEP = 0.25
        ~    Year
        ~    |
    SAVEPER = 0.25
        ~    Year
        ~    |
    """
)


def test_scaling_check_finds_hidden_literal_and_wrong_units(tmp_path):
    path = tmp_path / "broken.mdl"
    path.write_text(BROKEN)
    cm = compile_model(path, use_cache=False)
    person = scaling_mismatches(cm, "person")
    assert any(line.startswith("Hiring ") for line in person), person
    year = scaling_mismatches(cm, "year")
    assert any(line.startswith("Payroll ") for line in year), year
    assert scaling_mismatches(cm, "eur") == []


#: The policy levers of sector 9 and a capital tax rise: zero by default, so the default
#: run cannot see their units (a term that stays zero hides them).
LEVERS_ON = {
    "Upskilling participation": 0.05,
    "Job to job service coverage": 0.5,
    "Mobility team coverage": 0.5,
    "Employer charge cut": 0.02,
    "Capital income tax rise": 0.03,
    "AI tax rate": 0.1,
    "Basic income per recipient": 3000.0,
}


@pytest.mark.parametrize("base", sorted(EXPECTED_BASES))
def test_policy_levers_are_dimensionally_consistent(base):
    problems = scaling_mismatches(compiled(), base, params=LEVERS_ON)
    assert not problems, f"rescaling {base} with the levers on:\n" + "\n".join(problems[:20])
