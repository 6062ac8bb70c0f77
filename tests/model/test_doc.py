"""``sdmodel doc``: model documentation generated from the .mdl, committed and in sync."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdmodel.cli import main
from sdmodel.io.paths import MODEL_PATH, PROJECT_ROOT
from tests.conftest import requires_model

DOCS = PROJECT_ROOT / "docs" / "model.md"


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def records(real_model, real_info):
    from sdmodel.model.doc import entries

    return entries(real_model, real_info, MODEL_PATH.read_text(encoding="utf-8"))


@requires_model
def test_committed_documentation_is_in_sync() -> None:
    result = invoke("doc", "--check")
    assert result.exit_code == 0, f"{result.stderr} -> run: sdmodel doc"


def test_check_finds_a_stale_copy(tmp_path: Path, tiny_mdl: Path) -> None:
    out = tmp_path / "m.md"
    assert invoke("doc", "--model", tiny_mdl, "--out", out).exit_code == 0
    assert invoke("doc", "--model", tiny_mdl, "--out", out, "--check").exit_code == 0
    out.write_text(out.read_text("utf-8").replace("Hiring rate", "Hirng rate"), "utf-8")
    stale = invoke("doc", "--model", tiny_mdl, "--out", out, "--check")
    assert stale.exit_code == 1 and f"stale: {out}" in stale.stderr


@requires_model
def test_every_element_once_with_its_facts(records, real_info) -> None:
    documented = [e.name for items in records.values() for e in items]
    assert len(documented) == len(set(documented))
    expected = {e.name for e in real_info if e.kind != "subscript"}
    assert set(documented) == expected
    one = next(e for items in records.values() for e in items if e.name == "Wage adjustment time")
    assert one.units == "Year" and one.limits[0] == 0.25 and "collective agreements" in one.comment
    sector = next(s for s, items in records.items() if one in items)
    assert sector == "Wages and incomes"


@requires_model
def test_uses_and_used_by_are_inverse(records) -> None:
    by_name = {e.name: e for items in records.values() for e in items}
    assert "Total unemployed" in by_name["Unemployment rate"].uses
    assert "Unemployment rate" in by_name["Total unemployed"].used_by
    for e in by_name.values():
        for dep in e.uses:
            assert e.name in by_name[dep].used_by, (e.name, dep)
        for user in e.used_by:
            assert e.name in by_name[user].uses, (e.name, user)
    # a stock's inputs are its flows and its initial value, through pysd's INTEG object
    uses = set(by_name["Employment"].uses)
    assert {"Hires from short term", "Separations", "Initial employment"} <= uses


@requires_model
def test_html_page_is_standalone_and_complete(records) -> None:
    class Headings(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.h3 = 0
            self.external: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.h3 += tag == "h3"
            for key, value in attrs:
                if key in {"src", "href"} and value and not value.startswith("#"):
                    self.external.append(value)

    parser = Headings()
    parser.feed(DOCS.with_suffix(".html").read_text(encoding="utf-8"))
    assert parser.h3 == sum(len(items) for items in records.values())
    assert parser.external == []
