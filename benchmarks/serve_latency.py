"""Benchmark ``sdmodel serve``: slider-to-chart latency and the band recomputation.

Usage: ``python benchmarks/serve_latency.py [--repeats 7] [--band-repeats 3] [--no-browser]
[--engine jax|numpy]``

Every repeat sets another value of a lever (``WW maximum duration``, 6 to 24 months, and
``Shock job loss share[middle]``), so nothing comes from the simulator's caches except
the baseline, which a slider move does not change. Four figures, each the median over
the repeats:

``engine``
    the reference, measured in the same run: one ``CompiledModel.run`` of one trajectory
    with the charts' variables on the simulator's backend (and for the bands, one engine
    call of the ensemble); with the JAX backend, the numpy backend's run is printed too;
``server``
    a lever change to the charts' JSON in the server process: validation, the engine
    run and the serialisation (:meth:`sdmodel.serve.compute.Simulator.payload` plus
    ``json.dumps``);
``http``
    the same through the HTTP API on localhost (``GET /api/run``);
``browser``
    in headless Chromium (Debian's, when installed): from the lever's ``change`` event
    to the new data in every chart's ``ColumnDataSource`` and the frame that holds it
    rendered (the second animation-frame callback after the update: BokehJS paints in
    the first), timed in the page with ``performance.now()``.

The bands (5-95%, :data:`sdmodel.serve.compute.BAND_RUNS` runs) are timed the same way
with the bands switched on. Targets (issue 16): 300 ms for the deterministic charts, 2 s
for the bands. The machine is shared; the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import urllib.request
from pathlib import Path

TARGET_CHARTS_S = 0.3
TARGET_BANDS_S = 2.0


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _line(what: str, seconds: float, reference: float | None, target: float | None) -> str:
    ratio = f"{seconds / reference:6.1f} x engine" if reference else " " * 15
    if target is None:  # a reference figure, not a response the user waits for
        return f"{what:<40}{seconds * 1000:9.0f} ms  {ratio}"
    verdict = "meets" if seconds <= target else "MISSES"
    return (
        f"{what:<40}{seconds * 1000:9.0f} ms  {ratio}  {verdict} the {target * 1000:.0f} ms target"
    )


def _browser_latency(url: str, repeats: int, bands: bool) -> list[float] | None:
    chromium, driver_path = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
    if not (chromium.is_file() and driver_path.is_file()):
        print("browser: skipped (no /usr/bin/chromium and /usr/bin/chromedriver)")
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(driver_path)), options=options)
    driver.set_script_timeout(60)
    try:
        driver.get(url + ("?bands=1" if bands else ""))
        WebDriverWait(driver, 60).until(
            lambda d: (
                (d.execute_script("return window.sdmodel && window.sdmodel.updates") or 0) >= 1
            )
        )
        out = []
        for i in range(repeats):
            value = 0.01 + 0.01 * i + (0.005 if bands else 0.0)
            ms = driver.execute_async_script(
                """
                const [key, value, done] = arguments;
                const before = window.sdmodel.updates;
                const box = document.getElementById("num-" + key);
                const started = performance.now();
                box.value = value;
                box.dispatchEvent(new Event("change"));
                (function poll() {
                  if (window.sdmodel.updates > before) {
                    // two frames: the second callback runs once the frame holding the
                    // new data (BokehJS paints in animation-frame callbacks) is rendered
                    requestAnimationFrame(() => requestAnimationFrame(
                      () => done(performance.now() - started)));
                  } else { setTimeout(poll, 2); }
                })();
                """,
                "Shock job loss share[middle]",
                value,
            )
            out.append(ms / 1000.0)
        return out
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--band-repeats", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--engine", choices=["jax", "numpy"], default=None, help="default: jax where installed"
    )
    args = parser.parse_args()

    from sdmodel.experiments.executors import run_chunk
    from sdmodel.experiments.runner import engine_params
    from sdmodel.serve.app import start_in_thread
    from sdmodel.serve.compute import BAND_RUNS, VARIABLES, Simulator
    from sdmodel.serve.state import State

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    sim = Simulator(backend=args.engine)
    print(f"engine backend: {sim.backend}")
    sim.warm()  # compiles the engine (JAX: seconds) and runs the baseline
    settings = sim._settings("central", {})
    params = engine_params([settings], sim.cm, sim.info)

    engine, numpy_engine = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        sim.cm.run(n_runs=1, params=params, variables=VARIABLES, backend=sim.backend)
        engine.append(time.perf_counter() - started)
        started = time.perf_counter()
        sim.cm.run(n_runs=1, params=params, variables=VARIABLES, backend="numpy")
        numpy_engine.append(time.perf_counter() - started)
    server = []
    for i in range(args.repeats):
        state = State("central", {"WW maximum duration": 6.0 + 3 * i % 19})
        sim._runs.pop((state.scenario, tuple(sorted(state.overrides.items()))), None)
        started = time.perf_counter()
        json.dumps(sim.payload(state))
        server.append(time.perf_counter() - started)

    url, stop = start_in_thread(sim)
    try:
        http = []
        for i in range(args.repeats):
            query = f"api/run?scenario=central&Shock+job+loss+share%5Blow%5D={0.02 + 0.01 * i}"
            started = time.perf_counter()
            with urllib.request.urlopen(url + query, timeout=60) as response:
                response.read()
            http.append(time.perf_counter() - started)

        drawn, targets = sim.design()
        base = {py: a[0] for py, a in params.items()}
        times = sim.run("central")["time"].values
        band_engine, band_server, band_http = [], [], []
        for i in range(args.band_repeats):
            started = time.perf_counter()
            run_chunk(
                str(sim.model_path),
                VARIABLES,
                float(times[1] - times[0]),
                base,
                targets,
                drawn.values,
                "f8",
                backend=sim.backend,
            )
            band_engine.append(time.perf_counter() - started)
            state = State("central", {"WW maximum duration": 7.0 + i}, bands=True)
            started = time.perf_counter()
            json.dumps(sim.payload(state))
            band_server.append(time.perf_counter() - started)
            query = f"api/run?bands=1&WW+maximum+duration={20.0 - i}"
            started = time.perf_counter()
            with urllib.request.urlopen(url + query, timeout=60) as response:
                response.read()
            band_http.append(time.perf_counter() - started)

        browser = band_browser = None
        if not args.no_browser:
            browser = _browser_latency(url, args.repeats, bands=False)
            band_browser = _browser_latency(url, args.band_repeats, bands=True)
    finally:
        stop()

    ref, band_ref = _median(engine), _median(band_engine)
    print(f"\nslider to chart (deterministic), median of {args.repeats}:")
    print(_line("  engine: one run (reference)", ref, None, None))
    if sim.backend != "numpy":
        print(_line("  numpy engine: one run (for comparison)", _median(numpy_engine), ref, None))
    print(_line("  server: validate + run + JSON", _median(server), ref, TARGET_CHARTS_S))
    print(_line("  http: GET /api/run on localhost", _median(http), ref, TARGET_CHARTS_S))
    if browser:
        print(_line("  browser: change event to drawn", _median(browser), ref, TARGET_CHARTS_S))
    print(f"\nband recomputation ({BAND_RUNS} runs), median of {args.band_repeats}:")
    print(_line(f"  engine: {BAND_RUNS} runs (reference)", band_ref, None, None))
    print(
        _line("  server: runs + percentiles + JSON", _median(band_server), band_ref, TARGET_BANDS_S)
    )
    print(_line("  http: GET /api/run?bands=1", _median(band_http), band_ref, TARGET_BANDS_S))
    if band_browser:
        print(
            _line(
                "  browser: change event to drawn", _median(band_browser), band_ref, TARGET_BANDS_S
            )
        )
    print(f"\nload average after: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
