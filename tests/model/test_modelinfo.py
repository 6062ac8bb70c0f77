"""The cached model metadata equal what pysd's loaded model gives."""

from __future__ import annotations

import shutil
from pathlib import Path

from sdmodel.io.paths import cache_dir, file_hash
from sdmodel.model.info import INFO_CACHE_VERSION, load_info


def test_load_info_equals_pysd_metadata_and_survives_a_corrupt_cache(tiny_info, tiny_mdl, tmp_path):
    first = load_info(tiny_mdl)  # fills the cache (or reads it)
    assert first.elements == tiny_info.elements
    assert first.subscript_ranges == tiny_info.subscript_ranges
    assert first.model_path == tiny_mdl
    pkl = cache_dir() / "modelinfo" / f"{file_hash(tiny_mdl)}-v{INFO_CACHE_VERSION}.pkl"
    assert pkl.is_file()
    # the same file elsewhere: the cached entry, with the new path
    copy = Path(shutil.copy(tiny_mdl, tmp_path / "elsewhere.mdl"))
    moved = load_info(copy)
    assert moved.model_path == copy and moved.elements == tiny_info.elements
    # a corrupt cache entry is rebuilt, not trusted
    pkl.write_bytes(b"not a pickle")
    rebuilt = load_info(tiny_mdl)
    assert rebuilt.elements == tiny_info.elements
    assert pkl.read_bytes() != b"not a pickle"
