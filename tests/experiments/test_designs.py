"""The saltelli and morris designs: sizes, seeds, and the marginals of their values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sdmodel.experiments.designs import salib_seed
from sdmodel.experiments.sampling import SEED_MAX, sample
from sdmodel.experiments.uncertainty import load_spec

SPEC = Path(__file__).parents[1] / "analysis" / "ishigami_spec.toml"


@pytest.mark.parametrize(
    ("sampler", "second_order", "rows"),
    [("saltelli", False, 16 * 5), ("saltelli", True, 16 * 8), ("morris", False, 16 * 4)],
)
def test_sizes_and_seeds(sampler: str, second_order: bool, rows: int) -> None:
    spec = load_spec(SPEC)
    one = sample(spec, 16, seed=SEED_MAX, sampler=sampler, second_order=second_order)
    two = sample(spec, 16, seed=SEED_MAX, sampler=sampler, second_order=second_order)
    assert one.values.shape == (rows, 3) and one.unit.shape == (rows, 3)
    assert one.values.tobytes() == two.values.tobytes()  # bit-identical
    other = sample(spec, 16, seed=SEED_MAX - 1, sampler=sampler, second_order=second_order)
    assert not np.array_equal(one.unit, other.unit)
    assert np.all(np.abs(one.values) <= np.pi)


def test_morris_levels_are_the_bounds_of_a_bounded_marginal() -> None:
    s = sample(load_spec(SPEC), 8, seed=1, sampler="morris", levels=4)
    np.testing.assert_allclose(np.unique(s.unit), [0, 1 / 3, 2 / 3, 1])
    levels = np.unique(np.round(s.values[:, 0], 12))
    np.testing.assert_allclose(levels, np.pi * np.array([-1, -1 / 3, 1 / 3, 1]), atol=1e-12)


def test_salib_seed_is_32_bit_and_spread() -> None:
    seeds = {salib_seed(s) for s in (0, 1, 2**32, 2**64 - 1)}
    assert len(seeds) == 4 and all(0 <= s < 2**32 for s in seeds)
