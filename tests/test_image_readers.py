"""Image, manifest and array readers: what must work, and bad input that must fail clearly."""

import numpy as np
import pytest
from PIL import Image

from geotune.data.samples import load_samples
from geotune.errors import DataError


def _save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)
    image.save(path)
    return path


def test_class_folders_with_mixed_modes_and_sizes(tmp_path):
    rng = np.random.default_rng(0)
    _save(tmp_path / "sandstone" / "a.png", rng.integers(0, 255, (40, 50, 3), dtype=np.uint8))
    _save(tmp_path / "sandstone" / "b.jpg", rng.integers(0, 255, (20, 20), dtype=np.uint8))  # grey
    _save(tmp_path / "shale" / "c.png", rng.integers(0, 255, (30, 30, 3), dtype=np.uint8), "P")  # palette
    _save(tmp_path / "shale" / "d.jpg", rng.integers(0, 255, (30, 30, 3), dtype=np.uint8), "CMYK")
    Image.fromarray(rng.integers(0, 65535, (25, 25), dtype=np.uint16)).save(tmp_path / "shale" / "e.png")  # 16-bit
    samples = load_samples(tmp_path, image_size=16)
    assert samples.x.shape == (5, 3, 16, 16)
    assert list(samples.labels) == ["sandstone", "sandstone", "shale", "shale", "shale"]
    assert 0.0 <= samples.x.min() and samples.x.max() <= 1.0
    assert samples.x[4].std() > 0.05  # 16-bit data kept its contrast instead of saturating


def test_manifest_relative_paths_groups_and_escapes(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(4):
        _save(tmp_path / "img" / f"{i}.png", rng.integers(0, 255, (12, 12), dtype=np.uint8))
    (tmp_path / "m.csv").write_text("path,label,well\nimg/0.png,a,W1\nimg/1.png,b,W1\nimg/2.png,a,W2\nimg/3.png,b,W2\n")
    samples = load_samples(tmp_path / "m.csv", image_size=8, group_by="well")
    assert list(samples.groups) == ["W1", "W1", "W2", "W2"]
    assert samples.table["well"] == ["W1", "W1", "W2", "W2"]
    (tmp_path / "escape.csv").write_text("path,label\n../outside.png,a\nimg/1.png,b\n")
    with pytest.raises(DataError, match="outside the manifest's folder") as info:
        load_samples(tmp_path / "escape.csv", image_size=8)
    assert "escape.csv" in str(info.value)
    (tmp_path / "missing.csv").write_text("path,label\nimg/0.png,a\nimg/nope.png,b\n")
    with pytest.raises(DataError, match="nope.png.*not found"):
        load_samples(tmp_path / "missing.csv", image_size=8)
    with pytest.raises(DataError, match="no column 'site'"):
        load_samples(tmp_path / "m.csv", image_size=8, group_by="site")


def test_seed_layout_arrays_any_dtype_and_channels(tmp_path):
    x = np.random.default_rng(2).normal(size=(6, 20, 20, 5)).astype(np.float64)  # 5 channels, amplitudes
    np.save(tmp_path / "train_data.npy", x)
    np.save(tmp_path / "train_labels.npy", np.array([0, 1, 2, 0, 1, 2]))
    samples = load_samples(tmp_path / "train_data.npy", image_size=16)  # labels found beside it
    assert samples.x.shape == (6, 5, 16, 16)
    assert samples.scaling == "robust"
    assert list(samples.labels) == ["0", "1", "2", "0", "1", "2"]
    np.save(tmp_path / "u8.npy", np.full((3, 10, 10), 255, dtype=np.uint8))
    np.save(tmp_path / "u8_labels.npy", np.array(["a", "b", "a"]))
    u8 = load_samples(tmp_path / "u8.npy", tmp_path / "u8_labels.npy", image_size=10)
    assert u8.scaling == "range" and float(u8.x.max()) == 1.0


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: (np.zeros((4, 8, 8)), np.array([0, 1, 0])), "has 3 labels but the data has 4"),
        (lambda d: (np.where(np.eye(8)[None].repeat(4, 0) > 0, np.nan, 0.0), np.array([0, 1, 0, 1])), "NaN or Inf"),
        (lambda d: (np.zeros((4, 8, 8)), np.array([1, 1, 1, 1])), "only one class"),
        (lambda d: (np.zeros((4, 8, 8)), np.array([1, "a", 2, "b"], dtype=object)), "needs pickle|mix types"),
        (lambda d: (np.zeros((0, 8, 8)), np.array([])), "no samples"),
    ],
    ids=["count-mismatch", "nan", "one-class", "mixed-labels", "empty"],
)
def test_bad_arrays_fail_with_file_and_problem(tmp_path, make, message):
    from geotune.data.samples import class_names

    x, y = make(tmp_path)
    np.save(tmp_path / "d.npy", x)
    np.save(tmp_path / "l.npy", y, allow_pickle=True)
    with pytest.raises(DataError, match=message) as info:
        samples = load_samples(tmp_path / "d.npy", tmp_path / "l.npy", image_size=8)
        class_names(samples.labels, tmp_path / "l.npy")
    assert str(tmp_path) in str(info.value)


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"\x89PNG\r\n\x1a\n" + b"garbage" * 5, "corrupt|decoded")],
                         ids=["zero-byte", "corrupt"])
def test_bad_images_name_the_file(tmp_path, content, message):
    _save(tmp_path / "a" / "ok.png", np.zeros((8, 8), dtype=np.uint8))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "bad.png").write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        load_samples(tmp_path, image_size=8)
    assert "bad.png" in str(info.value)


def test_truncated_image_and_empty_class_folder(tmp_path):
    good = _save(tmp_path / "src.png", np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "cut.png").write_bytes(good.read_bytes()[:200])
    (tmp_path / "b").mkdir()
    with pytest.raises(DataError) as info:
        load_samples(tmp_path, image_size=8)
    assert "cut.png" in str(info.value) or "holds no images" in str(info.value)
    (tmp_path / "a" / "cut.png").unlink()
    with pytest.raises(DataError, match="holds no images"):
        load_samples(tmp_path, image_size=8)


def test_decompression_bomb_is_refused(tmp_path):
    # A PNG header claiming 20000 x 20000 pixels: Pillow must refuse it before allocating.
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "bomb.png").write_bytes(png)
    _save(tmp_path / "b" / "ok.png", np.zeros((8, 8), dtype=np.uint8))
    with pytest.raises(DataError, match="decompression bomb") as info:
        load_samples(tmp_path, image_size=8)
    assert "bomb.png" in str(info.value)


def test_missing_path_and_unsupported_type(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_samples(tmp_path / "nope", image_size=8)
    (tmp_path / "x.docx").write_text("hi")
    with pytest.raises(DataError, match="unsupported input type"):
        load_samples(tmp_path / "x.docx", image_size=8)
