"""Loop-invariant code motion for the generated time loop.

Every loop statement is parsed with :mod:`ast`; each maximal sub-expression that reads no
name changing inside the loop (time, stocks, dynamic variables) is computed once before the
loop into a ``_h<i>`` temporary and replaced by that name. Python evaluates ``a * b * c`` as
``(a * b) * c``, so hoisting an AST subtree evaluates exactly the same floating-point
operations on the same values: results are bit-identical to the unhoisted code.
"""

from __future__ import annotations

import ast

_TRIVIAL = (ast.Name, ast.Constant, ast.Attribute, ast.Slice, ast.Tuple, ast.Starred, ast.List)


def _names(node: ast.AST) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _worth(node: ast.AST) -> bool:
    """Hoisting pays: the subtree computes something (not a name, literal or ``xp.nan``)."""
    if isinstance(node, _TRIVIAL):
        return False
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return False
    return any(
        isinstance(n, (ast.Call, ast.BinOp, ast.Subscript, ast.Compare, ast.UnaryOp))
        for n in ast.walk(node)
    )


class _Hoister(ast.NodeTransformer):
    def __init__(self, dynamic: set, hoisted: dict):
        self.dynamic = dynamic
        self.hoisted = hoisted  # unparsed expression -> temporary name

    def generic_visit(self, node):
        if isinstance(node, ast.expr) and _worth(node) and not (_names(node) & self.dynamic):
            key = ast.unparse(node)
            name = self.hoisted.setdefault(key, f"_h{len(self.hoisted)}")
            return ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)
        return super().generic_visit(node)


def hoist(lines: list[str], dynamic: set) -> tuple[list[str], list[str]]:
    """Hoist loop-invariant sub-expressions out of the loop statements ``lines``.

    Parameters
    ----------
    lines
        Loop-body statements (no indentation), assignments ``name = expr`` or ``name += expr``.
    dynamic
        Names whose value changes inside the loop (including every name the loop assigns).

    Returns
    -------
    tuple of list of str
        (statements to run once before the loop, rewritten loop statements).
    """
    hoisted: dict = {}
    tr = _Hoister(set(dynamic), hoisted)
    out = []
    for line in lines:
        stmt = ast.parse(line).body[0]
        if isinstance(stmt, (ast.Assign, ast.AugAssign)):
            stmt.value = tr.visit(stmt.value)
        out.append(ast.unparse(stmt))
    pre = [f"{name} = {code}" for code, name in hoisted.items()]
    return pre, out


def _reads(stmt: ast.stmt) -> set:
    """Names a statement reads (an augmented or subscripted target is read too)."""
    if isinstance(stmt, ast.AugAssign):
        return _names(stmt.value) | _names(stmt.target)
    if isinstance(stmt, ast.Assign):
        out = _names(stmt.value)
        for tgt in stmt.targets:
            if not isinstance(tgt, ast.Name):
                out |= _names(tgt)
        return out
    return _names(stmt)


def free_dead(lines: list[str], live: set) -> list[str]:
    """Insert ``del`` statements that drop loop temporaries right after their last use.

    A name assigned in the loop body that is read neither before its assignment (so by
    the next iteration) nor in ``live`` (the save block and anything after the loop) is
    dead after its last read within the body. Dropping it there returns its array to the
    allocator while still hot in cache, so the next temporaries reuse that memory: the
    working set of a time step shrinks from every variable to the live ones. Values are
    unchanged (only references are dropped).

    Parameters
    ----------
    lines
        Loop-body statements in execution order (no indentation).
    live
        Names that must survive the body (read by the save block or after the loop).

    Returns
    -------
    list of str
        ``lines`` with ``del`` statements inserted.
    """
    stmts = [ast.parse(x).body[0] for x in lines]
    assigned: set = set()
    exposed = set(live)  # read before (re)assignment: live around the loop
    last: dict = {}
    for j, stmt in enumerate(stmts):
        reads = _reads(stmt)
        exposed |= reads - assigned
        for n in reads:
            last[n] = j
        if isinstance(stmt, ast.Assign):
            assigned |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
    out = []
    for j, (line, stmt) in enumerate(zip(lines, stmts, strict=True)):
        out.append(line)
        dead = sorted(
            n for n in _reads(stmt) if last[n] == j and n in assigned and n not in exposed
        )
        if dead:
            out.append("del " + ", ".join(dead))
    return out
