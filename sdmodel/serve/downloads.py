"""The page's current runs as files: CF-NetCDF (``sdmodel.io.netcdf``) and CSV.

Both hold the charts' variables in model units over ``case`` (``variant``, ``baseline``);
with bands on, the NetCDF file adds ``<variable>_band`` over ``percentile`` (the band's
5th and 95th percentiles of the uncertainty runs) and the CSV adds the rows
``case = p5`` / ``p95``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sdmodel.serve.compute import BAND_PERCENTILES, BAND_RUNS, BAND_SEED, VARIABLES, Simulator
from sdmodel.serve.state import State

CASES = ("variant", "baseline")


def runs_dataset(sim: Simulator, state: State) -> xr.Dataset:
    """The variant and its baseline over ``case`` (and the bands), annotated."""
    from sdmodel.experiments.runner import annotate

    runs = [sim.run(state.scenario, state.overrides), sim.run(state.scenario)]
    ds = xr.concat(runs, dim="case", join="exact").assign_coords(case=list(CASES))
    ds = annotate(ds.copy(), sim.info)
    if state.bands:
        bands = sim.band_runs(state.scenario, state.overrides)
        for py in VARIABLES:
            q = bands[py].quantile(np.array(BAND_PERCENTILES) / 100.0, dim="run")
            q = q.rename(quantile="percentile").assign_coords(percentile=list(BAND_PERCENTILES))
            ds[f"{py}_band"] = q.transpose("percentile", "time", ...)
            ds[f"{py}_band"].attrs = {
                **ds[py].attrs,
                "long_name": f"{ds[py].attrs.get('long_name', py)}: uncertainty band",
                "comment": f"percentiles of {BAND_RUNS} Latin-hypercube runs of "
                f"uncertainty.toml (seed {BAND_SEED}) around the variant",
            }
    ds.attrs.update(
        title="sdmodel serve: the policy simulator's current runs",
        scenario=state.scenario,
        settings_query=state.query(),
        model_file=sim.model_path.name,
        engine="numpy",
    )
    return ds


def netcdf_bytes(sim: Simulator, state: State) -> bytes:
    """The runs as a CF-1.10 NetCDF-4 file's bytes."""
    from sdmodel.io.netcdf import write_netcdf

    ds = runs_dataset(sim, state)
    with tempfile.TemporaryDirectory(prefix="sdmodel-serve-") as tmp:
        path = write_netcdf(ds, Path(tmp) / "runs.nc", command=f"sdmodel serve ?{state.query()}")
        return path.read_bytes()


def csv_text(sim: Simulator, state: State) -> str:
    """The runs as long-format CSV: ``case, variable, skill, time, value``."""
    ds = runs_dataset(sim, state)
    frames = []
    for py in VARIABLES:
        frame = ds[py].to_dataframe(name="value").reset_index()
        frame.insert(1, "variable", ds[py].attrs.get("long_name", py))
        frames.append(frame)
        band = f"{py}_band"
        if band in ds:
            extra = ds[band].to_dataframe(name="value").reset_index()
            extra["case"] = [f"p{p:g}" for p in extra.pop("percentile")]
            extra.insert(1, "variable", ds[py].attrs.get("long_name", py))
            frames.append(extra)
    table = pd.concat(frames, ignore_index=True)
    if "skill" not in table:
        table["skill"] = ""
    table["skill"] = table["skill"].fillna("")
    return table[["case", "variable", "skill", "time", "value"]].to_csv(
        index=False, float_format="%.17g"
    )
