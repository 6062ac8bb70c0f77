"""Calibration: with AI held at its 2024 level the model matches the 2023-2024 facts in
2024 and stays near that steady state through 2050 (issue 2's bands)."""

from __future__ import annotations

import numpy as np
import pytest
from modelruns import run

#: variable -> (low, high): issue 2's bands for 2023-2024 facts (../shared/calibration).
BANDS = {
    "unemployment_rate": (0.035, 0.039),
    "total_employment": (9.6e6, 9.9e6),
    "ww_recipients": (155e3, 180e3),
    "ww_outlays": (2.9e9, 3.7e9),
    "labour_income_share": (0.68, 0.72),
    "total_vacancies": (0.38e6, 0.45e6),
}
#: WW outlays in euros may grow with non-AI productivity; everything else must stay in band.
STEADY = [name for name in BANDS if name != "ww_outlays"]
#: Bands in persons are for the 2024 population: with the CBS projection (constant to 2040,
#: +3.6% by 2050) they scale with the population aged 15-75. Rates and shares keep their
#: bands: at the 2024 participation and unemployment rates a larger population changes
#: no rate, and the drift that remains (cohorts' skill tilt, the lag of demand behind
#: supply) is what the bands test.
SCALES_WITH_POPULATION = {"total_employment", "ww_recipients", "total_vacancies"}


@pytest.mark.parametrize("variable", list(BANDS))
def test_2024_values_within_bands(variable):
    low, high = BANDS[variable]
    value = run("no_further_ai")[variable].sel(time=2024.0).item()
    assert low <= value <= high, f"{variable} = {value:.4g} in 2024, band [{low}, {high}]"


@pytest.mark.parametrize("variable", STEADY)
def test_steady_state_within_bands_through_2050(variable):
    low, high = BANDS[variable]
    ds = run("no_further_ai")
    series = ds[variable]
    if variable in SCALES_WITH_POPULATION:
        series = series / ds["population_index"]
    assert float(series.min()) >= low and float(series.max()) <= high, (
        f"{variable} leaves [{low}, {high}]: min {float(series.min()):.4g}, "
        f"max {float(series.max()):.4g}"
    )
    assert low <= series.sel(time=2050.0).item() <= high


def test_ww_outlay_share_of_gdp_stable_through_2050():
    share = run("no_further_ai")["ww_outlays_share_of_gdp"]
    base = share.sel(time=2024.0).item()
    worst = float(np.abs(share / base - 1).max())
    assert worst < 0.10, f"WW outlays/GDP drifts {worst:.2%} from 2024"


def test_non_ai_productivity_raises_wages_in_euros():
    """Wages grow with the trend; the demographic drift moves them by less than 2%.

    Exactly on the trend without the drift: test_model_supply.py.
    """
    wage = run("no_further_ai")["wage"]
    growth = (wage.sel(time=2050.0) / wage.sel(time=2024.0)).values
    np.testing.assert_allclose(growth, np.exp(0.004 * 26), rtol=0.02)


def test_unemployment_gradient_by_skill():
    rate = run("no_further_ai")["unemployment_rate_by_skill"].sel(time=2024.0)
    assert rate.sel(skill="low") > rate.sel(skill="middle") > rate.sel(skill="high")


def test_high_to_low_wage_ratio_in_2024():
    # CBS Statistische Trends 2021: hourly wage ratio high/low education about 2.0
    ratio = run("no_further_ai")["high_to_low_wage_ratio"].sel(time=2024.0).item()
    assert ratio == pytest.approx(2.0, rel=0.01)
