"""Segmentation end to end on tiny synthetic data: train, load, predict (.npy, SEG-Y, GeoTIFF), evaluate, errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import segyio

from geotune import api
from geotune.cli import main
from geotune.config import TrainConfig
from geotune.data import seismic
from geotune.data.synthetic import LABEL_NAMES, make_sections, make_volume
from geotune.errors import DataError
from geotune.predict.segmenter import predict_sections
from geotune.training.segment import fit, map_iou, random_window, segmentation_metrics

os.environ.setdefault("GEOTUNE_THREADS", "1")  # two shared cores: oversubscribed OpenMP is far slower


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("seg")
    x, y = make_sections(10, 32, 48, seed=1)
    np.save(root / "x.npy", x)
    np.save(root / "y.npy", y)
    cfg = TrainConfig(data=str(root / "x.npy"), labels=str(root / "y.npy"), out=str(root / "run"), task="segment",
                      epochs=1, batch_size=8, image_size=32, loss="dice+ce", class_weights=True,
                      class_names=list(LABEL_NAMES))
    summary = fit(cfg.validate())
    return root, summary


@pytest.fixture(scope="module")
def model(trained):
    return api.load_model(trained[0] / "run")


def test_fit_writes_model_dir_with_metrics(trained):
    root, summary = trained
    metrics = summary["metrics"]
    for key in ("accuracy", "macro_f1", "per_class", "confusion_matrix", "mean_iou", "iou"):
        assert key in metrics
    assert set(metrics["iou"]) == set(LABEL_NAMES)
    assert np.array(metrics["confusion_matrix"]).sum() == metrics["n_val_sections"] * 32 * 48
    config = json.loads((root / "run" / "model" / "config.json").read_text())
    assert config["task"] == "segment" and config["normalisation"]["method"] == "percentile_clip"
    assert config["in_chans"] == 1 and "offline package" in config["weights_source"]


def test_predict_npy_same_shape_and_matches_python_api(trained, model, tmp_path):
    root, _ = trained
    x = np.load(root / "x.npy")[:2]
    np.save(tmp_path / "in.npy", x)
    out = api.predict(root / "run", tmp_path / "in.npy", tmp_path / "pred.npy", batch_size=4)
    pred = np.load(out)
    assert pred.shape == x.shape and pred.dtype == np.uint8 and pred.max() < 3
    assert np.array_equal(model.predict(x), pred)
    proba = model.predict_proba(x)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-4)
    np.save(tmp_path / "one.npy", x[0])
    assert np.load(api.predict(root / "run", tmp_path / "one.npy", tmp_path / "one_out.npy")).shape == x[0].shape


def test_segy_round_trip_keeps_headers(trained, model, tmp_path):
    root, _ = trained
    cube = make_volume(3, 40, 32, seed=2)["amplitude"].transpose(0, 2, 1)  # (il, xl, sample)
    survey = seismic.write_volume_segy(tmp_path / "survey.sgy", cube, 10, 200)
    code = main(["predict", str(root / "run"), str(survey), "--out", str(tmp_path / "pred.sgy"), "--batch-size", "4"])
    assert code == 0
    with segyio.open(str(survey)) as src, segyio.open(str(tmp_path / "pred.sgy")) as dst:
        assert list(src.ilines) == list(dst.ilines) and list(src.xlines) == list(dst.xlines)
        assert all(dict(src.header[i]) == dict(dst.header[i]) for i in range(src.tracecount))
        assert np.array_equal(src.samples, dst.samples)
    predicted, info = seismic.read_segy(tmp_path / "pred.sgy")
    assert predicted.shape == cube.shape and set(np.unique(predicted)) <= {0.0, 1.0, 2.0}
    direct = model.predict(cube.transpose(0, 2, 1))  # the same sections from Python
    assert np.array_equal(predicted.transpose(0, 2, 1).astype(np.uint8), direct)
    proba = model.predict_to_file(survey, tmp_path / "salt.sgy", output="proba", proba_class=2)
    values, _ = seismic.read_segy(proba)
    assert values.min() >= 0 and values.max() <= 1


def test_geotiff_in_geotiff_out(trained, model, tmp_path):
    import rasterio
    from rasterio.transform import from_origin

    root, _ = trained
    array = make_sections(1, 40, 70, seed=9)[0][0]
    profile = dict(driver="GTiff", height=40, width=70, count=1, dtype="float32", crs="EPSG:32633",
                   transform=from_origin(500000, 7000000, 10, 10))
    with rasterio.open(tmp_path / "map.tif", "w", **profile) as dst:
        dst.write(array, 1)
    out = model.predict_to_file(tmp_path / "map.tif", tmp_path / "out.tif")
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 32633 and src.transform == profile["transform"] and src.shape == (40, 70)
        assert src.read(1).max() < 3


def test_evaluate_writes_metrics(trained, model, tmp_path):
    root, _ = trained
    metrics = model.evaluate_source(root / "x.npy", labels=root / "y.npy", out_dir=tmp_path / "ev")
    saved = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert saved["mean_iou"] == pytest.approx(metrics["mean_iou"]) and 0 <= metrics["accuracy"] <= 1


def test_evaluate_streams_a_segy_survey_one_section_at_a_time(trained, model, tmp_path, monkeypatch):
    volume = make_volume(3, 40, 32, seed=8)
    survey = seismic.write_volume_segy(tmp_path / "v.sgy", volume["amplitude"].transpose(0, 2, 1))
    np.save(tmp_path / "lab.npy", volume["labels"].transpose(0, 2, 1))  # (il, xl, sample) like segyio
    low, high = seismic.clip_range(seismic.sample_for_stats(survey), model.percentile)
    normalised = seismic.normalise(volume["amplitude"], low, high)[:, None]  # the survey's clip, all in memory
    proba = predict_sections(model.model, normalised, model.window, len(model.classes))
    expected = segmentation_metrics(volume["labels"], proba.argmax(1), model.classes)

    def refuse(*args, **kwargs):
        raise AssertionError("evaluation must not load the whole volume")

    monkeypatch.setattr(seismic, "read_segy", refuse)
    monkeypatch.setattr(seismic, "read_sections", refuse)
    metrics = model.evaluate_source(survey, labels=tmp_path / "lab.npy")
    assert metrics["confusion_matrix"] == expected["confusion_matrix"]
    assert np.array(metrics["confusion_matrix"]).sum() == volume["labels"].size


def test_bad_inputs_fail_clearly_and_write_nothing(trained, tmp_path, capsys):
    root, _ = trained
    np.save(tmp_path / "rgb.npy", np.zeros((2, 3, 32, 32), np.float32))
    code = main(["predict", str(root / "run"), str(tmp_path / "rgb.npy"), "--out", str(tmp_path / "p.npy")])
    assert code == 2 and "channel" in capsys.readouterr().err and not (tmp_path / "p.npy").exists()
    np.save(tmp_path / "labels_bad.npy", np.zeros((10, 32, 40), np.int64))
    with pytest.raises(DataError, match="labels have shape"):
        fit(TrainConfig(data=str(root / "x.npy"), labels=str(tmp_path / "labels_bad.npy"), out=str(tmp_path / "r"),
                        task="segment", epochs=1, image_size=32))
    assert not (tmp_path / "r").exists()
    cube = make_volume(2, 8, 16, seed=1)["amplitude"].transpose(0, 2, 1)
    survey = seismic.write_volume_segy(tmp_path / "s.sgy", cube)
    (tmp_path / "cut.sgy").write_bytes(survey.read_bytes()[:-30])
    code = main(["predict", str(root / "run"), str(tmp_path / "cut.sgy"), "--out", str(tmp_path / "o.sgy")])
    err = capsys.readouterr().err
    assert code == 2 and "cut.sgy" in err and not (tmp_path / "o.sgy").exists()


def test_segy_labels_in_segyio_shape_are_accepted(tmp_path):
    from geotune.training.segment import load_pairs

    v = make_volume(4, 12, 16, seed=5)
    survey = seismic.write_volume_segy(tmp_path / "v.sgy", v["amplitude"].transpose(0, 2, 1))
    np.save(tmp_path / "lab.npy", v["labels"].transpose(0, 2, 1))  # (il, xl, sample) like read_segy
    images, masks = load_pairs(survey, tmp_path / "lab.npy")
    assert images.shape == (4, 1, 16, 12) and np.array_equal(masks, v["labels"])


def test_map_iou_follows_the_kaggle_rules():
    empty = np.zeros((1, 4, 4), bool)
    full = np.ones((1, 4, 4), bool)
    assert map_iou(empty, empty) == 1.0 and map_iou(empty, full) == 0.0 and map_iou(full, empty) == 0.0
    half = full.copy()
    half[0, :, 2:] = False  # IoU 0.5 with full: no threshold is strictly exceeded
    assert map_iou(full, half) == 0.0
    most = full.copy()
    most[0, 0, 0] = False  # IoU 15/16 = 0.9375: thresholds 0.5..0.9 pass (9 of 10)
    assert map_iou(full, most) == pytest.approx(0.9)
    metrics = segmentation_metrics(np.stack([full[0], empty[0]]).astype(int), np.stack([most[0], empty[0]]).astype(int),
                                   ["sediment", "salt"])
    assert metrics["map_iou"] == pytest.approx(0.95) and metrics["iou"]["salt"] == pytest.approx(15 / 16)


def test_augmentation_never_flips_depth():
    rng = np.random.default_rng(0)
    image = np.tile(np.arange(40, dtype=np.float32)[:, None], (1, 40))[None]  # increases with depth
    image = image + np.arange(40, dtype=np.float32)[None, None, :] * 0.01  # and slightly to the right
    flipped = 0
    for _ in range(30):
        window, mask = random_window(image, np.zeros((40, 40), np.int64), 32, rng, augment=True)
        assert (np.diff(window[0], axis=0) > 0).all()
        flipped += bool((np.diff(window[0], axis=1) < 0).all())
    assert 0 < flipped < 30  # left-right flips happen, sometimes


def test_segy_prediction_streams_sections_with_bounded_memory(trained, model, tmp_path, monkeypatch):
    import tracemalloc

    def refuse(*args, **kwargs):
        raise AssertionError("prediction must not load the whole volume")

    peaks = {}
    for n_inlines in (2, 8):
        cube = make_volume(n_inlines, 64, 32, seed=3)["amplitude"].transpose(0, 2, 1)
        survey = seismic.write_volume_segy(tmp_path / f"v{n_inlines}.sgy", cube)
        monkeypatch.setattr(seismic, "read_segy", refuse)
        monkeypatch.setattr(seismic, "read_sections", refuse)
        monkeypatch.setattr(seismic, "STATS_MAX_VALUES", 4096)  # the cap real surveys hit, at test scale
        tracemalloc.start()
        model.predict_to_file(survey, tmp_path / f"p{n_inlines}.sgy", batch_size=4)
        peaks[n_inlines] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        monkeypatch.undo()
        assert seismic.read_segy(tmp_path / f"p{n_inlines}.sgy")[0].shape == cube.shape
    assert peaks[8] < 1.5 * peaks[2]  # four times the volume, about the same peak


def test_crossline_pass_averages_both_directions(trained, model, tmp_path):
    cube = make_volume(4, 36, 32, seed=6)["amplitude"].transpose(0, 2, 1)  # (il, xl, sample)
    survey = seismic.write_volume_segy(tmp_path / "v.sgy", cube)
    inline_only, _ = seismic.read_segy(model.predict_to_file(survey, tmp_path / "a.sgy", output="proba", proba_class=2))
    both, _ = seismic.read_segy(model.predict_to_file(survey, tmp_path / "b.sgy", output="proba", proba_class=2,
                                                      crossline=True))
    crossline_only = model.predict_proba(cube.transpose(1, 2, 0))[:, 2].transpose(2, 0, 1)  # back to (il, xl, s)
    np.testing.assert_allclose(both, (inline_only + crossline_only) / 2, atol=1e-4)
    assert not np.allclose(both, inline_only, atol=1e-3)
