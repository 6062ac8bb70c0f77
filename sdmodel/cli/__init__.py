"""Command-line interface: a thin layer that parses arguments and calls the library.

One module per command (:mod:`run`, :mod:`info`, :mod:`sweep`, :mod:`shock`,
:mod:`compare`), the helpers they share in :mod:`common`, and the group in :mod:`group`.
"""

from sdmodel.cli.group import main

__all__ = ["main"]
