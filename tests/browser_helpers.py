"""Headless Chromium for the browser tests (Selenium), skipping with a message when it is not installed."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMEDRIVER = Path("/usr/bin/chromedriver")


def headless_chromium(width: int = 1100, height: int = 900):
    """(driver, profile folder); the caller quits the driver and removes the folder (see ``chromium``)."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    if not CHROMEDRIVER.is_file() or not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("headless Chromium not found: install it with `apt-get install chromium chromium-driver` "
                    "to run the web app's browser tests")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="geotune-chromium-")
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", f"--window-size={width},{height}",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    return driver, profile


@contextlib.contextmanager
def chromium(width: int = 1100, height: int = 900):
    driver, profile = headless_chromium(width, height)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
