"""Vensim units -> UDUNITS-2 strings that cf_units accepts."""

from __future__ import annotations

import cf_units
import pytest

from sdmodel.errors import SdmodelError
from sdmodel.model.units import is_money, strip_range, to_udunits
from tests.conftest import requires_model


@pytest.mark.parametrize(
    ("vensim", "expected"),
    [
        ("Person", "count"),
        ("Persons", "count"),
        ("Vacancy", "count"),
        ("Place", "count"),
        ("EUR", "1"),
        ("Year", "year"),
        ("Month", "month"),
        ("Dmnl", "1"),
        ("OOM", "1"),
        ("1", "1"),
        ("", "1"),
        (None, "1"),
        ("Person/Year", "count year-1"),
        ("EUR/Year", "year-1"),
        ("EUR/(Person*Year)", "count-1 year-1"),
        ("1/Year", "year-1"),
        ("Year [0,?]", "year"),
        ("Person*Year/Year", "count"),
        ("Vacancy/Person", "1"),
        ("1/(Year*Year)", "year-2"),
        ("Year^2", "year2"),
        ("person / month", "count month-1"),
    ],
)
def test_to_udunits(vensim: str | None, expected: str) -> None:
    result = to_udunits(vensim)
    assert result == expected
    cf_units.Unit(result)  # must parse


def test_month_and_year_are_consistent() -> None:
    month = cf_units.Unit(to_udunits("Month"))
    year = cf_units.Unit(to_udunits("Year"))
    assert month.convert(12.0, year) == pytest.approx(1.0, rel=1e-3)


@pytest.mark.parametrize(
    ("vensim", "culprit"),
    [("Foo/Year", "'Foo'"), ("Person/(Year", "Person/(Year"), ("2*Year", "'2'"), ("EUR^x", "x")],
)
def test_bad_units_name_unit_and_variable(vensim: str, culprit: str) -> None:
    with pytest.raises(SdmodelError) as info:
        to_udunits(vensim, "My variable")
    assert culprit in str(info.value)
    assert "'My variable'" in str(info.value)


def test_is_money_and_strip_range() -> None:
    assert is_money("EUR/(Person*Year)")
    assert is_money("eur")
    assert not is_money("Person/Year")
    assert not is_money(None)
    assert strip_range("Year [0,?]") == "Year"


@requires_model
def test_every_unit_of_the_real_model_parses(real_info) -> None:
    seen = 0
    for element in real_info:
        if element.kind == "lookup":
            continue
        cf_units.Unit(to_udunits(element.units, element.name))
        seen += 1
    assert seen > 20


@pytest.mark.parametrize(
    "vensim, words",
    [
        ("EUR/Year", "EUR per year, constant 2024 prices"),
        ("EUR/(Person*Year)", "EUR per person per year, constant 2024 prices"),
        ("EUR", "EUR, constant 2024 prices"),
        ("FLOP/EUR", "FLOP per EUR, constant 2024 prices"),
    ],
)
def test_money_phrase(vensim, words) -> None:
    from sdmodel.model.units import money_phrase

    assert money_phrase(vensim) == words
