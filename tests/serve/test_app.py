"""The HTTP interface: JSON for good queries, 400 with the message for bad ones."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request

import numpy as np
import pytest
from serveruns import engine_run


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers["Content-Type"]


def test_the_api_gives_the_engines_numbers(server, sim) -> None:
    status, body, kind = _get(server + "api/run?scenario=conservative&AI+tax+rate=0.1")
    assert (status, kind) == (200, "application/json; charset=utf-8")
    payload = json.loads(body)
    ds = engine_run(sim, "conservative", {"AI tax rate": 0.1})
    share = payload["charts"][6]["series"][0]
    assert share["key"] == "labour_income_share"
    assert share["variant"] == (ds["labour_income_share"].values * 100.0).tolist()  # exact
    assert payload["query"] == "scenario=conservative&AI+tax+rate=0.1"


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("WW+maximum+duration=2", "below the minimum 3"),
        ("Shock+start=1990", "below the minimum 2025"),
        ("Unknown+lever=1", "not a policy lever or shock input"),
        ("scenario=nowhere", "unknown scenario"),
        ("a%FF=1", "malformed URL query"),
        ("=1&&", "malformed URL query"),
        ("AI+tax+rate=", "is not a number"),
    ],
)
def test_bad_input_is_a_400_with_the_message(server, query: str, words: str) -> None:
    status, body, kind = _get(server + "api/run?" + query)
    assert status == 400
    assert kind.startswith("application/json")
    assert words in json.loads(body)["error"]
    status, page, kind = _get(server + "?" + query)  # the page itself: 400 and the message
    assert status == 400 and kind.startswith("text/html")
    assert words in page.decode("utf-8")


def test_the_page_and_bokehjs_come_from_this_server(server) -> None:
    status, page, _ = _get(server)
    assert status == 200
    text = page.decode("utf-8")
    assert "static/bokeh/bokeh.min.js" in text and "https://" not in text
    assert _get(server + "static/bokeh/bokeh-api.min.js")[0] == 200
    assert _get(server + "nowhere")[0] == 404
    controls = json.loads(_get(server + "api/controls")[1])
    assert "WW maximum duration" in [c["key"] for c in controls["controls"]]


def test_downloads_hold_the_current_runs(server, sim, tmp_path) -> None:
    from sdmodel.io.netcdf import read_netcdf

    query = "scenario=central&WW+maximum+duration=12&bands=1"
    status, body, kind = _get(server + "download/runs.nc?" + query)
    assert (status, kind) == (200, "application/x-netcdf")
    path = tmp_path / "runs.nc"
    path.write_bytes(body)
    ds = read_netcdf(path)
    variant = sim.run("central", {"WW maximum duration": 12.0})
    np.testing.assert_array_equal(
        ds["ww_outlays"].sel(case="variant").values, variant["ww_outlays"].values
    )
    assert list(ds["case"].values) == ["variant", "baseline"]
    assert ds["ww_outlays_band"].sizes["percentile"] == 2
    status, body, kind = _get(server + "download/runs.csv?" + query)
    assert status == 200 and kind.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    first = next(r for r in rows if r["variable"] == "WW outlays" and r["case"] == "variant")
    assert float(first["value"]) == float(variant["ww_outlays"].values[0])  # %.17g: exact
    assert {r["case"] for r in rows} == {"variant", "baseline", "p5", "p95"}
    assert _get(server + "download/runs.csv?WW+maximum+duration=99")[0] == 400


def test_the_page_and_controls_are_served_while_a_run_computes(sim) -> None:
    """A run goes to the worker thread: the event loop answers other requests meanwhile."""
    import threading

    from sdmodel.serve.app import start_in_thread

    gate, entered = threading.Event(), threading.Event()

    class Held:  # the simulator, with runs held until the gate opens
        def __getattr__(self, name):
            return getattr(sim, name)

        def payload(self, state):
            entered.set()
            if not gate.wait(60):
                raise RuntimeError("the gate never opened")
            return sim.payload(state)

    url, stop = start_in_thread(Held())
    try:
        result: dict = {}
        run = threading.Thread(target=lambda: result.update(run=_get(url + "api/run")))
        run.start()
        assert entered.wait(30), "the run never started"
        status, body, _ = _get(url + "api/controls")
        page, _, _ = _get(url)
        assert (status, page) == (200, 200) and run.is_alive()  # answered during the run
        assert len(json.loads(body)["controls"]) == len(sim.controls)
        gate.set()
        run.join(60)
        assert result["run"][0] == 200
    finally:
        gate.set()
        stop()
