"""The on-disk cache (``sdmodel.io.paths.cached_pickle``): a key missed by two processes at
once is built once, the second waits for the first and reads what it stored."""

from __future__ import annotations

import pickle
import threading

import pytest

from sdmodel.io.atomic import file_lock
from sdmodel.io.paths import cache_dir, cached_pickle

fcntl = pytest.importorskip("fcntl")  # the lock is POSIX's; elsewhere it does nothing


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SDMODEL_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_second_miss_waits_for_the_first_build(cache) -> None:
    """Threads hold separate open files, which lock each other as processes do."""
    started, release = threading.Event(), threading.Event()
    builds: list[str] = []
    results: dict[str, tuple] = {}

    def slow_build() -> dict:
        builds.append("first")
        started.set()
        assert release.wait(30)
        return {"value": 42}

    def other_build() -> dict:
        builds.append("second")
        return {"value": -1}

    def ask(name: str, build) -> None:
        results[name] = cached_pickle("demo", "key", build, kind=dict)

    first = threading.Thread(target=ask, args=("first", slow_build), daemon=True)
    first.start()
    assert started.wait(30)
    second = threading.Thread(target=ask, args=("second", other_build), daemon=True)
    second.start()
    second.join(0.3)
    assert second.is_alive(), "the second request did not wait for the first build"
    release.set()
    first.join(30)
    second.join(30)
    assert builds == ["first"]
    assert results == {"first": ({"value": 42}, True), "second": ({"value": 42}, False)}
    assert pickle.loads((cache_dir() / "demo" / "key.pkl").read_bytes()) == {"value": 42}


def test_a_failed_build_stores_nothing_and_releases_the_lock(cache) -> None:
    def broken() -> dict:
        raise RuntimeError("build failed")

    with pytest.raises(RuntimeError, match="build failed"):
        cached_pickle("demo", "key", broken, kind=dict)
    assert not (cache / "demo" / "key.pkl").exists()
    assert cached_pickle("demo", "key", lambda: {"value": 1}, kind=dict) == ({"value": 1}, True)


def test_a_corrupt_or_foreign_entry_is_rebuilt(cache) -> None:
    (cache / "demo").mkdir(parents=True)
    (cache / "demo" / "key.pkl").write_bytes(b"not a pickle")
    assert cached_pickle("demo", "key", lambda: {"value": 1}, kind=dict) == ({"value": 1}, True)
    (cache / "demo" / "key.pkl").write_bytes(pickle.dumps(["a list"]))
    assert cached_pickle("demo", "key", lambda: {"value": 2}, kind=dict) == ({"value": 2}, True)
    assert cached_pickle("demo", "key", lambda: {"value": 3}, kind=dict) == ({"value": 2}, False)


def test_file_lock_is_exclusive_and_released(tmp_path) -> None:
    path = tmp_path / "x.lock"
    with file_lock(path), path.open("ab") as other:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    with path.open("ab") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
