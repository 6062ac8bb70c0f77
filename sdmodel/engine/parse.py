"""Parse a Vensim model with pysd and collect what the engine compiler needs.

pysd's translator gives the abstract model; pysd's own :class:`SubscriptManager` and
:class:`NamespaceManager` give subscript ranges, element dimensions and Python names, so
names and dimension orders are exactly those of pysd's Python builder.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pysd.builders.python.namespace import NamespaceManager
from pysd.builders.python.subscripts import SubscriptManager
from pysd.translators.structures import abstract_expressions as ae
from pysd.translators.structures.abstract_model import AbstractControlElement
from pysd.translators.vensim.vensim_file import VensimFile

from ..errors import SdmodelError
from .errors import UnsupportedConstructError

CONTROL_NAMES = {
    "initial_time": "INITIAL TIME",
    "final_time": "FINAL TIME",
    "time_step": "TIME STEP",
    "saveper": "SAVEPER",
}


@dataclass
class Component:
    """One equation of an element: its subscripts (with exceptions) and its AST."""

    subscripts: list[str]
    excepts: list
    ast: object
    kind: str


@dataclass
class Element:
    """Everything the compiler needs to know about one model element."""

    name: str
    py_name: str
    dims: list[str]
    units: str
    comment: str
    components: list[Component]
    control: bool = False
    kind: str = "aux"
    extra: dict = field(default_factory=dict)


@dataclass
class ParsedModel:
    """Abstract model plus pysd's subscript and namespace managers."""

    path: Path
    subscripts: SubscriptManager
    namespace: NamespaceManager
    elements: dict[str, Element]

    def coords(self, dim: str) -> list[str]:
        """Element labels of a subscript range (``!`` suffix allowed)."""
        return list(self.subscripts.subscripts[dim.rstrip("!")])


def _component_kind(ast: object) -> str:
    if isinstance(ast, (float, int, np.ndarray)):
        return "constant"
    if isinstance(ast, ae.LookupsStructure):
        return "lookup"
    if isinstance(ast, ae.IntegStructure):
        return "stock"
    if isinstance(ast, ae.DataStructure):
        return "data"
    return "aux"


def parse_model(path: str | Path) -> ParsedModel:
    """Parse a Vensim ``.mdl`` file into a :class:`ParsedModel`.

    Parameters
    ----------
    path
        Path of the Vensim model.

    Returns
    -------
    ParsedModel
        Elements keyed by pysd Python name, in model order.

    Raises
    ------
    SdmodelError
        If pysd cannot parse the file (empty, or not a Vensim text model).
    UnsupportedConstructError
        If the model uses a construct the engine cannot compile.
    """
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            vf = VensimFile(path)
            vf.parse()
            am = vf.get_abstract_model()
        except Exception as exc:  # parsimonious and pysd raise many kinds
            raise SdmodelError(f"{path}: pysd cannot parse the model: {exc}") from exc
    main = [s for s in am.sections if s.type == "main"]
    macros = [s for s in am.sections if s.type != "main"]
    if macros:
        raise UnsupportedConstructError(macros[0].name, "macro definition (:MACRO:)")
    section = main[0]
    sm = SubscriptManager(section.subscripts, path.parent)
    ns = NamespaceManager(section.params)
    elements: dict[str, Element] = {}
    for ael in section.elements:
        ns.add_to_namespace(ael.name)
        py = ns.namespace[ael.name]
        comps = [
            Component(list(c.subscripts[0]), list(c.subscripts[1]), c.ast, _component_kind(c.ast))
            for c in ael.components
        ]
        if not comps:
            raise UnsupportedConstructError(ael.name, "element without equation")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dims = (
                sm.make_merge_list([c.subscripts for c in comps], element=ael.name)
                if comps[0].subscripts
                else []
            )
        kinds = {c.kind for c in comps}
        if len(kinds) > 1:
            kind = "aux" if kinds <= {"constant", "aux"} else "mixed"
        else:
            kind = kinds.pop()
        if kind == "mixed":
            raise UnsupportedConstructError(ael.name, "mixed component kinds")
        if kind == "data":
            raise UnsupportedConstructError(ael.name, "data variable (DataStructure)")
        el = Element(
            name=ael.name,
            py_name=py,
            dims=list(dims),
            units=ael.units or "",
            comment=(ael.documentation or "").strip(),
            components=comps,
            control=isinstance(ael, AbstractControlElement),
            kind=kind,
        )
        if el.control:
            el.kind = "control"
        elements[py] = el
    sm.elements.update({py: el.dims for py, el in elements.items()})
    return ParsedModel(path, sm, ns, elements)
