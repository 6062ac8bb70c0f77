"""What a sweep sets and saves in a compiled model: the constant (and element) each
column of a sample sets, and the variables named by ``--vars``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from sdmodel.errors import SdmodelError
from sdmodel.experiments.uncertainty import UncertaintySpec
from sdmodel.model.naming import normalize

__all__ = ["element_labels", "resolve_variables", "sample_targets"]


def element_labels(cm: Any, py: str) -> list[str]:
    """The element labels of a compiled variable, several subscripts joined with ``","``."""
    dims = cm.elements[py]["dims"]
    return [",".join(c) for c in itertools.product(*(cm.program.dims[d] for d in dims))]


def sample_targets(cm: Any, spec: UncertaintySpec) -> list[tuple[str, tuple[int, ...] | None]]:
    """Per column of a spec's sample, the constant it sets: ``(Python name, element index)``
    (``None`` for a whole constant), as :func:`sdmodel.experiments.executors.run_chunk`
    takes them."""
    out = []
    for p in spec.parameters:
        py = cm.resolve(p.variable)
        if p.elements is None:
            out.append((py, None))
            continue
        dims = cm.elements[py]["dims"]
        index = tuple(
            [normalize(x) for x in cm.program.dims[d]].index(normalize(e))
            for d, e in zip(dims, p.elements, strict=True)
        )
        out.append((py, index))
    return out


#: Element kinds that are not saved by default (constant in time or not variables).
_NOT_SAVED = ("constant", "lookup", "control")


def resolve_variables(cm: Any, names: Sequence[str]) -> tuple[str, ...]:
    """The Python names of the variables a sweep saves (``--vars``); every time-varying
    variable when ``names`` is empty. Raises :class:`SdmodelError` naming an unknown or
    unsaveable variable."""
    if not names:  # every time-varying variable of the model
        names = [e["name"] for e in cm.elements.values() if e["kind"] not in _NOT_SAVED]
    out = []
    for name in names:
        try:
            py = cm.resolve(name)
        except Exception:
            raise SdmodelError(f"--vars: unknown model variable {name!r}") from None
        kind = cm.elements[py]["kind"]
        if kind in ("lookup", "control"):
            raise SdmodelError(f"--vars: {name!r} is a {kind}, not a saveable variable")
        out.append(py)
    if not out:
        raise SdmodelError("--vars: no variables to save")
    return tuple(dict.fromkeys(out))
