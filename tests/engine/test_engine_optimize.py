"""The engine's source-level optimisations keep what the time loop computes unchanged."""

from __future__ import annotations

import numpy as np

from sdmodel.engine.optimize import free_dead, hoist


def _run(pre: list[str], body: list[str], env: dict, steps: int = 3) -> dict:
    """Execute ``pre`` once and ``body`` ``steps`` times in a namespace; return it."""
    ns = dict(env)
    for line in pre:
        exec(line, {}, ns)
    for _ in range(steps):
        for line in body:
            exec(line, {}, ns)
    return ns


BODY = [
    "d = (inflow - out) * dt",  # reads out: computed at the end of the previous step
    "s += d",
    "t = t + dt",
    "a = s * k + t",
    "b = a / 2.0",  # a dead after this line
    "out = b * s",  # b dead after this line
    "shown = out + c",  # read by the save block
]


def test_free_dead_drops_only_temporaries_after_last_use():
    lines = free_dead(BODY, live={"shown", "t"})
    dels = {x for line in lines if line.startswith("del ") for x in line[4:].split(", ")}
    # d, a and b are assigned in the loop and read only later in the same step
    assert dels == {"d", "a", "b"}
    # each del comes right after the last statement reading the name
    assert lines[lines.index("s += d") + 1] == "del d"
    assert lines[lines.index("b = a / 2.0") + 1] == "del a"
    # out is read before its assignment (by the next step), so it must survive
    assert "out" not in dels and "s" not in dels and "shown" not in dels


def test_free_dead_and_hoist_leave_results_unchanged():
    env = {"inflow": np.array([1.0, 2.0]), "k": np.array([0.5, 0.25]), "c": 3.0, "dt": 0.25}
    start = {"s": np.array([1.0, 1.0]), "out": np.array([0.1, 0.2]), "t": 0.0}

    def fresh() -> dict:  # stocks are updated in place: each run gets its own copies
        return {**env, **{k: np.copy(v) if k != "t" else v for k, v in start.items()}}

    reference = _run([], BODY, fresh())
    dynamic = {"d", "s", "t", "a", "b", "out", "shown"}
    pre, loop = hoist(BODY, dynamic)
    optimised = _run(
        pre,
        free_dead(loop, live={"shown"}),
        fresh(),
    )
    for name in ("s", "out", "shown", "t"):
        np.testing.assert_array_equal(optimised[name], reference[name])  # bit-identical
    assert "a" not in optimised and "b" not in optimised


def test_stock_arrays_are_c_contiguous():
    """Stocks, INITIALs and delay chains broadcast along a subscript come out C-ordered.

    (A copy of a broadcast view kept its memory order: a stock initialised from a per-run
    value broadcast along its subscript was Fortran-ordered and every operation on it,
    and on what it feeds, strided.)
    """
    from sdmodel.engine.helpers import make_helpers

    h = make_helpers(np)
    per_run = np.array([1.0, 2.0, 3.0, 4.0])  # (R,): the same for every subscript
    full = h["_full"](per_run, 4, (3,))
    stack = h["_stack"](per_run, 2, 4, (3,))
    frozen = h["_frozen"](per_run, (3,))
    for a in (full, stack, frozen):
        assert a.flags.c_contiguous and a.flags.writeable
    np.testing.assert_array_equal(full, np.broadcast_to(per_run, (3, 4)))
    np.testing.assert_array_equal(stack, np.broadcast_to(per_run, (2, 3, 4)))
    np.testing.assert_array_equal(frozen, full)
    assert h["_full"](2.5, 3, ()).shape == (3,) and h["_frozen"](2.5, ()).shape == (1,)
    full += 1.0  # stocks are updated in place: no view of the initial value
    np.testing.assert_array_equal(per_run, [1.0, 2.0, 3.0, 4.0])
