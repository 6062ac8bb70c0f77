"""``--where`` conditions: comparisons of outcomes with numbers, joined by AND / OR / NOT.

Grammar (keywords in any case; AND binds tighter than OR; parentheses group)::

    condition  := term (OR term)*
    term       := factor (AND factor)*
    factor     := NOT factor | "(" condition ")" | OUTCOME OP NUMBER
    OP         := < | <= | > | >= | == | !=
    NUMBER     := a decimal number, or a percent with its sign (8% = 0.08)

``OUTCOME`` is an outcome expression (:mod:`sdmodel.analysis.outcomes`), e.g.
``unemployment_rate@2030 > 0.08 AND min(awf_balance, 2024:2035) < 0``. The text is parsed
by this module, never evaluated as Python.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from sdmodel.analysis.outcomes import Outcome, parse_outcome
from sdmodel.errors import SdmodelError

_OPS: dict[str, Callable] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_WS = re.compile(r"\s*")
_KEYWORD = re.compile(r"(AND|OR|NOT)(?![\w\[])", re.IGNORECASE)
# an outcome: a function call (no nested parentheses) or a name with @YEAR / [elem]
_OUTCOME = re.compile(r"[a-zA-Z]+\s*\([^()]*\)|[^()<>=!]+?(?=\s*(?:<=|>=|==|!=|<|>))")
_OP = re.compile(r"<=|>=|==|!=|<|>")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?")


@dataclass(frozen=True)
class Comparison:
    """``outcome OP value``."""

    outcome: Outcome
    op: str
    value: float

    def evaluate(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Truth per scenario and run, from the outcomes' values."""
        return _OPS[self.op](values[self.outcome.text], self.value)

    def __str__(self) -> str:
        return f"{self.outcome.text} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Combined:
    """``AND``/``OR`` of conditions, or ``NOT`` of one."""

    kind: str
    parts: tuple

    def evaluate(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Truth per scenario and run, from the outcomes' values."""
        truth = [p.evaluate(values) for p in self.parts]
        if self.kind == "NOT":
            return ~truth[0]
        return np.logical_and.reduce(truth) if self.kind == "AND" else np.logical_or.reduce(truth)

    def __str__(self) -> str:
        if self.kind == "NOT":
            return f"NOT ({self.parts[0]})"
        return f" {self.kind} ".join(f"({p})" for p in self.parts)


Condition = Comparison | Combined


def outcomes_of(condition: Condition) -> list[Outcome]:
    """The outcomes a condition compares, each once, in order of appearance."""
    if isinstance(condition, Comparison):
        return [condition.outcome]
    found = [o for p in condition.parts for o in outcomes_of(p)]
    return list({o.text: o for o in found}.values())


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def fail(self, what: str) -> SdmodelError:
        rest = self.text[self.pos :].strip() or "the end"
        return SdmodelError(f"--where {self.text!r}: {what} at {rest[:30]!r}")

    def skip(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()

    def keyword(self, word: str) -> bool:
        self.skip()
        m = _KEYWORD.match(self.text, self.pos)
        if m and m[1].upper() == word:
            self.pos = m.end()
            return True
        return False

    def literal(self, char: str) -> bool:
        self.skip()
        if self.text.startswith(char, self.pos):
            self.pos += len(char)
            return True
        return False

    def condition(self) -> Condition:
        parts = [self.term()]
        while self.keyword("OR"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Combined("OR", tuple(parts))

    def term(self) -> Condition:
        parts = [self.factor()]
        while self.keyword("AND"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else Combined("AND", tuple(parts))

    def factor(self) -> Condition:
        if self.keyword("NOT"):
            return Combined("NOT", (self.factor(),))
        self.skip()
        m = _OUTCOME.match(self.text, self.pos)
        if m is None and self.literal("("):
            inner = self.condition()
            if not self.literal(")"):
                raise self.fail("expected ')'")
            return inner
        if m is None:
            raise self.fail("expected OUTCOME OP NUMBER")
        self.pos = m.end()
        outcome = parse_outcome(m[0])
        self.skip()
        op = _OP.match(self.text, self.pos)
        if op is None:
            raise self.fail("expected a comparison (<, <=, >, >=, ==, !=)")
        self.pos = op.end()
        self.skip()
        num = _NUMBER.match(self.text, self.pos)
        if num is None:
            raise self.fail("expected a number")
        self.pos = num.end()
        word = num[0]
        value = float(word[:-1]) / 100 if word.endswith("%") else float(word)
        return Comparison(outcome, op[0], value)


def parse_where(text: str) -> Condition:
    """Parse a ``--where`` condition (see the module docstring).

    Raises
    ------
    SdmodelError
        One line naming the condition and where it goes wrong.
    """
    parser = _Parser(str(text))
    if not str(text).strip():
        raise SdmodelError("--where: empty condition")
    condition = parser.condition()
    parser.skip()
    if parser.pos != len(parser.text):
        raise parser.fail("unexpected text")
    return condition
