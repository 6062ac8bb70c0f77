"""Where the model, the scenarios, the outputs and the translation cache live."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: Root of the source checkout (the directory holding ``pyproject.toml``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The model: single source of truth for every equation, unit and parameter.
MODEL_PATH = PROJECT_ROOT / "stocks_flows" / "ai_labour_nl.mdl"
#: Scenario definitions (TOML), keyed by the model's Vensim names.
SCENARIO_DIR = PROJECT_ROOT / "scenarios"
#: Default output directory (git-ignored).
OUTPUT_DIR = PROJECT_ROOT / "outputs"


def cache_dir() -> Path:
    """Directory for generated files (translated models, compiled engines).

    ``$SDMODEL_CACHE_DIR`` if set, otherwise ``.cache/`` in the project root (git-ignored).
    Generated ``.py`` files never land in the source tree.
    """
    env = os.environ.get("SDMODEL_CACHE_DIR")
    path = Path(env) if env else PROJECT_ROOT / ".cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_hash(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (hex); keys the caches and goes into provenance."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
