"""PRIM on a synthetic ensemble whose answer is known: a box in two of five parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sdmodel.analysis.discovery import feature_scores, prim
from sdmodel.errors import SdmodelError


@pytest.fixture(scope="module")
def synthetic() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(11)
    x = pd.DataFrame(rng.random((2000, 5)), columns=["a", "b", "c", "d", "e"])
    # true exactly inside a in [0.6, 1], c in [0, 0.3]: 12% of the cube
    y = ((x["a"] > 0.6) & (x["c"] < 0.3)).to_numpy()
    return x, y


def test_prim_finds_the_box(synthetic) -> None:
    x, y = synthetic
    box = prim(x, y, threshold=0.9)
    assert set(box.limits) == {"a", "c"}  # only the two parameters are restricted
    (a_lo, a_hi), (c_lo, c_hi) = box.limits["a"], box.limits["c"]
    # limits within 0.05 of the true edges (2000 points: ~45 per 0.05 slab of the box's
    # width, and a peel removes 5% of the remaining points), the open sides at the cube's
    assert abs(a_lo - 0.6) < 0.05 and a_hi > 0.99
    assert c_lo < 0.01 and abs(c_hi - 0.3) < 0.05
    # coverage and density: the box misses or adds at most such slabs
    assert box.coverage > 0.9 and box.density >= 0.9
    assert box.n_cases == int(y.sum()) and box.n_runs == 2000
    assert len(box.trajectory) > 10 and box.trajectory["coverage"].iloc[0] == 1.0


def test_feature_scores_rank_the_box_parameters_first(synthetic) -> None:
    x, y = synthetic
    scores = feature_scores(x, y, seed=3)
    assert set(scores.index[:2]) == {"a", "c"}
    assert scores.iloc[1] > 3 * scores.iloc[2]


def test_nothing_to_discover() -> None:
    x = pd.DataFrame({"a": np.linspace(0, 1, 50)})
    with pytest.raises(SdmodelError, match="no run of 50 meets the condition"):
        prim(x, np.zeros(50, bool))
