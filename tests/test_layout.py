"""The package layout: subpackages by concern, and no import cycles between modules."""

from __future__ import annotations

import ast
import graphlib
import re
from pathlib import Path

import pytest

from sdmodel.io.paths import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "sdmodel"
#: The subpackages, in the order of the data path (README, "Structure").
SUBPACKAGES = (
    "model",
    "engine",
    "experiments",
    "shocks",
    "analysis",
    "io",
    "plots",
    "serve",
    "cli",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Modules of the package that ``path`` imports at run time (at any depth).

    Imports under ``if TYPE_CHECKING:`` exist for type checkers only and are no edge.
    """
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                found.add(base)
                found.update(f"{base}.{a.name}" for a in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    # "from sdmodel.x import y": the module sdmodel.x.y if there is one, else sdmodel.x
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = {_module_name(p): _imports(p, modules) for p in paths}
    for module, deps in graph.items():  # a package's __init__ is not a dependency of its
        deps.discard(module.rpartition(".")[0])  # own modules' relative imports
    return graph


def test_no_import_cycles() -> None:
    graph = import_graph()
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_the_graph_sees_imports() -> None:
    """The check can fail: it finds the imports it is meant to see."""
    graph = import_graph()
    assert "sdmodel.engine.fragments" in graph["sdmodel.engine.functions"]
    assert "sdmodel.engine.functions" in graph["sdmodel.engine.expressions"]  # in a function
    assert "sdmodel.cli.common" in graph["sdmodel.cli.sweep"]
    assert "sdmodel.experiments.sweep" not in graph["sdmodel.experiments.executors"]  # typing


def test_flat_modules_are_gone_and_the_readme_shows_the_tree() -> None:
    flat = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert flat == ["__init__.py", "__main__.py", "errors.py", "testing.py", "version.py"]
    packages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert packages == sorted(SUBPACKAGES)
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    tree = readme[readme.index("  sdmodel/\n") :].split("```")[0]  # the tree in Structure
    shown = re.findall(r"^ {4}(\w+)/ ", tree, flags=re.M)
    assert shown == list(SUBPACKAGES)
    for path in sorted(PACKAGE.rglob("*.py")):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 600, path


def test_every_module_imports() -> None:
    """Every module loads (an import left pointing at a moved module fails here)."""
    import importlib

    for module in sorted(import_graph()):
        if module != "sdmodel.__main__":  # runs the CLI
            importlib.import_module(module)


def test_tests_sit_beside_what_they_test() -> None:
    """Each test folder is a subpackage's (or ``stocks_flows`` for the model's behaviour);
    only the tests of the whole stay at the top; no test file name repeats (pytest
    imports them by file name)."""
    tests = PROJECT_ROOT / "tests"
    folders = sorted(p.name for p in tests.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert set(folders) <= set(SUBPACKAGES) | {"stocks_flows"}, folders
    for folder in folders:
        assert list((tests / folder).glob("test_*.py")), folder  # no empty folder
    top = sorted(p.name for p in tests.glob("test_*.py"))
    assert top == ["test_api.py", "test_examples.py", "test_layout.py", "test_readme_tables.py"]
    names = [p.name for p in tests.rglob("test_*.py")]
    assert len(names) == len(set(names))
    # every behaviour test of the model file sits with the model's behaviour
    assert all(p.parent.name == "stocks_flows" for p in tests.rglob("test_model_*.py"))
