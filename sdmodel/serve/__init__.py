"""``sdmodel serve``: the policy simulator in the browser.

A Tornado application (the web server under Bokeh) with a JSON API and one page whose
charts BokehJS draws from the project's own installed copy (no download at run time):

- :mod:`~sdmodel.serve.controls`: the levers, shock inputs and scenarios, read from the
  model's metadata (comments ``Policy lever`` / ``Shock input``, units, declared ranges);
- :mod:`~sdmodel.serve.state`: URL query <-> settings, validated as ``sdmodel run --set``;
- :mod:`~sdmodel.serve.compute`: the engine runs (variant, baseline, uncertainty bands);
- :mod:`~sdmodel.serve.downloads`: the current runs as NetCDF and CSV;
- :mod:`~sdmodel.serve.page`: the HTML page and its script;
- :mod:`~sdmodel.serve.app`: the HTTP handlers and :func:`~sdmodel.serve.app.serve`.
"""
