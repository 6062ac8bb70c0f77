"""Compile a parsed model into per-element code snippets and the dependency graph.

The result (:class:`Program`) is plain data (strings, lists, numpy arrays) so that it can be
cached by the model file's hash. :func:`assemble` turns it into the source of one
``simulate`` function for a given set of saved variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .errors import UnsupportedConstructError
from .expressions import ExpressionBuilder, _paren, align

if TYPE_CHECKING:  # pysd is imported only to compile, not to run a cached model
    from .parse import ParsedModel

ENGINE_VERSION = "7"


@dataclass
class Program:
    """Compiled model: snippets, graph and metadata."""

    dims: dict  # pysd range name -> labels (only ranges used by elements)
    elements: dict  # py_name -> info dict
    controls: dict  # control py name -> code (in terms of _c_* and literals)
    control_order: list
    consts: dict  # module constant name -> numpy array
    nodes: dict  # node -> {"init": code, "deps": set, "init_deps": set, "dynamic": bool}
    init_order: list
    step_order: list
    states: list  # dicts: name, kind, element, shape, args, run_refs
    defaults: dict = field(default_factory=dict)  # constant py_name -> default array


def _def_dims(pm: ParsedModel, el, comp) -> tuple[dict, list, bool]:
    """Range dims of a component, per-position index arrays, and full coverage flag."""
    def_dims, idx, full = {}, [], True
    if len(comp.subscripts) != len(el.dims):
        raise UnsupportedConstructError(el.name, "component/element subscript mismatch")
    for s, d in zip(comp.subscripts, el.dims, strict=True):
        dc = pm.coords(d)
        if s in pm.subscripts.subscripts:
            coords = pm.coords(s)
            def_dims[s] = coords
        else:
            coords = [s]
        full = full and coords == dc and s in def_dims
        idx.append(np.array([dc.index(c) for c in coords]))
    return def_dims, idx, full


def compile_program(pm: ParsedModel) -> Program:
    """Translate every element of ``pm`` to numpy code; see :class:`Program`."""
    reg = {"consts": {}, "states": [], "static_states": set()}
    prog = Program(
        dims={},
        elements={},
        controls={},
        control_order=[],
        consts=reg["consts"],
        nodes={},
        init_order=[],
        step_order=[],
        states=[],
    )
    for el in pm.elements.values():
        if el.kind == "lookup":
            _compile_lookup(pm, el, tuple(len(pm.coords(d)) for d in el.dims))
    for py, el in pm.elements.items():
        for d in el.dims:
            prog.dims[d] = pm.coords(d)
        shape = tuple(len(pm.coords(d)) for d in el.dims)
        info = {
            "name": el.name,
            "py_name": py,
            "kind": el.kind,
            "dims": list(el.dims),
            "shape": shape,
            "units": el.units,
            "comment": el.comment,
        }
        prog.elements[py] = info
        if any(c.excepts for c in el.components):
            raise UnsupportedConstructError(el.name, ":EXCEPT: subscripts")
        if el.kind == "control":
            b = ExpressionBuilder(pm, el.name, py, reg)
            frag = b.build(el.components[0].ast, {})
            if frag.run or b.refs:
                raise UnsupportedConstructError(el.name, "control value depending on variables")
            prog.controls[py] = frag.code
            continue
        if el.kind == "lookup":
            info["tables"] = el.extra["tables"]
            continue
        if el.kind == "constant":
            prog.defaults[py] = _constant_value(pm, el, shape)
            kname = f"_D_{py}"
            reg["consts"][kname] = prog.defaults[py][..., None]
            prog.nodes[py] = {
                "init": f"_ov({py!r}, {kname})",
                "deps": set(),
                "init_deps": set(),
                "time": False,
            }
            continue
        comps, refs, uses_time = [], set(), False
        for comp in el.components:
            def_dims, idx, full = _def_dims(pm, el, comp)
            b = ExpressionBuilder(pm, el.name, py, reg)
            nstates = len(reg["states"])
            frag = b.build(comp.ast, def_dims)
            if el.kind == "stock" and len(reg["states"]) > nstates:
                reg["states"][nstates].override = py
            try:
                code = align(frag, list(def_dims))
            except ValueError:
                raise UnsupportedConstructError(
                    el.name, f"expression dims {list(frag.dims)} outside {list(def_dims)}"
                ) from None
            refs |= b.refs
            uses_time |= b.uses_time
            comps.append(
                (
                    code,
                    idx,
                    full,
                    frag.run and len(frag.dims) == len(def_dims),
                    [i for i, s in enumerate(comp.subscripts) if s not in def_dims],
                )
            )
        if len(comps) == 1 and comps[0][2]:
            code = comps[0][0] if comps[0][3] else f"_bc({comps[0][0]}, {shape})"
        else:
            parts = []
            for code, idx, _, _, single in comps:
                ix = reg_const(reg, np.ix_(*idx)) if idx else "()"
                parts.append(f"({ix}, {tuple(single)}, {code})")
            code = f"_assemble({shape}, [{', '.join(parts)}])"
        prog.nodes[py] = {"init": code, "deps": refs, "init_deps": refs, "time": uses_time}
    for st in reg["states"]:
        prog.states.append(
            {
                "name": st.name,
                "kind": st.kind,
                "element": st.element,
                "shape": st.shape,
                "args": st.args,
                "override": getattr(st, "override", None),
            }
        )
        prog.nodes[st.name] = {
            "init": None,
            "deps": set(),
            "init_deps": st.init_refs,
            "time": False,
            "state": st.kind,
            "run_refs": st.run_refs,
        }
    _order(pm, prog, reg)
    prog.control_order = _control_order(prog)
    return prog


def reg_const(reg: dict, value) -> str:
    """Register a module-level constant (any picklable object) and return its name."""
    name = f"_K{len(reg['consts'])}"
    reg["consts"][name] = value
    return name


def _constant_value(pm: ParsedModel, el, shape: tuple) -> np.ndarray:
    out = np.full(shape, np.nan)
    for comp in el.components:
        _, idx, _ = _def_dims(pm, el, comp)
        val = np.asarray(comp.ast, dtype=float)
        if idx:
            out[np.ix_(*idx)] = val.reshape([len(i) for i in idx])
        else:
            out = val.reshape(())
    return out


def _compile_lookup(pm: ParsedModel, el, shape: tuple) -> None:
    tabs = {}
    for comp in el.components:
        lk = comp.ast
        if lk.type != "interpolate":
            raise UnsupportedConstructError(el.name, f"lookup type {lk.type}")
        _, idx, _ = _def_dims(pm, el, comp)
        for pos in np.ndindex(*[len(i) for i in idx]) if idx else [()]:
            key = tuple(int(i[p]) for i, p in zip(idx, pos, strict=True))
            tabs[key] = (np.asarray(lk.x, float), np.asarray(lk.y, float))
    if len(tabs) != int(np.prod(shape)):
        raise UnsupportedConstructError(el.name, "lookup not defined for every subscript")
    k = max(len(x) for x, _ in tabs.values())
    xs, ys = np.empty(shape + (k,)), np.empty(shape + (k,))
    for key, (x, y) in tabs.items():
        xs[key] = np.concatenate([x, np.repeat(x[-1:], k - len(x))])
        ys[key] = np.concatenate([y, np.repeat(y[-1:], k - len(y))])
    el.extra["tables"] = {"x": xs, "y": ys}


def _toposort(nodes: list, deps, what: str, pm: ParsedModel) -> list:
    order, state = [], {}

    def visit(n, path):
        s = state.get(n)
        if s == 2:
            return
        if s == 1:
            cyc = path[path.index(n) :] + [n]
            names = [pm.elements[c].name if c in pm.elements else c for c in cyc]
            raise UnsupportedConstructError(names[0], f"circular {what}: {' -> '.join(names)}")
        state[n] = 1
        for d in sorted(deps(n)):
            visit(d, path + [n])
        state[n] = 2
        order.append(n)

    for n in nodes:
        visit(n, [])
    return order


def _order(pm: ParsedModel, prog: Program, reg: dict) -> None:
    nodes = prog.nodes
    prog.init_order = _toposort(list(nodes), lambda n: nodes[n]["init_deps"], "initialisation", pm)
    # dynamic: depends on time, on a dynamic state, or on a dynamic node
    dyn: dict = {}
    for n in _toposort(list(nodes), lambda n: nodes[n]["deps"], "dependency", pm):
        node = nodes[n]
        if "state" in node:
            dyn[n] = node["state"] != "initial"
        else:
            dyn[n] = node["time"] or any(dyn[d] for d in node["deps"])
        node["dynamic"] = dyn[n]
    prog.step_order = [
        n
        for n in _toposort(list(nodes), lambda n: nodes[n]["deps"], "dependency", pm)
        if dyn[n] and "state" not in nodes[n]
    ]


def _control_order(prog: Program) -> list:
    return [c for c in ("time_step", "initial_time", "final_time", "saveper") if c in prog.controls]


def state_code(st: dict) -> tuple[list, list, list]:
    """(init lines, derivative lines, update lines) for one stateful object."""
    n, k, a, shape = st["name"], st["kind"], st["args"], st["shape"]
    ov = st.get("override")
    init_val = a.get("initial", "0.0")
    if ov:
        init_val = f"_ov({ov!r}, {init_val})"
    # Euler steps: every increment ``d * dt`` is computed (a fresh array) before any stock
    # is updated in place, so aliases between stocks and flows cannot leak new values.
    if k == "initial":
        return [f"{n} = _frozen({init_val}, {shape})"], [], []
    if k == "integ":
        return (
            [f"{n} = _full({init_val}, N, {shape})"],
            [f"_d{n} = {_paren(a['flow'])} * dt"],
            [f"{n} += _d{n}"],
        )
    if k == "smooth":
        return (
            [
                f"{n}_o = _order({a['order']}, _c, {n!r})",
                f"{n} = _stack({init_val}, {n}_o, N, {shape})",
            ],
            [f"_d{n} = _smooth_ddt({n}, {a['input']}, {a['smooth_time']}, {n}_o) * dt"],
            [f"{n} += _d{n}"],
        )
    if k == "delay":
        return (
            [
                f"{n}_o = _delay_order({a['order']}, dt, {a['delay_time']}, _c, {n!r})",
                f"{n} = _stack({_paren(init_val)} * {_paren(a['delay_time'])}, {n}_o, N, {shape})",
            ],
            [f"_d{n} = _delay_inc({n}, {a['input']}, {a['delay_time']}, {n}_o * dt)"],
            [f"{n} += _d{n}"],
        )
    if k == "delayn":
        return (
            [
                f"{n}_o = _delay_order({a['order']}, dt, {a['delay_time']}, _c, {n!r})",
                f"{n} = _stack({_paren(init_val)} * {_paren(a['delay_time'])}, {n}_o, N, {shape})",
                f"{n}_tm = _stack({a['delay_time']}, {n}_o, N, {shape})",
            ],
            [
                f"{n}_tm = _shift({n}_tm, {a['delay_time']})",
                f"_d{n} = _delay_inc({n}, {a['input']}, {n}_tm, {n}_o * dt)",
            ],
            [f"{n} += _d{n}"],
        )
    if k == "delay_fixed":
        return (
            [
                f"{n}_o = _fixed_order({a['delay_time']}, dt, _c, {n!r})",
                f"{n} = _full({init_val}, N, {shape})",
                f"{n}_p = [{n}] * {n}_o",
                f"{n}_i = 0",
            ],
            [f"_d{n} = _full({a['input']}, N, {shape})"],
            [f"{n}_p[{n}_i] = _d{n}", f"{n}_i = ({n}_i + 1) % {n}_o", f"{n} = {n}_p[{n}_i]"],
        )
    if k == "sample_if_true":
        return (
            [f"{n} = _full({init_val}, N, {shape})"],
            [f"_d{n} = xp.where({a['condition']}, {a['input']}, {n})"],
            [f"{n} = {n} * 0 + _d{n}"],
        )
    if k == "trend":
        inp, avg = _paren(a["input"]), _paren(a["average_time"])
        return (
            [f"{n} = _full({inp} / (1 + {_paren(a['initial_trend'])} * {avg}), N, {shape})"],
            [f"_d{n} = (({inp} - {n}) / {avg}) * dt"],
            [f"{n} += _d{n}"],
        )
    raise UnsupportedConstructError(st["element"], k)
