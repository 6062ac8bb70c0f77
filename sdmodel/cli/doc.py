"""``sdmodel doc``: the model documentation, generated from the ``.mdl``."""

from __future__ import annotations

from pathlib import Path

import click

from sdmodel.cli.common import _user_errors, model_option
from sdmodel.io.paths import PROJECT_ROOT

DOC_DIR = PROJECT_ROOT / "docs"


@click.command()
@model_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DOC_DIR / "model.md",
    show_default=True,
    help="Markdown file; the HTML page goes next to it as <stem>.html.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the files are stale.")
@_user_errors
def doc(model_path: Path, out: Path, check: bool) -> None:
    """Write the model documentation (Markdown and HTML) from the model file."""
    import sys

    from sdmodel.io.atomic import atomic_path, output_dir
    from sdmodel.model.doc import document

    markdown, page = document(model_path)
    files = {out: markdown, out.with_suffix(".html"): page}
    if check:
        stale = [p for p, text in files.items() if not p.is_file() or p.read_text("utf-8") != text]
        for path in stale:
            click.echo(f"stale: {path} (run sdmodel doc)", err=True)
        sys.exit(1 if stale else 0)
    with output_dir(out.parent):
        for path, text in files.items():
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
    for path in files:
        click.echo(f"wrote {path}")
