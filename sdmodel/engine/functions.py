"""Vensim builtin functions, lookups and stateful constructs for the engine compiler.

Semantics follow ``pysd.py_backend.functions`` and ``pysd.py_backend.statefuls``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .fragments import SMALL, Frag, Stateful, _paren, align, union_dims

if TYPE_CHECKING:
    from .expressions import ExpressionBuilder

_UNARY = {
    "abs": "xp.abs",
    "exp": "xp.exp",
    "sqrt": "xp.sqrt",
    "ln": "xp.log",
    "sin": "xp.sin",
    "cos": "xp.cos",
    "tan": "xp.tan",
    "arcsin": "xp.asin",
    "arccos": "xp.acos",
    "arctan": "xp.atan",
    "sinh": "xp.sinh",
    "cosh": "xp.cosh",
    "tanh": "xp.tanh",
    "integer": "xp.trunc",
}
_AGG = {"sum": "xp.sum", "prod": "xp.prod", "vmin": "xp.min", "vmax": "xp.max"}
_UNROLL = 32  # reductions over at most this many elements are unrolled (bit-identical
# results whatever the number of runs: numpy's pairwise sum depends on the memory layout)


def build_call(b: ExpressionBuilder, fname: str, args: list) -> Frag:
    """Code for a builtin function call (pysd ``functionspace`` semantics)."""
    if fname in _AGG:
        return _aggregate(b, fname, args[0])
    try:
        dims = union_dims(args)
    except ValueError as err:
        b.fail(f"{fname.upper()} with incompatible subscripts ({err})")
    c = [align(a, list(dims)) for a in args]
    run = any(a.run for a in args)
    n = len(c)

    def out(code: str) -> Frag:
        return Frag(code, dims, run)

    if fname in _UNARY and n == 1:
        return out(f"{_UNARY[fname]}({c[0]})")
    if fname == "pi" and n == 0:
        return Frag("xp.pi")
    if fname == "log" and n == 2:
        return out(f"(xp.log({c[0]}) / xp.log({c[1]}))")
    if fname == "power" and n == 2:
        return out(f"xp.pow({c[0]}, {c[1]})")
    if fname in ("min", "max") and n == 2:
        return out(f"xp.{fname}imum({c[0]}, {c[1]})")
    if fname == "if_then_else" and n == 3:
        return out(f"xp.where({c[0]}, {c[1]}, {c[2]})")
    if fname == "xidz" and n == 3:
        return out(f"xp.where(xp.abs({c[1]}) < {SMALL}, {c[2]}, {_paren(c[0])} / {_paren(c[1])})")
    if fname == "zidz" and n == 2:
        return out(f"xp.where(xp.abs({c[1]}) < {SMALL}, 0.0, {_paren(c[0])} / {_paren(c[1])})")
    if fname == "quantum" and n == 2:
        return out(_quantum(c[0], c[1]))
    if fname == "modulo" and n == 2:
        return out(f"({_paren(c[0])} - {_quantum(c[0], c[1])})")
    if fname in ("step", "ramp", "pulse", "pulse_train"):
        b.uses_time = True
        if fname == "step" and n == 2:
            return out(f"({_paren(c[0])} * (t + _c_time_step / 2 > {_paren(c[1])}))")
        if fname == "ramp" and n in (2, 3):
            final = "t" if n == 2 else f"xp.minimum({c[2]}, t)"
            return out(
                f"((t + {SMALL} > {_paren(c[1])}) * {_paren(c[0])} * ({final} - {_paren(c[1])}))"
            )
        if fname == "pulse" and n == 2:
            s, w = _paren(c[0]), _paren(c[1])
            return out(f"xp.where(xp.logical_and({s} - {SMALL} <= t, t < {s} + {w}), 1.0, 0.0)")
        if fname == "pulse_train" and n == 4:
            s, r, w, e = (_paren(x) for x in c)
            single = f"xp.logical_and({s} - {SMALL} <= t, t < {s} + {w})"
            train = (
                f"xp.logical_and(xp.logical_and({s} <= t, t < {e}), "
                f"(t - {s} + {SMALL}) % {r} < {w})"
            )
            return out(f"xp.where(xp.where({r} == 0, {single}, {train}), 1.0, 0.0)")
    b.fail(f"function {fname.upper()} with {n} arguments")


def _quantum(a: str, m: str) -> str:
    m = _paren(m)
    return f"xp.where({m} < {SMALL}, {a}, {m} * xp.trunc({_paren(a)} / {m}))"


def _aggregate(b: ExpressionBuilder, fname: str, arg: Frag) -> Frag:
    if not arg.run or not arg.dims:
        b.fail(f"{fname.upper()} of a scalar")
    names = list(arg.dims)
    red = [i for i, d in enumerate(names) if d.endswith("!")] or list(range(len(names)))
    keep = {d: c for i, (d, c) in enumerate(arg.dims.items()) if i not in red}
    sizes = [len(list(arg.dims.values())[i]) for i in red]
    if all(2 <= n <= _UNROLL for n in sizes):
        # short axes (run axis last, so never the innermost one), reduced one at a time from
        # the last, each as an unrolled chain of element-wise operations: the order of the
        # additions is fixed, so the result does not depend on the number of runs (numpy's
        # reduce over several axes coalesces them into a pairwise sum when there is one run)
        code = arg.code
        for i in reversed(red):
            code = f"_{fname}_ax({code}, {i})"
        return Frag(code, keep, True)
    return Frag(f"{_AGG[fname]}({arg.code}, axis={tuple(red)})", keep, True)


# -- lookups -------------------------------------------------------------------------------
def lookup_tables(x: np.ndarray, y: np.ndarray) -> dict:
    """Segment tables for vectorized interpolation: x0, dx, slope (LEADING axis K-1)."""
    x0 = x[..., :-1]
    dx = np.diff(x, axis=-1)
    dy = np.diff(y, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(dx > 0, dy / np.where(dx > 0, dx, 1.0), 0.0)
    seg = {"x0": x0, "dx": dx, "s": slope}
    out = {k: np.moveaxis(v, -1, 0)[..., None] for k, v in seg.items()}  # (K-1, *dims, 1)
    out["y0"] = y[..., 0][..., None]  # (*dims, 1)
    return out


def lookup_code(b: ExpressionBuilder, el, tables: dict, subs: list, arg: Frag) -> Frag:
    """Code for calling lookup element ``el`` (clamped linear interpolation)."""
    if not el.dims:
        x, y = tables["x"], tables["y"]
        return Frag(f"xp.interp({arg.code}, {b.const(x)}, {b.const(y)})", arg.dims, arg.run)
    seg = lookup_tables(tables["x"], tables["y"])
    tf = {
        k: b.select(b.const(v), el.dims, subs, lead=0 if k == "y0" else 1) for k, v in seg.items()
    }
    try:
        dims = union_dims([tf["s"], arg])
    except ValueError as err:
        b.fail(f"lookup call with incompatible subscripts ({err})")
    t = {k: align(v, list(dims), lead=0 if k == "y0" else 1) for k, v in tf.items()}
    a = align(arg, list(dims))
    a = f"{_paren(a)}[None, ...]" if arg.run else a
    code = f"({t['y0']} + xp.sum({t['s']} * xp.clip({a} - {t['x0']}, 0.0, {t['dx']}), axis=0))"
    return Frag(code, dims, True)


def inline_lookup_code(b: ExpressionBuilder, ast) -> Frag:
    """Code for ``WITH LOOKUP``."""
    lk = ast.lookups
    if lk.type != "interpolate":
        b.fail(f"lookup type {lk.type}")
    arg = b.visit(ast.argument)
    x, y = np.asarray(lk.x, float), np.asarray(lk.y, float)
    return Frag(f"xp.interp({arg.code}, {b.const(x)}, {b.const(y)})", arg.dims, arg.run)


# -- statefuls -----------------------------------------------------------------------------
_ARGS = {
    # kind: (ast attributes, needed at initialisation, used by the output, used by the update)
    "integ": (("flow", "initial"), ("initial",), (), ("flow",)),
    "initial": (("initial",), ("initial",), (), ()),
    "smooth": (
        ("input", "smooth_time", "initial", "order"),
        ("initial", "order"),
        (),
        ("input", "smooth_time"),
    ),
    "delay": (
        ("input", "delay_time", "initial", "order"),
        ("initial", "delay_time", "order"),
        ("delay_time",),
        ("input", "delay_time"),
    ),
    "delayn": (
        ("input", "delay_time", "initial", "order"),
        ("initial", "delay_time", "order"),
        (),
        ("input", "delay_time"),
    ),
    "delay_fixed": (("input", "delay_time", "initial"), ("initial", "delay_time"), (), ("input",)),
    "sample_if_true": (
        ("condition", "input", "initial"),
        ("initial",),
        ("condition", "input"),
        ("condition", "input"),
    ),
    "trend": (
        ("input", "average_time", "initial_trend"),
        ("input", "average_time", "initial_trend"),
        ("input", "average_time"),
        ("input", "average_time"),
    ),
}


def build_stateful(b: ExpressionBuilder, kind: str, ast) -> Frag:
    """Register a stateful object and return code for its current value."""
    attrs, init_attrs, out_attrs, upd_attrs = _ARGS[kind]
    dims = b.def_dims
    target = list(dims)
    args, refs = {}, {}
    outer_refs, outer_time = b.refs, b.uses_time
    for a in attrs:
        b.refs = set()
        frag = b.visit(getattr(ast, a))
        try:
            args[a] = align(frag, target)
        except ValueError:
            b.fail(
                f"{kind.upper()} argument '{a}' with dims {list(frag.dims)} "
                f"outside definition {target}"
            )
        refs[a] = b.refs
    b.refs = outer_refs
    b.uses_time = outer_time
    name = f"_s{len(b.reg['states'])}"
    init_refs = set().union(*(refs[a] for a in init_attrs))
    run_refs = set().union(*(refs[a] for a in upd_attrs))
    st = Stateful(
        name, kind, b.py_name, tuple(len(c) for c in dims.values()), args, init_refs, run_refs
    )
    b.reg["states"].append(st)
    for a in out_attrs:
        b.refs |= refs[a]
    if kind in ("integ", "initial", "delay_fixed"):
        code = name
    elif kind in ("smooth",):
        code = f"{name}[-1]"
    elif kind == "delay":
        code = f"({name}[-1] / {_paren(args['delay_time'])})"
    elif kind == "delayn":
        code = f"({name}[-1] / {name}_tm[0])"
    elif kind == "sample_if_true":
        code = f"xp.where({args['condition']}, {args['input']}, {name})"
    else:  # trend
        inp, avg = _paren(args["input"]), _paren(args["average_time"])
        code = (
            f"xp.where(xp.abs({avg} * xp.abs({name})) < {SMALL}, 0.0, "
            f"({inp} - {name}) / ({avg} * xp.abs({name})))"
        )
    if kind == "initial":
        b.reg["static_states"].add(name)
    b.refs.add(name)
    return Frag(code, dict(dims), True)
