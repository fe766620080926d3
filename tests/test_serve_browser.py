"""The web app end to end in headless Chromium (Selenium): upload an image, read the prediction, screenshot.

Needs Debian's chromium and chromium-driver (`apt-get install chromium chromium-driver`); skipped without them.
"""

from __future__ import annotations

import io
import shutil

import numpy as np

from browser_helpers import headless_chromium
from serve_helpers import CLASSES, running_server, untrained_classifier_run


def test_upload_in_browser_shows_prediction_and_a_real_page(tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    from geotune.data.synthetic import make_patches

    untrained_classifier_run(tmp_path / "patches")
    x, _, _ = make_patches(1, 48, 7)
    image = tmp_path / "fault patch.png"
    Image.fromarray((np.clip(x[1], 0, 1) * 255).astype(np.uint8)).save(image)
    driver, profile = headless_chromium()
    try:
        with running_server([tmp_path / "patches"]) as server:
            driver.set_page_load_timeout(180)
            driver.get(server.url)
            assert "patches" in driver.find_element(By.ID, "run").text
            driver.find_element(By.ID, "file").send_keys(str(image))
            driver.find_element(By.ID, "submit").click()
            shown = WebDriverWait(driver, 180).until(
                expected_conditions.presence_of_element_located((By.ID, "prediction")))
            assert shown.text in CLASSES
            rows = driver.find_elements(By.CSS_SELECTOR, "table.probabilities tr")
            assert len(rows) == len(CLASSES) + 1  # header + one row per class
            probabilities = [float(r.find_elements(By.TAG_NAME, "td")[1].text) for r in rows[1:]]
            assert abs(sum(probabilities) - 1) < 0.01 and probabilities == sorted(probabilities, reverse=True)
            assert rows[1].find_elements(By.TAG_NAME, "td")[0].text == shown.text
            overlay = driver.find_element(By.CSS_SELECTOR, "img[alt='where it looked (Grad-CAM)']")
            assert driver.execute_script("return arguments[0].naturalWidth", overlay) > 0  # it decoded
            screenshot = np.asarray(Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("L"), dtype=float)
            assert screenshot.shape[0] > 100 and screenshot.var() > 100  # not a blank page
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
