"""The simulator's page: controls on the left, BokehJS charts on the right.

The page gets the controls, the scenarios and its first state in one JSON document
(``__CONFIG__``); every change asks ``/api/run`` for the charts' data and writes it into
each chart's ``ColumnDataSource`` (``window.sdmodel.sources``, which the browser tests
read). A refused setting (HTTP 400) shows the server's one-line message in ``#error``.
"""

from __future__ import annotations

import html
import json

#: BokehJS scripts, served from the installed bokeh package (no CDN).
SCRIPTS = ("bokeh.min.js", "bokeh-api.min.js")

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>sdmodel policy simulator</title>
__SCRIPTS__
<style>
body { font-family: sans-serif; margin: 0; display: flex; font-size: 13px; }
#side { width: 360px; padding: 10px; height: 100vh; overflow-y: auto; box-sizing: border-box;
        background: #f4f4f4; }
#main { flex: 1; padding: 10px; }
#charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(430px, 1fr)); gap: 8px; }
.control { margin: 6px 0 10px 0; }
.control label { display: block; font-weight: bold; }
.control .meta { color: #555; font-size: 11px; }
.control input[type=range] { width: 200px; vertical-align: middle; }
.control input[type=number] { width: 100px; }
.control.changed label { color: #b35900; }
#error { color: #fff; background: #b00020; padding: 6px; margin-bottom: 8px; display: none; }
#status { color: #555; margin-bottom: 6px; }
h2 { font-size: 15px; margin: 12px 0 4px 0; }
</style></head>
<body>
<div id="side">
  <h1 style="font-size:17px">sdmodel policy simulator</h1>
  <div><label for="scenario"><b>Compute scenario</b></label>
    <select id="scenario"></select></div>
  <div><label><input type="checkbox" id="bands"> uncertainty bands
    (5-95%, __BAND_RUNS__ runs)</label></div>
  <div style="margin:6px 0">
    <button id="reset">Reset</button>
    <a id="share" href="#">shareable link</a> |
    <a id="download-nc" href="#">NetCDF</a> |
    <a id="download-csv" href="#">CSV</a>
  </div>
  <h2>Policy levers</h2><div id="policy"></div>
  <h2>Shock inputs</h2><div id="shock"></div>
</div>
<div id="main">
  <div id="error" role="alert"></div>
  <div id="status">loading</div>
  <div id="charts"></div>
</div>
<script>
const CONFIG = __CONFIG__;
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
window.sdmodel = {sources: {}, payload: null, updates: 0, errors: 0, requests: 0, state: null};

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message || "";
  box.style.display = message ? "block" : "none";
}

function currentState() {
  const state = {scenario: document.getElementById("scenario").value,
                 bands: document.getElementById("bands").checked, overrides: {}};
  for (const c of CONFIG.controls) {
    const box = document.getElementById("num-" + c.key);
    if (box.dataset.changed === "1") state.overrides[c.key] = box.value;
  }
  return state;
}

function query(state) {
  const q = new URLSearchParams();
  q.set("scenario", state.scenario);
  if (state.bands) q.set("bands", "1");
  for (const [k, v] of Object.entries(state.overrides)) q.set(k, v);
  return q.toString();
}

function setControls(state) {
  document.getElementById("scenario").value = state.scenario;
  document.getElementById("bands").checked = !!state.bands;
  for (const c of CONFIG.controls) {
    const given = Object.prototype.hasOwnProperty.call(state.overrides, c.key);
    const value = given ? state.overrides[c.key] : c.default;
    const box = document.getElementById("num-" + c.key);
    box.value = value;
    box.dataset.changed = given ? "1" : "0";
    document.getElementById("range-" + c.key).value = value;
    box.closest(".control").classList.toggle("changed", given);
  }
}

function buildControls() {
  const select = document.getElementById("scenario");
  for (const s of CONFIG.scenarios) {
    const o = document.createElement("option");
    o.value = s; o.textContent = s; select.appendChild(o);
  }
  select.addEventListener("change", update);
  document.getElementById("bands").addEventListener("change", update);
  for (const c of CONFIG.controls) {
    const div = document.createElement("div");
    div.className = "control"; div.title = c.comment;
    const label = document.createElement("label"); label.textContent = c.key;
    label.htmlFor = "num-" + c.key;
    const meta = document.createElement("div"); meta.className = "meta";
    meta.textContent = "[" + c.low + ", " + c.high + "] " + c.units + "; model value " + c.default;
    const range = document.createElement("input");
    Object.assign(range, {type: "range", id: "range-" + c.key, min: c.low, max: c.high,
                          step: c.step});
    const box = document.createElement("input");
    Object.assign(box, {type: "number", id: "num-" + c.key, step: "any"});
    box.setAttribute("name", c.key);
    range.addEventListener("input", () => { box.value = range.value; });  // while dragging
    range.addEventListener("change", () => {
      box.value = range.value; box.dataset.changed = "1"; update();
    });
    box.addEventListener("change", () => {
      range.value = box.value; box.dataset.changed = "1"; update();
    });
    div.append(label, meta, range, box);
    document.getElementById(c.group).appendChild(div);
  }
  document.getElementById("reset").addEventListener("click", () => {
    setControls({scenario: CONFIG.default_scenario, bands: false, overrides: {}}); update();
  });
}

function columns(chart, time, bands) {
  const data = {time: time};
  chart.series.forEach((s, i) => {
    data["variant_" + i] = s.variant;
    data["baseline_" + i] = s.baseline;
    data["low_" + i] = bands ? s.band_low : time.map(() => NaN);
    data["high_" + i] = bands ? s.band_high : time.map(() => NaN);
  });
  return data;
}

function draw(payload) {
  const root = document.getElementById("charts");
  for (const chart of payload.charts) {
    const data = columns(chart, payload.time, payload.bands);
    if (window.sdmodel.sources[chart.key]) {
      window.sdmodel.sources[chart.key].data = data; continue;
    }
    const source = new Bokeh.ColumnDataSource({data: data});
    const p = Bokeh.Plotting.figure({title: chart.title, height: 280, sizing_mode: "stretch_width",
                                     y_axis_label: chart.axis, tools: "pan,wheel_zoom,reset,save"});
    chart.series.forEach((s, i) => {
      const color = COLORS[i % COLORS.length];
      p.varea({x: {field: "time"}, y1: {field: "low_" + i}, y2: {field: "high_" + i},
               source: source, fill_color: color, fill_alpha: 0.15});
      p.line({x: {field: "time"}, y: {field: "baseline_" + i}, source: source, line_color: color,
              line_dash: "dashed", line_width: 1.5, legend_label: s.label + " (baseline)"});
      p.line({x: {field: "time"}, y: {field: "variant_" + i}, source: source, line_color: color,
              line_width: 2, legend_label: s.label});
    });
    p.legend.location = "top_left"; p.legend.label_text_font_size = "9px";
    p.legend.background_fill_alpha = 0.5;
    const div = document.createElement("div"); div.id = "chart-" + chart.key; root.appendChild(div);
    Bokeh.Plotting.show(p, div);
    window.sdmodel.sources[chart.key] = source;
  }
}

async function update() {
  const state = currentState();
  const q = query(state);
  history.replaceState(null, "", "?" + q);
  document.getElementById("share").href = location.href;
  document.getElementById("download-nc").href = "download/runs.nc?" + q;
  document.getElementById("download-csv").href = "download/runs.csv?" + q;
  document.getElementById("status").textContent = "computing";
  const started = performance.now();
  const ticket = ++window.sdmodel.requests;
  const response = await fetch("api/run?" + q);
  const body = await response.json();
  if (ticket !== window.sdmodel.requests) return;  // a later change is under way
  if (!response.ok) {
    window.sdmodel.errors += 1;
    showError(body.error);
    document.getElementById("status").textContent = "not run (" + response.status + ")";
    return;
  }
  showError("");
  draw(body);
  window.sdmodel.payload = body; window.sdmodel.state = state; window.sdmodel.updates += 1;
  document.getElementById("status").textContent = "updated in " +
    Math.round(performance.now() - started) + " ms (" + body.scenario +
    (body.bands ? ", bands of " + body.band_runs + " runs" : "") + ")";
}

buildControls();
setControls(CONFIG.state);
if (CONFIG.error) {
  showError(CONFIG.error);
  document.getElementById("status").textContent = "not run (400)";
  window.sdmodel.errors += 1;
} else {
  update();
}
</script></body></html>
"""


def render_page(config: dict, prefix: str = "static/bokeh/") -> str:
    """The page with ``config`` (controls, scenarios, state, error) built in."""
    scripts = "\n".join(f'<script src="{html.escape(prefix + name)}"></script>' for name in SCRIPTS)
    # "</" cannot close the script element from inside the JSON
    text = json.dumps(config).replace("</", "<\\/")
    return (
        PAGE.replace("__SCRIPTS__", scripts)
        .replace("__BAND_RUNS__", str(config.get("band_runs", "")))
        .replace("__CONFIG__", text)
    )
