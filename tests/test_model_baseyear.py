"""The base year stays on the facts in every Monte Carlo run (model v2 part 2, item 9).

Derived calibration constants (the WW exit hazard, the WW wage base ratio, the churn and
matching constants, the initial stocks) are equations of the model, so they are
re-derived from the sampled parameters in each run: the 2024 values of the calibration
targets must stay within 1% of the facts in every draw of the default uncertainty
specification.
"""

from __future__ import annotations

import numpy as np
import pytest
from modelruns import compiled, per_run, spec_ensemble

#: Vensim name -> 2024 calibration target (../shared/calibration/nl_facts.csv).
TARGETS = {
    "WW recipients": 167_800,  # running benefits June 2024
    "WW outlays": 3.45e9,  # UWV Januarinota 2025
    "Unemployment rate": 0.036,  # CBS 2023 annual average
    "Total employment": 9.737e6,  # CBS 85314NED 2023
    "Labour income share": 0.70,  # CPB CEP 2024
    # AWf 2024 accounts: Tweede Kamer, Aanhangsel Handelingen 2024-2025 nr. 1670
    "AWf premium income": 10.357e9,
    "AWf outlays": 5.866e9,
}
N_DRAWS = 1000
SEED = 7


@pytest.fixture(scope="module")
def draws():
    extra = ("WW benefit base", "Maximum insured wage 2024")
    return spec_ensemble("central", N_DRAWS, SEED, (*TARGETS, *extra))


@pytest.mark.parametrize("name", list(TARGETS))
def test_2024_values_on_the_facts_in_every_draw(draws, name):
    first = np.asarray(draws[compiled().resolve(name)])[:, 0]
    deviation = np.abs(first / TARGETS[name] - 1)
    assert float(deviation.max()) < 0.01, f"{name}: worst draw {deviation.max():.2%} off"


def test_wage_cap_does_not_bind_for_group_averages_in_2024(draws):
    """The WW wage base ratio is derived assuming the maximum insured wage does not cap a
    group's average benefit base in 2024; check that assumption in every draw."""
    base = np.asarray(draws["ww_benefit_base"])[:, 0, :]  # (run, skill) in 2024
    cap = per_run(draws["maximum_insured_wage_2024"])
    assert bool(np.all(base < cap))
