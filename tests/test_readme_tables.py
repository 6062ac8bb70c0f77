"""The READMEs' model tables are the model's current output (scripts/model_tables.py)."""

from __future__ import annotations

import importlib.util

from sdmodel.io.paths import PROJECT_ROOT


def _tables_module():
    path = PROJECT_ROOT / "scripts" / "model_tables.py"
    spec = importlib.util.spec_from_file_location("model_tables", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_tables_match_the_model():
    tables = _tables_module()
    cache: dict[str, str] = {}
    for path in tables.READMES:
        text = path.read_text()
        assert text == tables.render(text, cache), (
            f"{path.name}: tables are stale; run python scripts/model_tables.py --write"
        )
    assert set(cache) == set(tables.TABLES), "every table appears in a README"
