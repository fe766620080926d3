"""Synthetic seismic: deterministic, labelled consistently, sections and volumes from one model."""

from __future__ import annotations

import numpy as np

from geotune.data.synthetic import (LABEL_NAMES, PATCH_CLASSES, make_patches, make_section, make_sections,
                                    make_volume)


def test_section_is_deterministic_and_seed_dependent():
    a, b, c = make_section(48, 64, seed=5), make_section(48, 64, seed=5), make_section(48, 64, seed=6)
    assert np.array_equal(a["amplitude"], b["amplitude"]) and np.array_equal(a["labels"], b["labels"])
    assert not np.array_equal(a["amplitude"], c["amplitude"])


def test_labels_agree_with_masks():
    s = make_section(64, 96, seed=2, n_faults=2, salt=True, channels=1)
    assert s["amplitude"].shape == s["labels"].shape == (64, 96) and s["amplitude"].dtype == np.float32
    assert np.array_equal(s["labels"] == 1, s["fault"].astype(bool))
    assert np.array_equal(s["labels"] == 2, s["salt"].astype(bool))
    assert not (s["fault"] & s["salt"]).any()
    assert s["salt"].any() and s["fault"].any() and s["channel"].any() and s["chaotic"].any()
    assert len(s["faults"]) == 2 and {f["kind"] for f in s["faults"]} <= {"normal", "reverse"}
    assert s["label_names"] == LABEL_NAMES and set(np.unique(s["facies"])) <= {0, 1, 2, 3}


def test_salt_is_quiet_and_faults_offset_layers():
    s = make_section(96, 128, seed=1, n_faults=0, chaotic=False, channels=0, noise=0.0)
    inside, outside = s["amplitude"][s["salt"] == 1], s["amplitude"][s["salt"] == 0]
    assert np.abs(inside).mean() < 0.5 * np.abs(outside).mean()
    unfaulted = make_section(96, 128, seed=3, n_faults=0, salt=False, chaotic=False, channels=0, noise=0.0)
    faulted = make_section(96, 128, seed=3, n_faults=1, salt=False, chaotic=False, channels=0, noise=0.0)
    assert faulted["faults"][0]["throw_samples"] > 5
    assert not np.allclose(faulted["amplitude"], unfaulted["amplitude"])


def test_volume_layout_and_continuity():
    v = make_volume(8, 40, 32, seed=4)
    assert v["amplitude"].shape == v["labels"].shape == (8, 32, 40)  # (inline, sample, crossline)
    a, b = v["amplitude"][3], v["amplitude"][4]
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.5  # neighbouring inlines look alike
    assert np.array_equal(make_volume(8, 40, 32, seed=4)["amplitude"], v["amplitude"])


def test_make_sections_stack():
    x, y = make_sections(3, 32, 48, seed=1)
    assert x.shape == y.shape == (3, 32, 48) and y.dtype == np.uint8 and y.max() <= 2


def test_patches_still_serve_classification():
    x, y, names = make_patches(2, size=32, seed=0)
    assert names == PATCH_CLASSES and x.shape == (8, 32, 32) and list(y) == [0, 1, 2, 3] * 2
    assert np.array_equal(make_patches(2, size=32, seed=0)[0], x)
