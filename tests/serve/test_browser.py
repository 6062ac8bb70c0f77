"""The page in a real browser: Debian's headless Chromium, driven by Selenium.

Selenium is given the installed ``/usr/bin/chromedriver`` and ``/usr/bin/chromium``, so
it never looks for (or downloads) a driver: Selenium Manager is made to fail if it is
asked. The tests skip, saying why, where the browser, the driver or Selenium is missing
(``make test`` installs the first two where it can, see the Makefile's ``chromium``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from serveruns import engine_run

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: Where the README's screenshot is written when set (scripts: docs/serve.png).
SCREENSHOT_ENV = "SDMODEL_SERVE_SCREENSHOT"
WAIT_S = 60  # explicit waits poll every 0.1 s; generous for a loaded CI machine

pytestmark = [
    pytest.mark.skipif(
        not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()),
        reason="no Debian chromium/chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver); "
        "`make chromium` installs them as root",
    ),
]


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common import selenium_manager

    def refuse(*args, **kwargs):
        raise AssertionError("Selenium Manager was asked for a driver: it must not download")

    original = selenium_manager.SeleniumManager.binary_paths
    selenium_manager.SeleniumManager.binary_paths = refuse
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--window-size=1400,1000")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        selenium_manager.SeleniumManager.binary_paths = original


def _wait(driver, condition) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(lambda d: condition(d))


def _updates(driver) -> int:
    return driver.execute_script("return window.sdmodel ? window.sdmodel.updates : 0") or 0


def _plotted(driver, chart: str, column: str) -> list[float]:
    return driver.execute_script(
        "return Array.from(window.sdmodel.sources[arguments[0]].data[arguments[1]])",
        chart,
        column,
    )


def _percent(sim, scenario: str, overrides: list) -> list[float]:
    """The engine's unemployment for a setting (a fresh run, see ``engine_run``)."""
    ds = engine_run(sim, scenario, overrides)
    return (ds["unemployment_rate"].values * 100.0).tolist()


def test_the_page_loads_and_plots_the_engines_numbers(browser, server, sim) -> None:
    browser.get(server + "?scenario=explosive")
    _wait(browser, lambda d: _updates(d) >= 1)
    assert _plotted(browser, "unemployment", "variant_0") == _percent(sim, "explosive", [])
    assert _plotted(browser, "unemployment", "baseline_0") == _percent(sim, "explosive", [])
    shown = browser.execute_script("return Object.keys(window.sdmodel.sources)")
    assert "decomposition" in shown and "waiting_list" in shown
    assert not browser.find_element("id", "error").is_displayed()


def test_moving_a_lever_plots_that_setting_and_the_url_restores_it(browser, server, sim) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.get(server)
    _wait(browser, lambda d: _updates(d) >= 1)
    before = _updates(browser)
    # one step right on the slider (keyboard, as a user does): 0 -> 0.001
    slider = browser.find_element("id", "range-Shock job loss share[middle]")
    slider.send_keys(Keys.ARROW_RIGHT)
    _wait(browser, lambda d: _updates(d) > before)
    box = browser.find_element("id", "num-WW maximum duration")
    box.clear()
    box.send_keys("12", Keys.ENTER)
    _wait(browser, lambda d: _updates(d) > before + 1)
    wanted = [("Shock job loss share[middle]", 0.001), ("WW maximum duration", 12.0)]
    expected = _percent(sim, "central", wanted)
    assert _plotted(browser, "unemployment", "variant_0") == expected
    assert _plotted(browser, "unemployment", "baseline_0") == _percent(sim, "central", [])
    url = browser.current_url
    assert "WW+maximum+duration=12" in url and "Shock+job+loss+share%5Bmiddle%5D=0.001" in url
    # the shareable URL: a fresh page at it shows the same settings and numbers
    browser.get(server)
    _wait(browser, lambda d: _updates(d) >= 1)
    browser.get(url)
    _wait(browser, lambda d: _updates(d) >= 1)
    assert browser.find_element("id", "num-WW maximum duration").get_attribute("value") == "12"
    assert _plotted(browser, "unemployment", "variant_0") == expected
    browser.find_element("id", "bands").click()
    _wait(browser, lambda d: _updates(d) >= 2)
    low = _plotted(browser, "unemployment", "low_0")
    high = _plotted(browser, "unemployment", "high_0")
    assert all(a <= b for a, b in zip(low, high, strict=True))
    _screenshot(browser)
    browser.find_element("id", "reset").click()
    _wait(browser, lambda d: _updates(d) >= 3)
    assert _plotted(browser, "unemployment", "variant_0") == _percent(sim, "central", [])
    assert "WW" not in browser.current_url


def _screenshot(browser) -> None:
    """The test artefact (``outputs/test_artefacts/`` or ``$SDMODEL_TEST_ARTEFACTS``), and
    the README's screenshot when ``$SDMODEL_SERVE_SCREENSHOT`` names a file."""
    folder = Path(os.environ.get("SDMODEL_TEST_ARTEFACTS", "outputs/test_artefacts"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "serve_page.png"
    assert browser.save_screenshot(str(path))
    print(f"screenshot: {path}")
    target = os.environ.get(SCREENSHOT_ENV)
    if target:
        shutil.copyfile(path, target)


def test_a_bad_value_shows_the_message(browser, server) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.get(server)
    _wait(browser, lambda d: _updates(d) >= 1)
    box = browser.find_element("id", "num-WW maximum duration")
    box.clear()
    box.send_keys("99", Keys.ENTER)
    _wait(browser, lambda d: d.find_element("id", "error").is_displayed())
    message = browser.find_element("id", "error").text
    assert "'WW maximum duration': 99 is above the maximum 24" in message
    assert _updates(browser) == 1  # the charts keep the last good run
    browser.get(server + "?Shock+start=1990")
    _wait(browser, lambda d: d.find_element("id", "error").is_displayed())
    assert "below the minimum 2025" in browser.find_element("id", "error").text
