"""Translate pysd abstract-syntax expressions into vectorized numpy source code.

Every value in generated code is either a Python scalar (no run axis, no dimensions: literals,
``t`` and control values) or an array of shape ``(*dims, R)`` with ``R`` = 1 or N runs: the
run axis is LAST, so per-run scalars (shape ``(R,)``) broadcast against subscripted values
without new axes and every elementwise loop runs over the long, contiguous run axis. A
:class:`Frag` carries a code string plus its ordered dimensions (name -> element labels);
operands are aligned by dimension name with ``permute_dims``/new axes, mirroring how pysd's
xarray values broadcast by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import UnsupportedConstructError
from .fragments import CONTROL_PY, SMALL, Frag, Stateful, _paren, align, union_dims  # noqa: F401

if TYPE_CHECKING:  # pysd is imported only to compile, not to run a cached model
    from .parse import ParsedModel


class ExpressionBuilder:
    """Builds code for the expressions of one element.

    Parameters
    ----------
    pm
        The parsed model.
    element
        Vensim name (for error messages).
    py_name
        Python name of the element being compiled.
    registry
        Shared compile state: ``consts`` (name -> numpy array, module constants),
        ``states`` (list of :class:`Stateful`).
    """

    def __init__(self, pm: ParsedModel, element: str, py_name: str, registry: dict):
        self.pm = pm
        self.element = element
        self.py_name = py_name
        self.reg = registry
        self.refs: set = set()
        self.uses_time = False
        self.def_dims: dict = {}

    # -- helpers -----------------------------------------------------------------------
    def fail(self, construct: str):
        raise UnsupportedConstructError(self.element, construct)

    def const(self, value: np.ndarray) -> str:
        name = f"_K{len(self.reg['consts'])}"
        self.reg["consts"][name] = np.asarray(value)
        return name

    def build(self, ast, def_dims: dict) -> Frag:
        """Build code for ``ast`` within a component defined on ``def_dims``."""
        self.def_dims = def_dims
        return self.visit(ast)

    def visit(self, ast) -> Frag:
        if isinstance(ast, (int, float, np.floating, np.integer)):
            v = float(ast)
            return Frag("xp.nan" if np.isnan(v) else repr(v))
        method = getattr(self, "v_" + type(ast).__name__, None)
        if method is None:
            self.fail(type(ast).__name__)
        return method(ast)

    # -- operations --------------------------------------------------------------------
    def _combine(self, frags):
        dims = union_dims(frags)
        return [align(f, list(dims)) for f in frags], dims, any(f.run for f in frags)

    def v_ArithmeticStructure(self, ast) -> Frag:
        frags = [self.visit(a) for a in ast.arguments]
        try:
            codes, dims, run = self._combine(frags)
        except ValueError as err:
            self.fail(f"arithmetic with incompatible subscripts ({err})")
        ops = list(ast.operators)
        if len(codes) == 1:
            if ops[0] == "negative":
                return Frag(f"-{_paren(codes[0])}", dims, run)
            self.fail(f"unary operator {ops[0]}")
        pyops = {"^": "**", "*": "*", "/": "/", "+": "+", "-": "-"}
        out = _paren(codes[0])
        for op, c in zip(ops, codes[1:], strict=True):
            if op not in pyops:
                self.fail(f"operator {op}")
            out += f" {pyops[op]} {_paren(c)}"
        return Frag(out, dims, run)

    def v_LogicStructure(self, ast) -> Frag:
        frags = [self.visit(a) for a in ast.arguments]
        try:
            codes, dims, run = self._combine(frags)
        except ValueError as err:
            self.fail(f"logic with incompatible subscripts ({err})")
        ops = list(ast.operators)
        if len(codes) == 1:
            if ops[0] != ":NOT:":
                self.fail(f"unary operator {ops[0]}")
            return Frag(f"xp.logical_not({codes[0]})", dims, run)
        cmp_ops = {"=": "==", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
        # built right to left like pysd's OperationBuilder
        right = codes[-1]
        for op, left in zip(reversed(ops), reversed(codes[:-1]), strict=True):
            if op == ":AND:":
                right = f"xp.logical_and({left}, {right})"
            elif op == ":OR:":
                right = f"xp.logical_or({left}, {right})"
            elif op in cmp_ops:
                right = f"({_paren(left)} {cmp_ops[op]} {_paren(right)})"
            else:
                self.fail(f"operator {op}")
        return Frag(right, dims, run)

    def v_GameStructure(self, ast) -> Frag:
        return self.visit(ast.expression)

    # -- references ----------------------------------------------------------------------
    def v_ReferenceStructure(self, ast) -> Frag:
        name = ast.reference
        if name == "time":
            self.uses_time = True
            return Frag("t")
        name = self.pm.namespace.cleanspace.get(name, name)
        if name in CONTROL_PY and name in self.pm.elements:
            return Frag(f"_c_{name}")
        if name not in self.pm.elements:
            return self._subscript_number(ast.reference)
        el = self.pm.elements[name]
        if el.kind == "lookup":
            self.fail(f"reference to lookup '{el.name}' without argument")
        self.refs.add(name)
        subs = list(ast.subscripts.subscripts) if ast.subscripts else []
        return self.select(name, el.dims, subs)

    def select(self, code: str, el_dims: list, subs: list, lead: int = 0) -> Frag:
        """Index an element's value by the reference subscripts (pysd ``visit_loc``).

        ``lead`` leading axes (lookup segments) precede the element's dimensions.
        """
        full = {d: self.pm.coords(d) for d in el_dims}
        if not subs:
            return Frag(code, full, True)
        if len(subs) != len(el_dims):
            self.fail(f"reference with {len(subs)} subscripts to {len(el_dims)}-d variable")
        dims: dict = {}
        axis = lead
        for orig, s in zip(el_dims, subs, strict=True):
            ocoords = full[orig]
            base = s.rstrip("!")
            if base in self.pm.subscripts.subscripts:
                coords = self.pm.coords(base)
                if coords == ocoords:
                    dims[s] = coords
                    axis += 1
                    continue
                try:
                    idx = [ocoords.index(c) for c in coords]
                except ValueError:
                    self.fail(f"subscript range {s} not within {orig}")
                if idx == list(range(idx[0], idx[0] + len(idx))):
                    sl = ":," * axis + f"{idx[0]}:{idx[-1] + 1}"
                    code = f"{_paren(code)}[{sl}]"
                else:
                    code = f"xp.take({code}, {self.const(np.array(idx))}, axis={axis})"
                dims[s] = coords
                axis += 1
            else:
                if s not in ocoords:
                    self.fail(f"subscript {s} not in range {orig}")
                code = f"{_paren(code)}[{':,' * axis}{ocoords.index(s)}]"
        # mapping: rename dims absent from the definition to mapped dims (pysd semantics)
        out: dict = {}
        for d, c in dims.items():
            if d.endswith("!") or d in self.def_dims:
                out[d] = c
                continue
            new = d
            for mapped in self.pm.subscripts.mapping.get(d, []):
                if not isinstance(mapped, str):
                    self.fail(f"complex subscript mapping of {d}")
                if mapped in self.def_dims and mapped not in dims:
                    if len(self.pm.coords(mapped)) != len(c):
                        self.fail(f"mapping {d} -> {mapped} of different length")
                    new = mapped
                    break
            out[new] = self.pm.coords(new)
        return Frag(code, out, True)

    def _subscript_number(self, name: str) -> Frag:
        sm = self.pm.subscripts
        if name not in sm.subscript2num:
            self.fail(f"reference to unknown name '{name}'")
        _, subs = sm.subscript2num[name]
        if not subs:
            for rng, coords in sm.subscripts.items():
                if rng in sm.subranges:
                    for i, c in enumerate(coords, start=1):
                        if c.replace(" ", "_").lower() == name:
                            return Frag(repr(float(i)))
            self.fail(f"subscript number of '{name}'")
        ((rng, coords),) = subs.items()
        main = next(r for r in sm.subranges if rng == r or rng in sm.subranges[r])
        pos = [float(sm.subscripts[main].index(c) + 1) for c in coords]
        return Frag(self.const(np.array(pos)[:, None]), {rng: list(coords)}, True)

    # -- calls -----------------------------------------------------------------------------
    def v_CallStructure(self, ast) -> Frag:
        fname = ast.function.reference
        if fname in self.pm.namespace.cleanspace:
            return self._lookup_call(ast)
        args = [self.visit(a) for a in ast.arguments]
        from .functions import build_call

        return build_call(self, fname, args)

    def _lookup_call(self, ast) -> Frag:
        el = self.pm.elements[self.pm.namespace.cleanspace[ast.function.reference]]
        if el.kind != "lookup":
            self.fail(f"call of non-lookup element '{el.name}'")
        if len(ast.arguments) != 1:
            self.fail("lookup call with several arguments")
        arg = self.visit(ast.arguments[0])
        tables = el.extra["tables"]  # (*dims, K) x and y arrays, nan padded
        subs = list(ast.function.subscripts.subscripts) if ast.function.subscripts else []
        from .functions import lookup_code

        return lookup_code(self, el, tables, subs, arg)

    def v_InlineLookupsStructure(self, ast) -> Frag:
        from .functions import inline_lookup_code

        return inline_lookup_code(self, ast)

    def v_LookupsStructure(self, ast) -> Frag:
        self.fail("lookup definition inside an expression")

    # -- statefuls (see functions.py) ----------------------------------------------------------
    def v_IntegStructure(self, ast) -> Frag:
        from .functions import build_stateful

        return build_stateful(self, "integ", ast)

    def v_InitialStructure(self, ast) -> Frag:
        from .functions import build_stateful

        return build_stateful(self, "initial", ast)

    def v_SmoothStructure(self, ast) -> Frag:
        from .functions import build_stateful

        return build_stateful(self, "smooth", ast)

    v_SmoothNStructure = v_SmoothStructure

    def v_DelayStructure(self, ast) -> Frag:
        from .functions import build_stateful

        return build_stateful(self, "delay", ast)

    def v_DelayNStructure(self, ast) -> Frag:
        from .functions import build_stateful

        return build_stateful(self, "delayn", ast)

    def v_DelayFixedStructure(self, ast) -> Frag:
        from .functions import build_stateful

        return build_stateful(self, "delay_fixed", ast)

    def v_SampleIfTrueStructure(self, ast) -> Frag:
        from .functions import build_stateful

        return build_stateful(self, "sample_if_true", ast)

    def v_TrendStructure(self, ast) -> Frag:
        from .functions import build_stateful

        return build_stateful(self, "trend", ast)
