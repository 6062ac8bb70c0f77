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
