"""The example notebooks in examples/ run from top to bottom (so they never rot)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sdmodel.io.paths import PROJECT_ROOT
from tests.conftest import requires_model

NOTEBOOKS = sorted((PROJECT_ROOT / "examples").glob("*.ipynb"))
#: Seconds a cell may take on the 2-core CI machine (the sweep cell runs 2 x 64 runs).
CELL_TIMEOUT = 600


def test_there_are_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS] == ["scenario_sweep.ipynb", "ww_shock.ipynb"]


@requires_model
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    book = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code"), (
        "commit notebooks without outputs"
    )
    client = nbclient.NotebookClient(
        book,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": tmp_path}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on failure
    text = "".join(
        o.get("text", "") for c in book.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "Traceback" not in text
    if path.stem == "ww_shock":
        assert "shock middle_5pct_2027" in text and "thousand" in text
    else:  # eight ranked parameters, printed with their Vensim names
        ranked = re.findall(r"^[+-]\d\.\d\d  (.+)$", text, flags=re.M)
        assert len(ranked) == 8 and not any(r.startswith("param_") for r in ranked), text
