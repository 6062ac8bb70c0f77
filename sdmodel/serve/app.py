"""The simulator's HTTP server: Tornado handlers over :class:`~sdmodel.serve.compute.Simulator`.

Routes: ``/`` (the page), ``/api/controls``, ``/api/run?<state>`` (the charts' data as
JSON), ``/download/runs.nc`` and ``/download/runs.csv`` (the current runs) and
``/static/bokeh/`` (BokehJS from the installed bokeh package). A query the simulator
refuses is answered with status 400 and the one-line message (JSON ``{"error": ...}``
for the API, the page with the message for ``/``); an unexpected failure is reported as
500 with its message, never as a traceback page.

Runs go to one worker thread (:meth:`_Base.compute`), one at a time, so the simulator's
caches need no locks, while the event loop keeps serving the page, the controls and the
static files during a run.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import tornado.web

from sdmodel.errors import SdmodelError
from sdmodel.serve.compute import BAND_RUNS, Simulator
from sdmodel.serve.page import render_page
from sdmodel.serve.state import BadRequest, State, parse_query


def _query(handler: tornado.web.RequestHandler) -> dict[str, list[str]]:
    """The request's query, decoded strictly (bad UTF-8 or escapes: 400)."""
    raw = handler.request.query
    try:
        text = raw.encode("latin-1").decode("utf-8", errors="strict")
        return parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (UnicodeError, ValueError) as exc:
        raise BadRequest(f"malformed URL query {raw[:80]!r}: {exc}") from None


class _Base(tornado.web.RequestHandler):
    sim: Simulator
    pool: ThreadPoolExecutor

    def initialize(self, sim: Simulator, pool: ThreadPoolExecutor) -> None:
        self.sim = sim
        self.pool = pool

    async def compute(self, fn: Callable, *args):
        """``fn(*args)`` on the simulator's worker thread; the event loop goes on serving."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def state(self) -> State:
        sim = self.sim
        return parse_query(
            _query(self), sim.controls, sim.info, sim.scenarios, sim.default_scenario
        )

    def fail(self, status: int, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"error": message}))

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        self.fail(status_code, str(exc) if exc else self._reason)


class PageHandler(_Base):
    """``/``: the page, with the URL's state (or the message and status 400)."""

    def get(self) -> None:
        sim = self.sim
        error = None
        try:
            state = self.state()
        except BadRequest as exc:
            state, error = State(sim.default_scenario), str(exc)
            self.set_status(400)
        config = {
            "controls": [c.record() for c in sim.controls],
            "scenarios": sim.scenarios,
            "default_scenario": sim.default_scenario,
            "state": {
                "scenario": state.scenario,
                "bands": state.bands,
                "overrides": state.overrides,
            },
            "error": error,
            "band_runs": BAND_RUNS,
        }
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(render_page(config))


class ControlsHandler(_Base):
    """``/api/controls``: the controls and scenarios as JSON."""

    def get(self) -> None:
        sim = self.sim
        self.finish(
            {
                "controls": [c.record() for c in sim.controls],
                "scenarios": sim.scenarios,
                "default_scenario": sim.default_scenario,
            }
        )


class RunHandler(_Base):
    """``/api/run?<state>``: the charts' data, or 400 with the message."""

    async def get(self) -> None:
        try:
            state = self.state()
        except BadRequest as exc:
            return self.fail(400, str(exc))
        started = time.perf_counter()
        try:
            payload = await self.compute(self.sim.payload, state)
        except SdmodelError as exc:
            return self.fail(400, str(exc))
        payload["compute_ms"] = 1000 * (time.perf_counter() - started)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(payload))


class DownloadHandler(_Base):
    """``/download/runs.(nc|csv)?<state>``: the current runs as a file."""

    async def get(self, fmt: str) -> None:
        from sdmodel.serve.downloads import csv_text, netcdf_bytes

        try:
            state = self.state()
            write = netcdf_bytes if fmt == "nc" else csv_text
            body = await self.compute(write, self.sim, state)
        except SdmodelError as exc:
            return self.fail(400, str(exc))
        kind = "application/x-netcdf" if fmt == "nc" else "text/csv; charset=utf-8"
        self.set_header("Content-Type", kind)
        self.set_header("Content-Disposition", f'attachment; filename="sdmodel_runs.{fmt}"')
        self.finish(body)


class NoIcon(tornado.web.RequestHandler):
    """``/favicon.ico``: no icon (204), instead of a 404 in the log on every page load."""

    def get(self) -> None:
        self.set_status(204)
        self.finish()


def make_app(sim: Simulator) -> tornado.web.Application:
    """The Tornado application serving ``sim``."""
    from bokeh.util.paths import bokehjs_path

    args = {"sim": sim, "pool": ThreadPoolExecutor(1, thread_name_prefix="sdmodel-sim")}
    return tornado.web.Application(
        [
            (r"/", PageHandler, args),
            (r"/favicon\.ico", NoIcon),
            (r"/api/controls", ControlsHandler, args),
            (r"/api/run", RunHandler, args),
            (r"/download/runs\.(nc|csv)", DownloadHandler, args),
            (
                r"/static/bokeh/(.*)",
                tornado.web.StaticFileHandler,
                {"path": os.path.join(str(bokehjs_path()), "js")},
            ),
        ]
    )


def check_host(host: str) -> str:
    """``host`` if this machine can bind it (else :class:`SdmodelError`)."""
    try:
        socket.getaddrinfo(host, None)
    except OSError as exc:
        raise SdmodelError(f"--host {host!r}: cannot resolve it ({exc})") from None
    return host


def listen(host: str, port: int) -> socket.socket:
    """A listening, non-blocking socket on ``host:port`` (``port`` 0: a free one).

    Raises
    ------
    SdmodelError
        When the address cannot be bound (in use, not this machine's).
    """
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise SdmodelError(f"--host {host} --port {port}: cannot listen there ({exc})") from None
    sock.setblocking(False)
    return sock


def serve(
    sim: Simulator,
    host: str = "127.0.0.1",
    port: int = 5006,
    on_ready: Callable[[str], None] | None = None,
    prepare: Callable[[], None] | None = None,
) -> None:
    """Serve ``sim`` on ``host:port`` until interrupted (``port`` 0: a free port).

    ``prepare`` runs once the address is bound, before the first request (compiling the
    engine): a port in use is reported at once, not after the compilation.

    Raises
    ------
    SdmodelError
        When the address cannot be bound (in use, not this machine's).
    """
    import asyncio

    from tornado.httpserver import HTTPServer

    check_host(host)
    sockets = [listen(host, port)]
    if prepare is not None:
        prepare()

    async def main() -> None:
        server = HTTPServer(make_app(sim))
        server.add_sockets(sockets)
        bound = sockets[0].getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        if on_ready is not None:
            on_ready(f"http://{shown}:{bound}/")
        await asyncio.Event().wait()

    asyncio.run(main())


def start_in_thread(sim: Simulator, host: str = "127.0.0.1", port: int = 0):
    """Serve ``sim`` from a background thread (tests, benchmarks).

    Returns
    -------
    tuple
        ``(url, stop)``: the base URL and a function that stops the server and joins
        the thread.
    """
    import asyncio
    import threading

    from tornado.httpserver import HTTPServer

    sockets = [listen(host, port)]
    loop = asyncio.new_event_loop()
    servers: list[HTTPServer] = []

    def create() -> None:
        server = HTTPServer(make_app(sim))
        server.add_sockets(sockets)
        servers.append(server)

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(create)
        loop.run_forever()

    thread = threading.Thread(target=run, name="sdmodel-serve", daemon=True)
    thread.start()

    def stop() -> None:
        async def shutdown() -> None:
            for server in servers:
                server.stop()
                await server.close_all_connections()
            loop.stop()

        loop.call_soon_threadsafe(lambda: loop.create_task(shutdown()))
        thread.join(timeout=10)
        loop.close()

    return f"http://{host}:{sockets[0].getsockname()[1]}/", stop
