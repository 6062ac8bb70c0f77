"""Uncertainty spec: TOML loading, distribution checks, correlations, name validation."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from sdmodel.errors import SdmodelError
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
    load_spec,
    validate,
)

EXAMPLE = """
description = "Uncertain parameters of the AI labour-market model"

[[parameter]]
name = "Automation midpoint OOM[high]"
distribution = "triangular"
lower = 2.0
mode = 3.0
upper = 4.5
source = "Expert elicitation 2024"

[[parameter]]
name = "Wage adjustment time"
distribution = "lognormal"
median = 2.0
sigma = 0.4
lower = 0.5
upper = 5.0
rationale = "Collective agreements run 1-3 years"

[[parameter]]
name = "Reinstatement strength"
distribution = "uniform"
lower = 0.3
upper = 1.0
rationale = "Acemoglu-Restrepo range"

[[parameter]]
name = "Matching elasticity"
distribution = "discrete"
values = [0.4, 0.5, 0.6]
probabilities = [0.25, 0.5, 0.25]
rationale = "Petrongolo-Pissarides survey"

[[parameter]]
name = "Capability growth"
distribution = "loguniform"
lower = 0.1
upper = 10
source = "Epoch"

[[parameter]]
name = "Adoption delay[middle]"
distribution = "normal"
mean = 5
sd = 1.5
lower = 0
rationale = "CBS adoption surveys"

[[correlation]]
between = ["Wage adjustment time", "Reinstatement strength"]
rank = -0.3
"""

KNOWN = {
    "automation midpoint oom": ["low", "middle", "high"],
    "wage adjustment time": [],
    "reinstatement strength": ["low", "middle", "high"],
    "matching elasticity": [],
    "capability growth": [],
    "adoption delay": ["low", "middle", "high"],
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "uncertainty.toml"
    path.write_text(textwrap.dedent(text))
    return path


def entry(name: str, body: str, source: str = 'source = "s"') -> str:
    return f'[[parameter]]\nname = "{name}"\n{textwrap.dedent(body).strip()}\n{source}\n'


def expect_error(path: Path, *fragments: str) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    msg = str(info.value)
    assert str(path) in msg
    for frag in fragments:
        assert frag in msg, msg
    return msg


# ----------------------------------------------------------------------------- valid specs
def test_example_loads_with_every_distribution(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    spec = load_spec(path)
    assert spec.description.startswith("Uncertain parameters")
    assert spec.path == path
    assert spec.names[0] == "Automation midpoint OOM[high]"
    kinds = [type(p.distribution) for p in spec]
    assert kinds == [Triangular, LogNormal, Uniform, Discrete, LogUniform, Normal]
    p = spec["adoption_delay[ MIDDLE ]"]  # normalized lookup
    assert (p.variable, p.elements, p.key) == (
        "Adoption delay",
        ("middle",),
        "adoption delay[middle]",
    )
    assert spec["Wage adjustment time"].elements is None
    assert spec["Wage adjustment time"].bounds == (0.5, 5.0)
    assert spec["Adoption delay[middle]"].bounds == (0.0, np.inf)
    rank = spec.rank_correlation()
    assert rank[1, 2] == rank[2, 1] == -0.3
    assert np.array_equal(np.diag(rank), np.ones(6))
    assert np.count_nonzero(rank - np.eye(6)) == 2
    assert validate(spec, KNOWN) is spec


def test_lognormal_mean_log_equals_median(tmp_path: Path) -> None:
    body = "distribution = 'lognormal'\nmean_log = 0.6931471805599453\nsigma = 0.4"
    spec = load_spec(write(tmp_path, entry("A", body)))
    assert spec["A"].distribution.median == pytest.approx(2.0, rel=1e-15)


def test_discrete_defaults_to_equal_probabilities_and_sorts(tmp_path: Path) -> None:
    body = "distribution = 'discrete'\nvalues = [3, 1, 2]"
    dist = load_spec(write(tmp_path, entry("A", body)))["A"].distribution
    assert dist.values == (1.0, 2.0, 3.0)
    assert dist.probabilities == pytest.approx((1 / 3,) * 3)


def test_correlation_matrix_table(tmp_path: Path) -> None:
    text = (
        entry("A", "distribution = 'uniform'\nlower = 0\nupper = 1")
        + entry("B", "distribution = 'uniform'\nlower = 0\nupper = 1")
        + entry("C", "distribution = 'uniform'\nlower = 0\nupper = 1")
        + "[correlation_matrix]\nparameters = ['A', 'C', 'B']\n"
        + "rank = [[1.0, 0.4, 0.0], [0.4, 1.0, -0.2], [0.0, -0.2, 1.0]]\n"
    )
    rank = load_spec(write(tmp_path, text)).rank_correlation()
    assert rank[0, 2] == rank[2, 0] == 0.4
    assert rank[1, 2] == -0.2
    assert rank[0, 1] == 0.0


def test_truncated_distribution_ppf_and_cdf_are_inverse() -> None:
    dist = Normal(mean=0.0, sd=1.0, lower=-0.5, upper=2.0)
    u = np.linspace(0.001, 0.999, 101)
    x = dist.ppf(u)
    assert x.min() >= -0.5 and x.max() <= 2.0
    np.testing.assert_allclose(dist.cdf(x), u, atol=1e-12)
    assert dist.cdf(np.array([-0.5, 2.0])).tolist() == pytest.approx([0.0, 1.0])


def test_spec_error_is_value_error_and_sdmodel_error() -> None:
    assert issubclass(SpecError, ValueError)
    assert issubclass(SpecError, SdmodelError)


# ----------------------------------------------------------------------------- invalid entries
U01 = "distribution = 'uniform'\nlower = 0\nupper = 1"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("distribution = 'uniform'\nlower = 2\nupper = 1", "lower bound 2 must be below"),
        ("distribution = 'uniform'\nlower = 1\nupper = 1", "must be below upper"),
        ("distribution = 'normal'\nmean = 0\nsd = -1", "sd must be positive"),
        ("distribution = 'normal'\nmean = 0\nsd = 0", "sd must be positive"),
        ("distribution = 'normal'\nmean = 0\nsd = 1\nlower = 3\nupper = 2", "must be below"),
        ("distribution = 'normal'\nmean = 0\nsd = 1\nlower = 40\nupper = 50", "excludes"),
        ("distribution = 'normal'\nmean = 0\nsd = 1\nupper = -60", "excludes"),
        ("distribution = 'lognormal'\nmedian = 1\nsigma = 0.1\nlower = 1e3", "excludes"),
        ("distribution = 'lognormal'\nmedian = 1\nsigma = -0.1", "sigma"),
        ("distribution = 'lognormal'\nmedian = -1\nsigma = 0.1", "median must be positive"),
        ("distribution = 'lognormal'\nmedian = 1\nmean_log = 0\nsigma = 1", "not both"),
        ("distribution = 'triangular'\nlower = 1\nmode = 5\nupper = 3", "mode 5 outside"),
        ("distribution = 'triangular'\nlower = 1\nmode = 0\nupper = 3", "mode 0 outside"),
        ("distribution = 'triangular'\nlower = 3\nmode = 2\nupper = 1", "must be below"),
        ("distribution = 'triangular'\nlower = 1\nupper = 3", "mode"),
        ("distribution = 'loguniform'\nlower = 0\nupper = 3", "must be positive"),
        ("distribution = 'loguniform'\nlower = -2\nupper = 3", "must be positive"),
        ("distribution = 'discrete'\nvalues = [1, 2]\nprobabilities = [0.5, 0.6]", "sum to 1"),
        ("distribution = 'discrete'\nvalues = [1, 2]\nprobabilities = [1.5, -0.5]", "negative"),
        ("distribution = 'discrete'\nvalues = [1, 2]\nprobabilities = [1.0]", "1 probabilities"),
        ("distribution = 'discrete'\nvalues = [1, 1]", "distinct"),
        ("distribution = 'discrete'\nvalues = []", "non-empty"),
        ("distribution = 'uniform'\nlower = 'a'\nupper = 1", "must be a number"),
        ("distribution = 'uniform'\nlower = nan\nupper = 1", "finite"),
        ("distribution = 'uniform'\nlower = 0\nuper = 1", "unknown key(s) ['uper']"),
        ("distribution = 'beta'\nlower = 0\nupper = 1", "distribution must be one of"),
        ("lower = 0\nupper = 1", "missing 'distribution'"),
        ("distribution = ['uniform']\nlower = 0\nupper = 1", "distribution must be one of"),
    ],
)
def test_invalid_distribution_names_file_and_entry(
    tmp_path: Path, body: str, fragment: str
) -> None:
    text = entry("Good one", U01) + entry("Adoption delay[middle]", body)
    expect_error(write(tmp_path, text), "parameter #2 'Adoption delay[middle]'", fragment)


@pytest.mark.parametrize(
    "source", ["", 'source = ""', 'rationale = "  "', "source = 3", 'sources = "typo"']
)
def test_missing_source_or_rationale(tmp_path: Path, source: str) -> None:
    text = entry("Wage adjustment time", U01, source=source)
    expect_error(write(tmp_path, text), "'Wage adjustment time'")


@pytest.mark.parametrize("name", ["Bad[", "X[a][b]", "Y[ ]", "[a]"])
def test_malformed_name(tmp_path: Path, name: str) -> None:
    expect_error(write(tmp_path, entry(name, U01)), "malformed name")


def test_missing_name(tmp_path: Path) -> None:
    expect_error(write(tmp_path, f"[[parameter]]\n{U01}\nsource = 's'\n"), "parameter #1", "name")


def test_duplicate_and_conflicting_entries(tmp_path: Path) -> None:
    text = entry("Adoption delay[middle]", U01) + entry("adoption_delay[Middle]", U01)
    expect_error(write(tmp_path, text), "'adoption_delay[Middle]' is listed twice")
    text = entry("Adoption delay[middle]", U01) + entry("Adoption delay", U01)
    expect_error(write(tmp_path, text), "'Adoption delay' conflicts with 'Adoption delay[middle]'")


def test_no_parameters_and_bad_toml(tmp_path: Path) -> None:
    expect_error(write(tmp_path, 'description = "empty"\n'), "no [[parameter]]")
    expect_error(write(tmp_path, "[[parameter]\nname = 1\n"), "malformed TOML")
    expect_error(write(tmp_path, "correlations = []\n" + entry("A", U01)), "unknown top-level")
    with pytest.raises(SpecError, match="uncertainty spec not found"):
        load_spec(tmp_path / "missing.toml")


# ----------------------------------------------------------------------------- correlations
def three(extra: str) -> str:
    return entry("A", U01) + entry("B", U01) + entry("C", U01) + textwrap.dedent(extra)


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        ("[[correlation]]\nbetween = ['A', 'Nope']\nrank = 0.2\n", ["'Nope'", "not a parameter"]),
        ("[[correlation]]\nbetween = ['A', 'B']\nrank = 1.5\n", ["correlation #1", "(-1, 1)"]),
        ("[[correlation]]\nbetween = ['A']\nrank = 0.5\n", ["correlation #1", "exactly two"]),
        ("[[correlation]]\nbetween = ['A', 'B']\nrho = 0.5\n", ["correlation #1", "'rank'"]),
        ("[[correlation]]\nbetween = ['A', 'a']\nrank = 0.5\n", ["with itself"]),
        (
            "[[correlation]]\nbetween = ['A', 'B']\nrank = 0.5\n"
            "[[correlation]]\nbetween = ['B', 'A']\nrank = 0.4\n",
            ["given twice", "not symmetric"],
        ),
        (
            "[[correlation]]\nbetween = ['A', 'B']\nrank = 0.9\n"
            "[[correlation]]\nbetween = ['B', 'C']\nrank = 0.9\n"
            "[[correlation]]\nbetween = ['A', 'C']\nrank = -0.9\n",
            ["not positive definite", "'A'", "'C'"],
        ),
        (
            "[correlation_matrix]\nparameters = ['A', 'B']\nrank = [[1.0, 0.3], [0.2, 1.0]]\n",
            ["[correlation_matrix]", "not symmetric", "['A', 'B']"],
        ),
        (
            "[correlation_matrix]\nparameters = ['A', 'B']\nrank = [[1.0, 0.3], [0.3, 0.9]]\n",
            ["[correlation_matrix]", "diagonal must be 1", "'B'"],
        ),
        (
            "[correlation_matrix]\nparameters = ['A', 'B', 'C']\n"
            "rank = [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]\n",
            ["[correlation_matrix]", "not positive definite"],
        ),
        (
            "[correlation_matrix]\nparameters = ['A', 'B']\nrank = [[1.0, 0.3]]\n",
            ["[correlation_matrix]", "shape"],
        ),
        (
            "[correlation_matrix]\nparameters = ['A', 'X']\nrank = [[1.0, 0.3], [0.3, 1.0]]\n",
            ["'X'", "not a parameter"],
        ),
    ],
)
def test_invalid_correlations(tmp_path: Path, extra: str, fragments: list[str]) -> None:
    expect_error(write(tmp_path, three(extra)), *fragments)


def test_programmatic_spec_is_checked_too() -> None:
    a = Parameter("A", Uniform(0, 1), source="s")
    b = Parameter("B", Uniform(0, 1), source="s")
    with pytest.raises(SpecError, match="missing source or rationale"):
        Parameter("C", Uniform(0, 1))
    with pytest.raises(SpecError, match="not positive definite"):
        UncertaintySpec(
            (a, b, Parameter("C", Uniform(0, 1), rationale="r")),
            (
                Correlation(("A", "B"), 0.95),
                Correlation(("B", "C"), 0.95),
                Correlation(("A", "C"), 0),
            ),
        )
    spec = UncertaintySpec((a, b), (Correlation(("A", "B"), 0.5),))
    assert spec.origin == "<uncertainty spec>"
    assert spec.rank_correlation()[0, 1] == 0.5


# ----------------------------------------------------------------------------- names vs model
def test_validate_accepts_normalized_names_and_callable(tmp_path: Path) -> None:
    text = entry("adoption_DELAY[ Middle ]", U01) + entry("Wage  Adjustment_time", U01)
    spec = load_spec(write(tmp_path, text))
    validate(spec, {"Adoption Delay": ["Low", "Middle"], "wage adjustment time": []})
    validate(
        spec, lambda name: {"adoption delay": ["middle"], "wage adjustment time": []}.get(name)
    )


def test_validate_names_every_unknown_entry_and_the_file(tmp_path: Path) -> None:
    text = (
        entry("Adoption delay[middle]", U01)
        + entry("Adoption delay[top]", U01)
        + entry("Wage adjustment time[low]", U01)
        + entry("Nonexistent constant", U01)
        + entry("Grid[low, nl]", U01)
    )
    path = write(tmp_path, text)
    known = {"adoption delay": ["low", "middle"], "wage adjustment time": [], "grid": ["low,de"]}
    with pytest.raises(SpecError) as info:
        validate(load_spec(path), known)
    msg = str(info.value)
    assert str(path) in msg
    assert "'Adoption delay[top]': unknown subscript element [top]" in msg
    assert "'Wage adjustment time[low]'" in msg and "not subscripted" in msg
    assert "'Nonexistent constant': unknown model constant" in msg
    assert "'Grid[low, nl]'" in msg
    assert "'Adoption delay[middle]'" not in msg
    validate(load_spec(write(tmp_path, entry("Grid[Low,DE]", U01))), known)
