"""``--where`` conditions: precedence, percent values, and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from sdmodel.analysis.conditions import outcomes_of, parse_where
from sdmodel.errors import SdmodelError


def test_and_binds_tighter_than_or() -> None:
    c = parse_where("a@2030 > 1 OR b@2030 < 0 and NOT c@2030 >= 8%")
    assert [o.text for o in outcomes_of(c)] == ["a@2030", "b@2030", "c@2030"]
    values = {
        "a@2030": np.array([2.0, 0.0, 0.0, 0.0]),
        "b@2030": np.array([0.0, -1.0, -1.0, 1.0]),
        "c@2030": np.array([0.0, 0.0, 0.09, 0.0]),
    }
    np.testing.assert_array_equal(c.evaluate(values), [True, True, False, False])
    grouped = parse_where("(a@2030 > 1 OR b@2030 < 0) AND c@2030 < 0.08")
    np.testing.assert_array_equal(grouped.evaluate(values), [True, True, False, False])


def test_functions_with_ranges() -> None:
    c = parse_where("min(awf_balance, 2024:2035) < 0 AND max(Unemployment rate) != 1e-2")
    assert str(c) == "(min(awf_balance, 2024:2035) < 0) AND (max(Unemployment rate) != 0.01)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a@2030 >", "expected a number"),
        ("a@2030 > 1 AND", "expected OUTCOME OP NUMBER"),
        ("(a@2030 > 1", "expected ')'"),
        ("a@2030 > 1 b@2030 < 2", "unexpected text"),
        ("__import__('os')@2030 > 1", "expected OUTCOME OP NUMBER"),
        ("", "empty condition"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(SdmodelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_where(text)
