"""Samplers: determinism, marginals (KS tests), discrete frequencies, rank correlations.

Statistical tests use fixed seeds, so they are deterministic; the stated levels say how
unlikely a *correct* sampler would be to fail for an arbitrary seed. A KS p-value is
Uniform(0, 1) under the null, so ``p > 0.001`` fails a correct sampler with probability
0.001 per check, while an error such as ignoring the truncation or using the wrong scale
gives p-values of order 1e-10 or less at n = 2000 (see ``test_ks_has_power``).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from sdmodel.experiments.sampling import INDEPENDENT, Sample, apply_copula, copula_pearson, sample
from sdmodel.experiments.uncertainty import (
    Correlation,
    Discrete,
    LogNormal,
    LogUniform,
    Normal,
    Parameter,
    SpecError,
    Triangular,
    UncertaintySpec,
    Uniform,
)

N_KS = 2000
KS_LEVEL = 1e-3


def make_spec(correlations: tuple[Correlation, ...] = ()) -> UncertaintySpec:
    params = (
        Parameter("Automation midpoint OOM[high]", Triangular(2.0, 3.0, 4.5), source="s"),
        Parameter("Wage adjustment time", LogNormal(2.0, 0.4, lower=0.5, upper=5.0), source="s"),
        Parameter("Reinstatement strength", Uniform(0.3, 1.0), rationale="r"),
        Parameter("Matching elasticity", Discrete((0.4, 0.5, 0.6), (0.25, 0.5, 0.25)), source="s"),
        Parameter("Capability growth", LogUniform(0.1, 10.0), source="s"),
        Parameter("Adoption delay[middle]", Normal(5.0, 1.5, lower=3.0), source="s"),
        Parameter("Adoption delay[low]", Normal(1.0, 0.2), source="s"),
    )
    return UncertaintySpec(params, correlations, description="test spec")


CORRELATED = (
    Correlation(("Wage adjustment time", "Reinstatement strength"), -0.3),
    Correlation(("Automation midpoint OOM[high]", "Capability growth"), 0.6),
    Correlation(("Capability growth", "Adoption delay[middle]"), -0.5),
)


@pytest.fixture(scope="module")
def spec() -> UncertaintySpec:
    return make_spec(CORRELATED)


# ----------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("sampler", INDEPENDENT)
def test_same_seed_is_bit_identical(spec: UncertaintySpec, sampler: str) -> None:
    a = sample(spec, 300, seed=123, sampler=sampler)
    b = sample(spec, 300, seed=123, sampler=sampler)
    assert a.values.dtype == np.float64 and a.values.shape == (300, len(spec))
    assert a.values.tobytes() == b.values.tobytes()
    c = sample(spec, 300, rng=np.random.default_rng(123), sampler=sampler)
    assert c.values.tobytes() == a.values.tobytes()
    assert c.seed is None and a.seed == 123
    d = sample(spec, 300, seed=124, sampler=sampler)
    assert not np.any(d.values[:, [0, 2, 4]] == a.values[:, [0, 2, 4]])


def test_fresh_seed_is_recorded_and_fits_an_int64(spec: UncertaintySpec) -> None:
    """Without a seed, the recorded one reproduces the draw, fits the int64 ``seed``
    attribute of the files and the range ``--seed`` accepts."""
    seeds = set()
    for _ in range(20):
        fresh = sample(spec, 50)
        assert isinstance(fresh.seed, int) and 0 <= fresh.seed < 2**63
        again = sample(spec, 50, seed=fresh.seed)
        assert again.values.tobytes() == fresh.values.tobytes()
        seeds.add(fresh.seed)
    assert len(seeds) == 20  # drawn from OS entropy, not a constant


@pytest.mark.parametrize("sampler", INDEPENDENT)
def test_rows_and_params_are_slices_of_the_design(spec: UncertaintySpec, sampler: str) -> None:
    full = sample(spec, 257, seed=7, sampler=sampler)
    chunks = [full.rows(i, min(i + 50, 257)) for i in range(0, 257, 50)]
    assert np.concatenate(chunks).tobytes() == full.values.tobytes()
    params = full.as_params(100, 150)
    assert list(params) == list(spec.names)
    for j, name in enumerate(spec.names):
        assert params[name].shape == (50,)
        assert params[name].flags.c_contiguous
        np.testing.assert_array_equal(params[name], full.values[100:150, j])
    assert full.rows().shape == (257, len(spec))
    assert len(full) == full.n == 257
    with pytest.raises(IndexError):
        full.rows(200, 300)
    with pytest.raises(ValueError):
        full.values[0, 0] = 1.0  # read-only: chunks cannot corrupt the design


def test_sobol_prefix_is_independent_of_n_and_warning_free(spec: UncertaintySpec) -> None:
    # filterwarnings = error: a non-power-of-two n must not trigger scipy's balance warning.
    a = sample(spec, 1000, seed=3, sampler="sobol")
    b = sample(spec, 1024, seed=3, sampler="sobol")
    assert a.values.tobytes() == b.values[:1000].tobytes()
    assert sample(spec, 1, seed=3, sampler="sobol").values.shape == (1, len(spec))


def test_seed_none_is_recorded_and_reproducible(spec: UncertaintySpec) -> None:
    a = sample(spec, 50)
    assert isinstance(a.seed, int)
    assert sample(spec, 50, seed=a.seed).values.tobytes() == a.values.tobytes()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0, "seed": 1}, "positive integer"),
        ({"n": 10, "seed": -1}, "non-negative"),
        ({"n": 10, "seed": 1.5}, "non-negative"),
        ({"n": 10, "seed": 1, "sampler": "halton"}, "unknown sampler"),
        ({"n": 10, "seed": 1, "rng": np.random.default_rng(1)}, "either seed or rng"),
    ],
)
def test_bad_arguments(spec: UncertaintySpec, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sample(spec, **kwargs)


# ----------------------------------------------------------------------------- marginals
def _continuous(spec: UncertaintySpec) -> list[int]:
    return [j for j, p in enumerate(spec) if not isinstance(p.distribution, Discrete)]


@pytest.mark.parametrize("sampler", INDEPENDENT)
def test_marginals_match_their_distributions(spec: UncertaintySpec, sampler: str) -> None:
    s = sample(spec, N_KS, seed=2024, sampler=sampler)
    for j in _continuous(spec):
        dist = spec.parameters[j].distribution
        x = s.values[:, j]
        lo, hi = dist.bounds
        assert np.all(x >= lo) and np.all(x <= hi), spec.names[j]
        res = stats.kstest(x, dist.cdf)
        assert res.pvalue > KS_LEVEL, (spec.names[j], res)


def test_lhs_uncorrelated_columns_are_stratified() -> None:
    # Exactly one point per 1/n stratum, so the KS distance of each uncorrelated column is
    # at most 1/n (the copula only touches correlated columns).
    spec = make_spec()
    s = sample(spec, N_KS, seed=5, sampler="lhs")
    for j in _continuous(spec):
        stat = stats.kstest(s.values[:, j], spec.parameters[j].distribution.cdf).statistic
        assert stat <= 1.0 / N_KS + 1e-9, (spec.names[j], stat)


def test_ks_has_power() -> None:
    # The same check rejects near misses: the truncated normal against the untruncated CDF,
    # the lognormal against one with a 25 % larger sigma.
    spec = make_spec()
    x = sample(spec, N_KS, seed=2024, sampler="random").as_params()["Adoption delay[middle]"]
    assert stats.kstest(x, stats.norm(5.0, 1.5).cdf).pvalue < 1e-10
    lognormal = sample(spec, N_KS, seed=2024, sampler="random").as_params()["Wage adjustment time"]
    assert stats.kstest(lognormal, stats.lognorm(0.5, scale=2.0).cdf).pvalue < KS_LEVEL


@pytest.mark.parametrize("sampler", INDEPENDENT)
def test_discrete_frequencies(spec: UncertaintySpec, sampler: str) -> None:
    # Random: counts ~ Binomial(n, p); 4 standard deviations (two-sided level ~6e-5).
    # LHS / Sobol (uncorrelated column): stratification gives counts within 1 of n p
    # (Sobol's first 2000 of 2048 points are not exactly balanced; their 1-D projection
    # is still low-discrepancy: allow 0.5 % of n).
    n = N_KS
    x = sample(spec, n, seed=99, sampler=sampler).as_params()["Matching elasticity"]
    assert set(np.unique(x)) == {0.4, 0.5, 0.6}
    for value, p in [(0.4, 0.25), (0.5, 0.5), (0.6, 0.25)]:
        count = int(np.sum(x == value))
        tol = {"random": 4 * math.sqrt(n * p * (1 - p)), "lhs": 1, "sobol": 0.005 * n}[sampler]
        assert abs(count - n * p) <= tol, (value, count)


# ----------------------------------------------------------------------------- correlations
@pytest.mark.parametrize("sampler", INDEPENDENT)
def test_rank_correlations_match_targets(spec: UncertaintySpec, sampler: str) -> None:
    # Sampling sd of Spearman's rho at n = 5000 is about (1 - rho^2) / sqrt(n) <= 0.014,
    # so +-0.05 is > 3.5 sd; pairs without a listed correlation must stay near 0.
    s = sample(spec, 5000, seed=11, sampler=sampler)
    rho = stats.spearmanr(s.values).statistic
    target = spec.rank_correlation()
    cont = _continuous(spec)
    np.testing.assert_allclose(rho[np.ix_(cont, cont)], target[np.ix_(cont, cont)], atol=0.05)


def test_copula_conversion_and_identity_columns() -> None:
    rank = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    pearson = copula_pearson(rank)
    assert pearson[0, 1] == pytest.approx(2 * math.sin(math.pi * 0.5 / 6))
    assert np.array_equal(np.diag(pearson), np.ones(3))
    u = np.random.default_rng(0).random((100, 3))
    out = apply_copula(u, rank)
    assert np.array_equal(out[:, 2], u[:, 2])  # uncorrelated column untouched
    assert not np.array_equal(out[:, 1], u[:, 1])
    assert np.array_equal(apply_copula(u, np.eye(3)), u)


def test_non_positive_definite_correlation_rejected() -> None:
    bad = (
        Correlation(("Wage adjustment time", "Reinstatement strength"), 0.9),
        Correlation(("Reinstatement strength", "Capability growth"), 0.9),
        Correlation(("Wage adjustment time", "Capability growth"), -0.9),
    )
    with pytest.raises(SpecError, match="not positive definite"):
        make_spec(bad)


# ----------------------------------------------------------------------------- attributes
def test_to_attrs_is_json_able(spec: UncertaintySpec) -> None:
    s: Sample = sample(spec, 10, seed=8, sampler="sobol")
    attrs = s.to_attrs("Automation midpoint OOM[high]")
    assert attrs == {
        "name": "Automation midpoint OOM[high]",
        "distribution": "triangular",
        "lower": 2.0,
        "mode": 3.0,
        "upper": 4.5,
        "source": "s",
        "sampler": "sobol",
        "seed": 8,
        "rank_correlations": '{"Capability growth": 0.6}',
    }
    for name in spec.names:
        json.dumps(s.to_attrs(name))
    disc = s.to_attrs("matching elasticity")
    assert disc["values"] == [0.4, 0.5, 0.6] and disc["probabilities"] == [0.25, 0.5, 0.25]
    assert "rank_correlations" not in disc
    assert "upper" not in s.to_attrs("Adoption delay[middle]")  # unset truncation omitted
    glob = s.attrs()
    json.dumps(glob)
    assert glob["n_samples"] == 10 and glob["uncertain_parameters"] == list(spec.names)
