"""The labelling workbench in headless Chromium: a labeller session on LANDMASS patches driven by the keyboard,
and a mask brushed on a synthetic section. With GEOTUNE_DOCS_SCREENSHOTS=1 the screenshots are written to
docs/images/labelling_*.png (what docs/labelling.md shows); otherwise to the test's temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from browser_helpers import chromium
from label_helpers import held_out_accuracy, landmass_pool, live_server, synthetic_project, wait_for

DOCS_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
WAIT = 300


def _shots(tmp_path) -> Path:
    return DOCS_IMAGES if os.environ.get("GEOTUNE_DOCS_SCREENSHOTS") else tmp_path


def _press(driver, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(key).perform()


def _attr(driver, element_id: str, name: str) -> str:
    return driver.execute_script(f"return document.getElementById('{element_id}').dataset.{name} || ''")


def _label_current(driver, truth: dict, classes: list[str]) -> str:
    """Read the item the page shows, press its class's number key, wait until the page moved on."""
    item = _attr(driver, "current", "item")
    count = len(driver.execute_script("return S.undo"))
    _press(driver, str(classes.index(truth[item]) + 1))
    wait_for(lambda: len(driver.execute_script("return S.undo")) == count + 1, 60, f"the label of {item}")
    return item


@pytest.mark.slow
def test_a_labelling_session_on_landmass_beats_random_labels_and_survives_a_restart(tmp_path, shared_dataset):
    from geotune.data.samples import open_dataset
    from geotune.serve.label.workbench import Workbench

    project = tmp_path / "landmass"
    held_patches, held_classes, names, truth = landmass_pool(
        shared_dataset("landmass1_subset_2000") / "landmass1_subset_99x99.npz", project, 50, 25, seed=1)
    np.save(tmp_path / "held.npy", held_patches)
    shots = _shots(tmp_path)
    wb = Workbench(project, who="browser", classes=names, image_size=64, retrain_every=10)
    try:
        with live_server(wb) as url, chromium(1280, 1000) as driver:
            driver.set_page_load_timeout(WAIT)
            driver.get(url)
            wait_for(lambda: wb.learner.features is not None, WAIT, "features")
            wait_for(lambda: _attr(driver, "current", "features") == "1", 60, "suggestions made from features")
            done = []
            for round_ in range(4):
                for _ in range(10):
                    done.append(_label_current(driver, truth, names))
                n = len(done)
                wait_for(lambda: _attr(driver, "model", "trainedOn") == str(n), WAIT,
                         lambda: f"retraining on {n} labels ({len(wb.store.labels())} stored; {wb.learner.describe()})")
                version = _attr(driver, "model", "version")
                wait_for(lambda: _attr(driver, "current", "modelVersion") == version, 60, "the new suggestions")
            assert list(wb.store.labels()) == done  # labelled in the order the page offered them
            assert "trained on 40 labels" in driver.find_element("id", "model").text
            driver.save_screenshot(str(shots / "labelling_patches.png"))
            driver.find_element("css selector", "#tabs button[data-tab=review]").click()
            wait_for(lambda: len(driver.find_elements("css selector", "#curve circle")) >= 3, 60, "the curve")
            wait_for(lambda: len(driver.find_elements("css selector", "#items .card")) > 0, 60, "the items")
            driver.save_screenshot(str(shots / "labelling_review.png"))
            held_x = open_dataset(tmp_path / "held.npy", image_size=64, require_labels=False).to_sampleset().x
            held_y = [names[k] for k in held_classes]
            active = held_out_accuracy(wb, done, [truth[i] for i in done], held_x, held_y)
            randoms = [held_out_accuracy(wb, picks, [truth[i] for i in picks], held_x, held_y) for picks in
                       (list(np.random.default_rng(100 + s).choice(wb.pool.ids, 40, replace=False)) for s in range(10))]
            print(f"held-out accuracy after 40 labels: suggested {active:.3f}, random {np.mean(randoms):.3f}")
            assert active >= np.mean(randoms)
    finally:
        wb.close()
    wb = Workbench(project, classes=names)  # the restart
    try:
        assert list(wb.store.labels()) == done
        with live_server(wb) as url, chromium() as driver:
            driver.get(url)
            wait_for(lambda: "40 labelled" in driver.find_element("id", "model").text, 60, "the page after restart")
    finally:
        wb.close()


@pytest.mark.slow
def test_a_mask_brushed_on_a_section_is_found_on_disk(tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains

    from geotune.serve.label.workbench import Workbench

    project, truth, classes = synthetic_project(tmp_path / "p", n_per_class=4)
    by_item = {f"patches.npy#{i}": c for i, c in enumerate(truth)}
    wb = Workbench(project, who="browser", classes=classes, image_size=32, retrain_every=8, patch_size=48)
    try:
        with live_server(wb) as url, chromium(1280, 1000) as driver:
            driver.get(url)
            wait_for(lambda: wb.learner.features is not None, WAIT, "features")
            wait_for(lambda: _attr(driver, "current", "features") == "1", 60, "suggestions made from features")
            for _ in range(8):  # a first model, so that its predictions are drawn over the section
                _label_current(driver, by_item, classes)
            wait_for(lambda: _attr(driver, "model", "trainedOn") == "8", WAIT, "the first training")
            driver.find_element("css selector", "#tabs button[data-tab=sections]").click()
            wait_for(lambda: _attr(driver, "slice-img", "loaded") == "1", 60, "the slice")
            _press(driver, str(classes.index("salt") + 1))
            driver.find_element("css selector", "input[name=mode][value=brush]").click()
            image = driver.find_element("id", "slice-img")
            box = driver.execute_script("const r = arguments[0].getBoundingClientRect();"
                                        "return [r.width, r.height, arguments[0].naturalWidth, arguments[0].naturalHeight]",
                                        image)
            scale = box[0] / box[2]
            start = (-box[0] / 2 + 20 * scale, -box[1] / 2 + 100 * scale)  # offsets from the image centre
            chain = ActionChains(driver).move_to_element_with_offset(image, *start).click_and_hold()
            for _ in range(10):
                chain = chain.move_by_offset(round(6 * scale), 0)
            chain.release().perform()
            mask_file = project / "masks" / "volume.npy" / "inline_00003.npy"
            wait_for(mask_file.is_file, 60, "the mask file")
            mask = np.load(mask_file)
            rows, cols = np.nonzero(mask == classes.index("salt") + 1)
            assert len(rows) > 50 and abs(np.median(rows) - 100) <= 3 and cols.min() <= 25 and cols.max() >= 70
            driver.find_element("css selector", "input[name=mode][value=point]").click()
            _press(driver, str(classes.index("fault") + 1))
            ActionChains(driver).move_to_element_with_offset(image, 0, 0).click().perform()
            wait_for(lambda: any("@inline3" in i for i in wb.store.labels()), 60, "the point label")
            wait_for(lambda: driver.execute_script("return (S.points || []).length") == 1, 60, "the point's marker")
            wait_for(lambda: driver.execute_script("return document.getElementById('pred-img').naturalWidth") > 0,
                     120, "the prediction overlay")
            driver.save_screenshot(str(_shots(tmp_path) / "labelling_sections.png"))
    finally:
        wb.close()
