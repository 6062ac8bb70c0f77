"""``sdmodel serve``: the policy simulator in the browser (:mod:`sdmodel.serve`)."""

from __future__ import annotations

from pathlib import Path

import click

from sdmodel.cli.common import _user_errors, model_option
from sdmodel.errors import SdmodelError

#: Addresses that only this machine reaches.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=5006,
    show_default=True,
    help="TCP port to listen on (0: a free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; the default is reachable from this machine only.",
)
@model_option
@click.option(
    "--engine",
    type=click.Choice(["jax", "numpy"]),
    default=None,
    help="Engine backend: jax (default where installed: about 20 ms per trajectory) or "
    "numpy (about 0.3 s).",
)
@_user_errors
def serve(port: int, host: str, model_path: Path, engine: str | None) -> None:
    """Policy simulator: levers, shocks and scenarios with charts in the browser."""
    if not model_path.is_file():
        raise SdmodelError(f"model file not found: {model_path}")
    from sdmodel.serve.app import check_host
    from sdmodel.serve.app import serve as serve_app
    from sdmodel.serve.compute import Simulator

    check_host(host)
    if host not in LOCAL_HOSTS:
        click.echo(
            f"sdmodel serve: note: listening on {host}, which other machines may reach",
            err=True,
        )
    sim = Simulator(model_path, backend=engine)

    def prepare() -> None:
        click.echo(f"sdmodel serve: compiling the {sim.backend} engine for the page", err=True)
        sim.warm()

    def ready(url: str) -> None:
        click.echo(f"sdmodel serve: open {url} (Ctrl-C to stop)")

    try:
        serve_app(sim, host, port, on_ready=ready, prepare=prepare)
    except KeyboardInterrupt:
        click.echo("sdmodel serve: stopped")
