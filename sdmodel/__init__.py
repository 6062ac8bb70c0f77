"""AI capability growth and the Dutch labour market: a system-dynamics model.

The model itself lives in ``stocks_flows/ai_labour_nl.mdl`` (Vensim text format). This
package translates it with pysd for reference runs, compiles it into a vectorized
ensemble engine, and wraps both in scenarios, sampling, CF-NetCDF export, plots,
shock tests and a command-line interface.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sdmodel")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
