"""Headless Chromium for the stepper page's tests: one browser for the whole session.

The tests need Debian's ``chromium`` and ``chromium-driver`` (CI installs them) and
selenium; without them they skip, saying which is missing. The page is opened from a
file:// URL and never needs the network, so every network feature is turned off.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

#: Flags that make Chromium run headless as root, in a container, without the network.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1400,1000",
)


def chromium_paths() -> tuple[str | None, str | None]:
    """Return the paths of the Chromium browser and of chromedriver (None where missing)."""
    browser = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
                   None)
    return browser, shutil.which("chromedriver")


def start_chromium(user_data_dir: str) -> Any:
    """Return a selenium WebDriver on a fresh headless Chromium (skip the test when impossible)."""
    try:
        from selenium import webdriver
    except ImportError:
        pytest.skip("selenium is not installed (pip install selenium)")
    browser, driver = chromium_paths()
    if browser is None or driver is None:
        pytest.skip("Chromium or chromedriver is not installed "
                    "(apt-get install chromium chromium-driver)")
    os.environ.setdefault("SE_OFFLINE", "true")  # never let selenium-manager download a driver
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium WebDriver shared by the session's tests."""
    drv = start_chromium(str(tmp_path_factory.mktemp("chromium-profile")))
    try:
        yield drv
    finally:
        drv.quit()
