"""Search the property test's box of declared ranges harder than hypothesis does.

Usage: ``python scripts/endpoint_search.py [--runs 300] [--seeds 1 2 3] [--reduce]``

The property test (``tests/stocks_flows/test_properties.py``) draws 500 parameter sets with
hypothesis. This script draws ``--runs`` sets per forward scenario and seed from the same
box: the same drawable constants, held constants and checks, but endpoint-heavy. Each
constant (each element of a subscripted one) is moved with probability 1/2, and a moved
value is one of the range's two ends with probability 1/3, uniform with probability 1/3,
and log-uniform (uniform where the range reaches zero) otherwise. The sets run through
the numpy engine in batches of 100. The script prints how many break a property, by
scenario. With ``--reduce`` it also shrinks each failing set to the constants it needs:
it drops groups of constants, then single ones, while the run still fails. It prints
each reduced set with the first problems found.

The figures in README.md (Errors and safety) come from
``python scripts/endpoint_search.py --seeds 1 2 3 --reduce``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "stocks_flows")]

import test_properties as tp  # noqa: E402

BATCH = 100


def _value(rng: np.random.Generator, name: str, lo: float, hi: float) -> float:
    if name in tp.INDEX_CONSTANTS:
        return float(rng.integers(int(lo), int(hi) + 1))
    u = rng.random()
    if u < 1 / 6:
        return lo
    if u < 1 / 3:
        return hi
    if u < 2 / 3 or lo <= 0:
        return lo + (hi - lo) * rng.random()
    return float(np.exp(np.log(lo) + (np.log(hi) - np.log(lo)) * rng.random()))


def draw(rng: np.random.Generator) -> dict[str, float]:
    """One endpoint-heavy parameter set (Vensim ``Name[element]`` keys)."""
    moved: dict[str, float] = {}
    for name, elements, lo, hi in tp._drawable():
        for element in elements or ("",):
            if rng.random() < 0.5:
                key = f"{name}[{element}]" if element else name
                moved[key] = _value(rng, name, lo, hi)
    return moved


def reduce(scenario: str, moved: dict[str, float]) -> dict[str, float]:
    """The failing set with every constant removed that the failure does not need."""
    keys = list(moved)
    parts = 2
    while keys:
        size = max(1, len(keys) // parts)
        candidates = [
            [k for k in keys if k not in keys[i : i + size]] for i in range(0, len(keys), size)
        ]
        found = tp.batch_problems([(scenario, {k: moved[k] for k in c}) for c in candidates])
        failing = [c for c, p in zip(candidates, found, strict=True) if p]
        if failing:
            keys, parts = failing[0], max(parts - 1, 2)
        elif size == 1:
            break
        else:
            parts = min(len(keys), parts * 2)
    return {k: moved[k] for k in keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=300, help="sets per scenario and seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--reduce", action="store_true", help="shrink each failing set")
    args = parser.parse_args()
    tp._drawable()
    total = failed = 0
    start = time.perf_counter()
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        for scenario in tp.SCENARIOS:
            sets = [(scenario, draw(rng)) for _ in range(args.runs)]
            found: list[list[str]] = []
            for i in range(0, len(sets), BATCH):
                found += tp.batch_problems(sets[i : i + BATCH])
            bad = [(s, p) for s, p in zip(sets, found, strict=True) if p]
            total += len(sets)
            failed += len(bad)
            print(f"seed {seed} {scenario}: {len(bad)} of {len(sets)} break a property")
            for (name, moved), _ in bad if args.reduce else ():
                small = reduce(name, moved)
                first = tp.batch_problems([(name, small)])[0][:2]
                print(f"  {json.dumps(small, sort_keys=True)}: {'; '.join(first)}", flush=True)
    seconds = time.perf_counter() - start
    print(f"{failed} of {total} runs ({failed / total:.1%}) break a property ({seconds:.0f} s)")


if __name__ == "__main__":
    main()
