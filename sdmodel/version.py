"""The package version (a leaf module: the provenance writers import it, and the
package's ``__init__`` re-exports it, without an import cycle)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sdmodel")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
