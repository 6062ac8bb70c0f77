"""Name conventions shared by every runner and writer.

Variables are identified by their Vensim names in inputs (scenario files, ``--set``,
uncertainty specs) and by pysd's Python names in outputs (the NetCDF contract).
Subscript ranges become lower-case dimension names (``Skill`` -> ``skill``).
"""

from __future__ import annotations

import re


def dim_name(subscript_range: str) -> str:
    """Dimension name used in Datasets and NetCDF for a Vensim subscript range."""
    return re.sub(r"\W+", "_", subscript_range.strip()).strip("_").lower()


def normalize(name: str) -> str:
    """Canonical key for matching Vensim names: case-, space- and underscore-insensitive.

    Vensim itself treats names case-insensitively and spaces and underscores as the same.
    """
    return re.sub(r"[\s_]+", " ", name.strip()).lower()
