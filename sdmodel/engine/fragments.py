"""Fragments of generated code: a code string with its dimensions, and stateful elements.

The building blocks that :mod:`.expressions` (operators, references) and
:mod:`.functions` (builtins, lookups, statefuls) both produce and combine; kept apart so
that those two modules depend on these, not on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SMALL = 1e-6  # pysd.py_backend.functions.SMALL_VENSIM
CONTROL_PY = ("initial_time", "final_time", "time_step", "saveper")


@dataclass
class Frag:
    """Generated code for a (sub)expression: ``dims`` maps dim name -> labels."""

    code: str
    dims: dict = field(default_factory=dict)
    run: bool = False  # True: array with a (trailing) run axis

    @property
    def atomic(self) -> bool:
        return self.code.replace("_", "").replace(".", "").isalnum()


@dataclass
class Stateful:
    """A stateful object (stock, smooth, delay, INITIAL...) hidden inside an element."""

    name: str
    kind: str
    element: str
    shape: tuple
    args: dict  # argument name -> code (aligned to the stateful's dims)
    init_refs: set
    run_refs: set
    order: object = None


def align(frag: Frag, target: list, lead: int = 0) -> str:
    """Code for ``frag`` broadcastable to ``(*target, R)`` (target = dim names).

    ``lead`` leading axes (e.g. lookup segments) that precede the dimensions are kept.
    """
    if not frag.run or not frag.dims:
        return frag.code
    names = list(frag.dims)
    missing = [d for d in names if d not in target]
    if missing:
        raise ValueError(f"dimensions {missing} not in {target}")
    order = sorted(names, key=target.index)
    code = frag.code
    if order != names:
        perm = (
            tuple(range(lead)) + tuple(names.index(d) + lead for d in order) + (len(names) + lead,)
        )
        code = f"xp.permute_dims({code}, {perm})"
    # trailing alignment: missing leading target dims broadcast without new axes
    first = 0 if lead else target.index(order[0])
    rest = target[first:]
    if rest == order:
        return code
    idx = ", ".join([":"] * lead + [":" if d in order else "None" for d in rest])
    return f"{_paren(code)}[{idx}, ...]"


def _paren(code: str) -> str:
    return code if code.replace("_", "").replace(".", "").isalnum() else f"({code})"


def union_dims(frags) -> dict:
    """Ordered union of the operands' dimensions (labels must agree per name)."""
    out: dict = {}
    for f in frags:
        for d, c in f.dims.items():
            if d in out and out[d] != c:
                raise ValueError(f"dimension {d} used with different labels")
            out[d] = c
    return out
