"""Lazy datasets: nothing decoded until asked, and the same values as the materialised ``load_samples``."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from geotune.data.samples import load_samples, open_dataset
from geotune.errors import DataError


def _image_folder(root, size=40):
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("clay", "sand"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            pixels = rng.integers(0, 256, (size, size + 8, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f"{i}.jpg", quality=90)
        Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(root / label / "grey.png")
    return root


def test_image_dataset_decodes_on_access_and_matches_load_samples(tmp_path, monkeypatch):
    from geotune.data import image_dataset

    folder = _image_folder(tmp_path / "images")
    decoded = []
    real = image_dataset.decode_image
    monkeypatch.setattr(image_dataset, "decode_image", lambda path, **kw: decoded.append(path) or real(path, **kw))
    dataset = open_dataset(folder, image_size=16)
    assert decoded == [] and len(dataset) == 8  # opening reads headers only
    assert dataset.channels == 3  # one colour image makes the whole set RGB
    item = dataset[5]
    assert len(decoded) == 1 and item.shape == (3, 16, 16) and item.dtype == np.float16
    samples = load_samples(folder, image_size=16)
    np.testing.assert_array_equal(item, samples.x[5])
    assert dataset.ids == samples.ids and list(dataset.labels) == list(samples.labels)
    loader = torch.utils.data.DataLoader(dataset, batch_size=8, num_workers=2)  # decoded in worker processes
    np.testing.assert_array_equal(next(iter(loader)).numpy(), samples.x)


def test_fingerprint_follows_files_and_settings_not_decoding(tmp_path):
    import os

    folder = _image_folder(tmp_path / "images")
    first = open_dataset(folder, image_size=16).fingerprint()
    assert open_dataset(folder, image_size=16).fingerprint() == first
    assert open_dataset(folder, image_size=24).fingerprint() != first
    touched = folder / "clay" / "0.jpg"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    assert open_dataset(folder, image_size=16).fingerprint() != first


def _todays_rule(raw: np.ndarray, scaling: str, dtype_max: float | None, size: int) -> np.ndarray:
    """The per-sample scaling written out independently of geotune, then the antialiased bilinear resize."""
    x = raw.astype(np.float32)
    if scaling == "robust":  # each sample clipped at its own 99th percentile of |x|, zero mapped to 0.5
        limit = np.percentile(np.abs(x).reshape(len(x), -1), 99.0, axis=1).reshape(-1, 1, 1, 1)
        x = np.clip(x / np.where(limit == 0, 1.0, limit), -1.0, 1.0) * 0.5 + 0.5
    else:
        x = np.clip(x / dtype_max, 0.0, 1.0)
    t = torch.from_numpy(np.ascontiguousarray(x))
    if t.shape[-1] != size:
        t = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False,
                          antialias=t.shape[-1] > size).clamp(0, 1)
    return t.numpy().astype(np.float16)


@pytest.mark.parametrize("dtype, scaling, dtype_max", [("float32", "robust", None), ("uint8", "range", 255.0),
                                                       ("uint16", "range", 65535.0)])
def test_memmap_array_dataset_matches_the_per_sample_scaling(tmp_path, dtype, scaling, dtype_max):
    rng = np.random.default_rng(1)
    if dtype == "float32":
        raw = (rng.standard_normal((6, 20, 20)) * 300).astype(np.float32)
        raw[2, 3, 3] = 1e6  # a spike that robust scaling clips instead of letting it flatten the sample
    else:
        raw = rng.integers(0, np.iinfo(dtype).max, (6, 20, 20)).astype(dtype)
    np.save(tmp_path / "train_data.npy", raw)
    np.save(tmp_path / "train_labels.npy", np.array([0, 1] * 3))
    dataset = open_dataset(tmp_path / "train_data.npy", image_size=12)
    assert isinstance(dataset.data.base, np.memmap) or isinstance(dataset.data, np.memmap)
    assert dataset.scaling == scaling
    expected = _todays_rule(raw[:, None], scaling, dtype_max, 12)
    for i in range(len(raw)):
        np.testing.assert_array_equal(dataset[i], expected[i])
    np.testing.assert_array_equal(load_samples(tmp_path / "train_data.npy", image_size=12).x, expected)


def test_array_dataset_refuses_non_finite_samples_before_training(tmp_path):
    raw = np.zeros((300, 8, 8), dtype=np.float32)
    raw[[5, 270]] = np.nan  # in two different 256-sample chunks: both counted, the first named
    np.save(tmp_path / "d.npy", raw)
    np.save(tmp_path / "l.npy", np.arange(300) % 2)
    with pytest.raises(DataError, match=r"NaN or Inf values \(in 2 sample\(s\), first at index 5\)"):
        open_dataset(tmp_path / "d.npy", tmp_path / "l.npy", image_size=8)


def test_jpeg_draft_decoding_is_a_choice_that_full_decoding_undoes(tmp_path):
    from geotune.data.image_dataset import decode_image
    from geotune.data.scaling import resize_batch

    folder = _image_folder(tmp_path / "images", size=80)
    drafted = open_dataset(folder, image_size=16)
    full = open_dataset(folder, image_size=16, jpeg_draft=False)
    assert drafted.fingerprint() != full.fingerprint()  # cached features never mix the two
    path = folder / "clay" / "0.jpg"
    index = drafted.paths.index(str(path))
    whole = np.moveaxis(decode_image(path), -1, 0)[None]
    assert whole.shape[-2:] == (80, 88)  # without draft, decoded at full size
    np.testing.assert_array_equal(full[index], resize_batch(whole, 16)[0].astype(np.float16))
    assert not np.array_equal(drafted[index], full[index])
    assert np.abs(drafted[index].astype(np.float32) - full[index]).mean() < 0.05  # the same picture


@pytest.mark.slow
def test_a_corrupt_image_found_by_a_worker_is_one_line_naming_the_file(tmp_path):
    from geotune import finetune

    folder = _image_folder(tmp_path / "images", size=24)
    broken = folder / "sand" / "1.jpg"
    whole = broken.read_bytes()
    broken.write_bytes(whole[: len(whole) * 3 // 4])  # the header survives, so opening the dataset accepts it
    assert len(open_dataset(folder, image_size=16)) == 8
    with pytest.raises(DataError) as info:
        finetune(folder, tmp_path / "run", image_size=16, epochs=1, workers=2, pretrained=False)
    message = str(info.value)
    assert "\n" not in message and "1.jpg" in message and "truncated or corrupt" in message


def test_predict_and_evaluate_decode_images_batch_by_batch_never_all_at_once(tmp_path, monkeypatch):
    from PIL import Image
    from serve_helpers import CLASSES, untrained_classifier_run

    import geotune
    from geotune.data.sampleset import SampleDataset
    from geotune.data import image_dataset

    untrained_classifier_run(tmp_path / "run")
    rng = np.random.default_rng(0)
    for name in CLASSES[:2]:
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(rng.integers(0, 255, (40, 40), dtype=np.uint8)).save(tmp_path / "data" / name / f"{i}.png")
    model = geotune.load_model(tmp_path / "run")
    expected = model.predict_proba(model.read(tmp_path / "data"), batch_size=4, engine="torch")
    monkeypatch.setattr(SampleDataset, "to_sampleset", lambda self: pytest.fail("the whole input was decoded"))
    decoded, real_sample = [], image_dataset.ImageDataset.sample
    monkeypatch.setattr(image_dataset.ImageDataset, "sample",
                        lambda self, i: decoded.append(i) or real_sample(self, i))
    out = model.predict_to_file(tmp_path / "data", tmp_path / "pred.csv", batch_size=4, engine="torch")
    rows = out.read_text().splitlines()
    assert len(rows) == 11 and sorted(decoded) == list(range(10))
    np.testing.assert_allclose(model.predict_proba(model.open(tmp_path / "data"), 4, "torch"), expected, atol=1e-5)
    metrics = model.evaluate_source(tmp_path / "data", batch_size=4, engine="torch")
    assert sum(map(sum, metrics["confusion_matrix"])) == 10
