"""Vensim unit strings to UDUNITS-2 strings (the CF ``units`` attribute).

Money has no dimension in UDUNITS, so ``EUR`` maps to ``1`` and the currency is recorded
separately (see :func:`is_money`). Persons, vacancies and places are counts.
"""

from __future__ import annotations

import re
from fractions import Fraction

from sdmodel.errors import SdmodelError

#: Vensim unit name (lower case, singular or plural) -> UDUNITS symbol ("" = dimensionless).
_BASE: dict[str, str] = {
    "person": "count",
    "persons": "count",
    "people": "count",
    "vacancy": "count",
    "vacancies": "count",
    "place": "count",
    "places": "count",
    "job": "count",
    "jobs": "count",
    "worker": "count",
    "workers": "count",
    "eur": "",
    "euro": "",
    "euros": "",
    "year": "year",
    "years": "year",
    "month": "month",
    "months": "month",
    "week": "week",
    "weeks": "week",
    "day": "day",
    "days": "day",
    "dmnl": "",
    "dimensionless": "",
    "fraction": "",
    "oom": "",
    # floating-point operations: a pure number of operations (UDUNITS has no unit for them)
    "flop": "",
}
_MONEY = {"eur", "euro", "euros"}
#: Vensim unit name -> its base unit for dimensional analysis ("" = dimensionless). Unlike
#: :data:`_BASE`, persons, places and euros stay distinct dimensions here.
_DIMENSION: dict[str, str] = {
    name: ("" if not symbol and name not in _MONEY else name.rstrip("s"))
    for name, symbol in _BASE.items()
}
_DIMENSION.update(
    {"people": "person", "vacancies": "vacancy", "euros": "eur", "euro": "eur", "flop": "flop"}
)
#: Currency recorded next to money variables.
CURRENCY = "EUR, constant 2024 prices"

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_$][\w$]*)|(?P<op>[*/()^]))")


def strip_range(vensim_units: str) -> str:
    """Drop a Vensim range suffix: ``"Year [0,?]"`` -> ``"Year"``."""
    return re.sub(r"\[[^\]]*\]\s*$", "", vensim_units or "").strip()


def _tokenize(text: str, where: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise SdmodelError(f"cannot parse units {text!r}{where} at {text[pos:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    """Recursive-descent parser: expr := term (('*'|'/') term)*; term := atom ('^' num)?"""

    def __init__(self, text: str, where: str, names: dict[str, str] = _BASE) -> None:
        self.text = text
        self.where = where
        self.names = names
        self.tokens = _tokenize(text, where)
        self.pos = 0

    def fail(self, what: str) -> SdmodelError:
        return SdmodelError(f"cannot parse units {self.text!r}{self.where}: {what}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.fail("unexpected end")
        self.pos += 1
        return token

    def parse(self) -> dict[str, Fraction]:
        if not self.tokens:
            return {}
        result = self.expr()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()[1]!r}")
        return result

    def expr(self) -> dict[str, Fraction]:
        result = self.term()
        while (token := self.peek()) is not None and token[1] in "*/":
            self.take()
            sign = 1 if token[1] == "*" else -1
            for name, power in self.term().items():
                result[name] = result.get(name, Fraction(0)) + sign * power
        return result

    def term(self) -> dict[str, Fraction]:
        kind, value = self.take()
        if kind == "op" and value == "(":
            result = self.expr()
            if self.take() != ("op", ")"):
                raise self.fail("missing ')'")
        elif kind == "num":
            if Fraction(value) != 1:
                raise self.fail(f"numeric factor {value!r} is not supported")
            result = {}
        elif kind == "name":
            key = value.lower()
            if key not in self.names:
                raise SdmodelError(f"unknown unit {value!r} in {self.text!r}{self.where}")
            result = {self.names[key]: Fraction(1)} if self.names[key] else {}
        else:
            raise self.fail(f"unexpected {value!r}")
        if (token := self.peek()) is not None and token[1] == "^":
            self.take()
            kind, value = self.take()
            if kind != "num":
                raise self.fail(f"exponent {value!r} is not a positive number")
            result = {name: power * Fraction(value) for name, power in result.items()}
        return result


def to_udunits(vensim_units: str | None, variable: str | None = None) -> str:
    """Translate a Vensim unit expression into a UDUNITS-2 string.

    Parameters
    ----------
    vensim_units
        Units as written in the .mdl (``"EUR/(Person*Year)"``); a range suffix such as
        ``[0,?]`` is ignored; ``None`` or blank means dimensionless.
    variable
        Vensim name of the variable, only used to name it in error messages.

    Returns
    -------
    str
        For example ``"count-1 year-1"``; ``"1"`` when dimensionless.

    Raises
    ------
    SdmodelError
        On an unknown unit name or an unparsable expression; the message names the unit
        and the variable.
    """
    where = f" (variable {variable!r})" if variable else ""
    powers = _Parser(strip_range(vensim_units or ""), where).parse()
    parts = []
    for name, power in powers.items():
        if power == 0:
            continue
        if power.denominator != 1:
            raise SdmodelError(f"fractional power of {name!r} in {vensim_units!r}{where}")
        parts.append(name if power == 1 else f"{name}{power.numerator}")
    return " ".join(parts) or "1"


def dimensions(vensim_units: str | None, variable: str | None = None) -> dict[str, Fraction]:
    """Exponents of the base units of a Vensim unit expression, for dimensional analysis.

    Persons, places, vacancies, euros, FLOP, years and months are separate dimensions;
    ``Dmnl`` and ``OOM`` (a log10 ratio) are dimensionless. For example
    ``"EUR/(Person*Year)"`` gives ``{"eur": 1, "person": -1, "year": -1}``.
    """
    where = f" (variable {variable!r})" if variable else ""
    powers = _Parser(strip_range(vensim_units or ""), where, _DIMENSION).parse()
    return {name: power for name, power in powers.items() if power != 0}


def is_money(vensim_units: str | None) -> bool:
    """Whether a Vensim unit expression involves a currency (``EUR``)."""
    names = re.findall(r"[A-Za-z_$][\w$]*", strip_range(vensim_units or ""))
    return any(name.lower() in _MONEY for name in names)


def money_phrase(vensim_units: str) -> str:
    """A money unit in words with its price base, for ``long_name``.

    ``EUR/Year`` -> ``EUR per year, constant 2024 prices``; ``EUR/(Person*Year)`` ->
    ``EUR per person per year, constant 2024 prices``; ``EUR`` -> ``EUR, constant 2024
    prices``; ``FLOP/EUR`` -> ``FLOP per EUR, constant 2024 prices``.
    """
    text = " ".join(vensim_units.split())
    numerator, _, denominator = text.partition("/")
    words = numerator.strip()
    for part in re.split(r"[*()]", denominator):
        if part.strip():
            unit = part.strip()
            words += f" per {unit if unit.upper() == 'EUR' else unit.lower()}"
    return f"{words}, constant 2024 prices"
