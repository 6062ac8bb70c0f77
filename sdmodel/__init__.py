"""AI capability growth and the Dutch labour market: a system-dynamics model.

The model itself lives in ``stocks_flows/ai_labour_nl.mdl`` (Vensim text format). This
package translates it with pysd for reference runs, compiles it into a vectorized
ensemble engine, and wraps both in scenarios, sampling, CF-NetCDF export, plots,
shock tests and a command-line interface.

The Python API is two functions, the library behind ``sdmodel run`` and ``sdmodel
sweep``:

>>> import sdmodel                                          # doctest: +SKIP
>>> ds = sdmodel.run_scenarios(["central"], {"Reinstatement strength": 0})  # +SKIP
>>> result = sdmodel.sweep(runs=1000, out="outputs/my.nc")  # doctest: +SKIP
>>> summary = result.open_summary()                         # doctest: +SKIP

Importing the package is cheap: the heavy modules load on first use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sdmodel.version import __version__

if TYPE_CHECKING:
    import xarray as xr

    from sdmodel.experiments.sweep import SweepResult

__all__ = ["__version__", "run_scenarios", "sweep"]


def run_scenarios(
    scenarios: Sequence[str | os.PathLike] | None = None,
    overrides: Mapping[str, float] | Sequence[tuple[str, float]] | None = None,
    *,
    model: str | os.PathLike | None = None,
    engine: str = "numpy",
    cf: bool = True,
) -> xr.Dataset:
    """Run scenarios and return them as one Dataset, as ``sdmodel run`` writes it.

    Parameters
    ----------
    scenarios
        Scenario names (``scenarios/*.toml``) or ``.toml`` paths; default: all four.
    overrides
        Vensim name (``"Base adoption delay[low]"``) -> value, for every scenario; each
        value is checked against the model's declared range.
    model
        The ``.mdl`` file (default: the project's model).
    engine
        ``"numpy"`` (the vectorized engine) or ``"pysd"`` (the reference; slow).
    cf
        ``True``: the CF-1.10 Dataset the NetCDF files hold (UDUNITS ``units``, a CF
        time coordinate plus ``decimal_year``, money named in ``long_name``);
        ``False``: the model's own view (Vensim units in ``vensim_units``, time in
        decimal years).

    Returns
    -------
    xarray.Dataset
        Every model variable; with ``cf=True`` time first, ``(time, scenario, *subscripts)``
        as in the files, with ``cf=False`` time last, as the engine computes it.

    Raises
    ------
    sdmodel.errors.SdmodelError
        Unknown scenario or variable, a value outside its declared range, a failed run.
    """
    from sdmodel.experiments.runner import run_scenarios as run
    from sdmodel.io.netcdf import to_cf
    from sdmodel.io.paths import MODEL_PATH

    items = list(overrides.items()) if isinstance(overrides, Mapping) else overrides
    ds = run(scenarios, items or None, model or MODEL_PATH, engine=engine)
    return to_cf(ds) if cf else ds


def sweep(runs: int = 1000, **options: Any) -> SweepResult:
    """A Monte Carlo sweep, as ``sdmodel sweep`` runs it: files, and the way to open them.

    Parameters
    ----------
    runs
        Parameter sets per scenario.
    **options
        Fields of :class:`sdmodel.experiments.sweep.SweepOptions`: ``scenarios``,
        ``seed``, ``sampler`` (``"lhs"``, ``"sobol"``, ``"random"``), ``variables``,
        ``out`` (the ensemble file; summary and fan charts go next to it),
        ``spec_path``, ``float32``, ``chunk``, ``workers``, ``scheduler``,
        ``figures``, ...

    Returns
    -------
    sdmodel.experiments.sweep.SweepResult
        The paths (``ensemble``, ``summary``, ``figures``), the timings, and
        ``open_ensemble()`` / ``open_summary()``, which open the files lazily as
        xarray Datasets with the files' CF attributes.
    """
    from pathlib import Path

    from sdmodel.experiments.sweep import SweepOptions, run_sweep

    for key in ("out", "spec_path", "model_path", "scenario_dir"):
        if key in options:
            options[key] = Path(options[key])
    for key in ("scenarios", "variables"):
        if key in options and not isinstance(options[key], tuple):
            options[key] = tuple(options[key])
    return run_sweep(SweepOptions(n_runs=runs, **options))
