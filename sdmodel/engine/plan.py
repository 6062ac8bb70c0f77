"""The time loop of a compiled model as statement lists, shared by the two backends.

:func:`loop_plan` decides, for a set of saved variables, what is computed once (the
initialisation and the hoisted loop invariants), what every time step computes (the Euler
increments, the stock updates and the variables the stocks need) and what only the saved
times compute. :func:`numpy_source` writes that plan as the ``simulate`` function of the
numpy backend; :mod:`.jaxloop` writes the same statements as a traced step function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from .codegen import Program, state_code
from .optimize import free_dead, hoist

IND = "    "
CONTROLS = ("time_step", "initial_time", "final_time", "saveper")


@dataclass
class LoopPlan:
    """Statements (unindented Python lines) of one ``simulate`` for ``saved`` variables."""

    saved: list  # Python names written to the outputs
    init: list  # run once, in order: controls, constants, state and variable initial values
    pre: list  # loop invariants hoisted out of the time loop (after ``init``)
    at_save: list  # computed only at saved times, before the outputs are written
    body: list  # one Euler step: increments, updates, ``t = _times[_i + 1]``, variables

    @property
    def advance(self) -> list:
        """The Euler increments and stock updates: ``body`` before ``t = _times[_i + 1]``."""
        return self.body[: self.body.index("t = _times[_i + 1]")]

    @property
    def evaluate(self) -> list:
        """The variables the stocks need, at the current time: ``body`` after the time."""
        return self.body[self.body.index("t = _times[_i + 1]") + 1 :]


def _names(code: str) -> set:
    return {m.id for m in ast.walk(ast.parse(code)) if isinstance(m, ast.Name)}


def loop_plan(prog: Program, variables: Iterable[str]) -> LoopPlan:
    """Plan the loop saving ``variables`` (Python names).

    Only what the saved variables and the dynamic stocks need is computed in the time
    loop, and loop-invariant sub-expressions are hoisted out of it (see :mod:`.optimize`).
    """
    saved = list(variables)
    nodes = prog.nodes
    states = {st["name"]: st for st in prog.states}
    needed = _closure(saved, nodes, states)
    # what the stocks need is computed every step; what only saved variables need is
    # computed at the saved times only
    every = _closure(
        [r for n in needed if n in states and nodes[n]["dynamic"] for r in nodes[n]["run_refs"]],
        nodes,
        states,
    )
    init = [f"_c_{c} = _c[{c!r}]" for c in CONTROLS] + ["dt = _c_time_step", "t = _times[0]"]
    derivs, updates = [], []
    for n in prog.init_order:
        if n in states:
            first, d, u = state_code(states[n])
            init += first
            if n in needed and nodes[n]["dynamic"]:
                derivs += d
                updates += u
        else:
            init.append(f"{n} = {nodes[n]['init']}")
    step = [f"{n} = {nodes[n]['init']}" for n in prog.step_order if n in every]
    at_save = [
        f"{n} = {nodes[n]['init']}" for n in prog.step_order if n in needed and n not in every
    ]
    body = derivs + updates + ["t = _times[_i + 1]"] + step
    dynamic = {"t", "_i", "_k"}
    for x in body + at_save:
        stmt = ast.parse(x).body[0]
        for tgt in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
            dynamic |= {m.id for m in ast.walk(tgt) if isinstance(m, ast.Name)}
    pre, loop = hoist(body + at_save, dynamic)
    return LoopPlan(saved, init, pre, loop[len(body) :], loop[: len(body)])


def numpy_source(plan: LoopPlan) -> str:
    """Python source of the numpy backend's ``simulate`` for ``plan``.

    Saved values are written to ``_out[name][k]``, buffers of shape
    ``(saved times, *dims, runs)``; stocks are updated in place and loop temporaries are
    dropped right after their last use (:func:`.optimize.free_dead`).
    """
    save = plan.at_save + [f"_o_{v}[_k] = {v}" for v in plan.saved]
    live: set = set()
    for x in save:
        live |= _names(x)
    body = free_dead(plan.body, live)
    lines = ["def simulate(xp, _ov, N, _c, _times, _flags, _out):"]
    lines += [IND + x for x in plan.init]
    lines += [f"{IND}_o_{v} = _out[{v!r}]" for v in plan.saved]
    lines += [IND + x for x in plan.pre]
    lines += [
        f"{IND}_n = len(_times) - 1",
        f"{IND}_k = 0",
        f"{IND}for _i in range(_n):",
        f"{IND * 2}if _flags[_i]:",
    ]
    lines += [IND * 3 + x for x in save + ["_k += 1"]]
    lines += [IND * 2 + x for x in body]
    lines += [f"{IND}if _flags[_n]:"] + [IND * 2 + x for x in save]
    lines.append(f"{IND}return _k")
    return "\n".join(lines) + "\n"


def _closure(start: Iterable[str], nodes: dict, states: dict) -> set:
    """``start`` and everything it depends on (through dynamic states' update inputs too)."""
    out, todo = set(), list(start)
    while todo:
        n = todo.pop()
        if n in out or n not in nodes:
            continue
        out.add(n)
        todo.extend(nodes[n]["deps"])
        if n in states and nodes[n]["dynamic"]:
            todo.extend(nodes[n]["run_refs"])
    return out
