"""Synthetic seismic: deterministic, labelled consistently, sections and volumes from one model."""

from __future__ import annotations

import numpy as np
import pytest

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


# --- realistic faults, wavelets, noise and fault patches (issue #20)

from geotune.data.synthetic import (FAULT_PATCH_CLASSES, apply_fault, draw_fault, make_fault_patches,  # noqa: E402
                                    minmax_normalise, rotate_phase, wavelet)
from geotune.data.synthetic.faults import fault_trace  # noqa: E402


def _one_fault(seed=0, shape=(1, 96, 96), **overrides):
    rng = np.random.default_rng(seed)
    fault = {**draw_fault(rng, shape), "roughness": 0.0, "damage_jitter": 0.0, **overrides}
    grid = np.mgrid[0:shape[0], 0:shape[1], 0:shape[2]].astype(float)
    return fault, apply_fault(fault, tuple(grid), rng)


def _offset_across(fault, effect, row):
    """The jump of the depth shift across the fault at one depth row (the local offset of the layers)."""
    position = fault_trace(fault, effect["throw"].shape[1])[0][row]
    left, right = int(np.floor(position)) - 1, int(np.ceil(position)) + 1
    return abs(effect["depth_shift"][0, row, right] - effect["depth_shift"][0, row, left])


def test_throw_varies_along_the_fault_and_dies_at_the_tips():
    fault, effect = _one_fault(z_centre=48.0, reach_depth=60.0, throw_samples=10.0, x0=48.0, drag=0.0,
                               dip_top_deg=80.0, dip_bottom_deg=80.0)
    centre, near_tip = _offset_across(fault, effect, 48), _offset_across(fault, effect, 2)
    assert centre == pytest.approx(10.0, rel=0.1)  # the full throw where the displacement peaks
    assert near_tip < 0.85 * centre
    short = _one_fault(z_centre=48.0, reach_depth=20.0, throw_samples=10.0, x0=48.0)[1]
    assert short["throw"][0, 0].max() == 0.0 and not short["mask"][0, :20].any()  # beyond the tip: no fault


def test_drag_bends_layers_near_the_fault():
    fault, effect = _one_fault(z_centre=48.0, reach_depth=500.0, throw_samples=8.0, x0=48.0, drag=0.5,
                               drag_length=4.0, dip_top_deg=85.0, dip_bottom_deg=85.0, kind="normal")
    row = effect["depth_shift"][0, 48]
    far = abs(row[-1] - row[0])  # offset of the layers well away from the fault
    assert far == pytest.approx(8.0 * 0.5, rel=0.1) and _offset_across(fault, effect, 48) > 1.6 * far


def test_listric_faults_flatten_with_depth_and_planar_ones_do_not():
    rng = np.random.default_rng(3)
    listric = {**draw_fault(rng, (1, 80, 80)), "dip_top_deg": 75.0, "dip_bottom_deg": 45.0}
    planar = {**listric, "dip_bottom_deg": 75.0}
    slope_listric, slope_planar = fault_trace(listric, 80)[1], fault_trace(planar, 80)[1]
    assert abs(slope_listric[-1]) > 2 * abs(slope_listric[0])  # traces per sample grows as the dip lessens
    assert np.allclose(slope_planar, slope_planar[0])


def test_fault_labels_sit_on_the_break_in_the_layers():
    s = make_section(96, 128, seed=11, n_faults=2, salt=False, chaotic=False, channels=0, noise=0.0)
    lateral_change = np.abs(np.diff(s["amplitude"], axis=1, append=s["amplitude"][:, -1:]))
    assert s["fault"].any()
    assert lateral_change[s["fault"] == 1].mean() > 2 * lateral_change[s["fault"] == 0].mean()


def test_wavelet_frequency_and_phase_are_drawn_per_section_and_show_in_the_data():
    sections = [make_section(96, 96, seed=k, n_faults=0, salt=False, chaotic=False, channels=0, noise=0.0)
                for k in range(6)]
    drawn = [s["wavelet"]["peak_cycles_per_sample"] for s in sections]
    assert len(set(drawn)) == 6 and len({s["wavelet"]["phase_deg"] for s in sections}) == 6
    spectra = [np.abs(np.fft.rfft(s["amplitude"], axis=0)).mean(axis=1) for s in sections]
    centroids = [float((np.arange(len(p)) * p).sum() / p.sum()) for p in spectra]
    assert np.corrcoef(np.argsort(np.argsort(drawn)), np.argsort(np.argsort(centroids)))[0, 1] > 0.7
    fixed = make_section(64, 64, seed=0, peak_frequency=30.0)["wavelet"]
    assert fixed == {"peak_cycles_per_sample": pytest.approx(0.12), "phase_deg": 0.0}


def test_phase_rotation_keeps_the_spectrum_and_is_orthogonal_at_90_degrees():
    w = wavelet(0.08)
    turned = rotate_phase(w, 90.0)
    assert abs(np.dot(w, turned)) < 0.05 * np.dot(w, w)
    np.testing.assert_allclose(np.abs(np.fft.rfft(turned)), np.abs(np.fft.rfft(w)), atol=0.05 * np.abs(np.fft.rfft(w)).max())


def test_sections_are_min_max_normalised_like_real_patch_sets():
    a = make_section(48, 64, seed=2)["amplitude"]
    assert a.min() == pytest.approx(-1.0) and a.max() == pytest.approx(1.0)
    assert np.array_equal(minmax_normalise(np.full((3, 3), 7.0)), np.zeros((3, 3), dtype=np.float32))


def test_a_section_is_the_one_line_volume_and_faults_continue_across_lines():
    section = make_section(40, 48, seed=9)
    line = make_volume(1, 48, 40, seed=9)
    assert np.array_equal(section["amplitude"], line["amplitude"][0])
    assert np.array_equal(section["labels"], line["labels"][0])
    v = make_volume(6, 48, 40, seed=9, n_faults=1, salt=False, chaotic=False, channels=0)
    a, b = v["fault"][2].astype(bool), v["fault"][3].astype(bool)
    assert a.any() and (a & b).sum() > 0.5 * a.sum()  # the same fault surface on neighbouring inlines


def test_fault_patches_are_labelled_at_the_centre_and_reproducible():
    x, y, names = make_fault_patches(60, size=33, seed=4, section_shape=(72, 80))
    assert names == FAULT_PATCH_CLASSES == ("nonfault", "fault")
    assert x.shape == (60, 33, 33) and x.dtype == np.float32 and y.sum() == 30
    assert x.min() >= -1.0 and x.max() <= 1.0
    # a fault through the centre breaks the layers there: more lateral change at the centre than at the sides
    quiet, qy, _ = make_fault_patches(60, size=33, seed=4, section_shape=(72, 80), noise_range=(0.0, 0.0))
    change = np.abs(np.diff(quiet, axis=2))
    ratio = change[:, 12:20, 14:18].mean(axis=(1, 2)) / (change.mean(axis=(1, 2)) + 1e-6)
    assert np.median(ratio[qy == 1]) > 1.3 * np.median(ratio[qy == 0])
    again = make_fault_patches(60, size=33, seed=4, section_shape=(72, 80))
    assert np.array_equal(again[0], x) and np.array_equal(again[1], y)
    assert not np.array_equal(make_fault_patches(60, size=33, seed=5, section_shape=(72, 80))[0], x)


def test_fault_patch_size_must_fit_the_sections():
    with pytest.raises(ValueError, match="does not fit"):
        make_fault_patches(4, size=90, section_shape=(64, 64))
