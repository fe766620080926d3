"""GeoTIFF segmentation in strips: same values as a whole-raster pass, georeference kept, bounded reads."""

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from geotune.data import raster_windows
from geotune.data.raster_windows import plan_blocks
from geotune.errors import DataError
from geotune.predict.raster_stream import predict_raster
from geotune.predict.tiling import predict_tiled


def _write(path, array, nodata=-9999.0):
    profile = dict(driver="GTiff", width=array.shape[1], height=array.shape[0], count=1, dtype="float32",
                   transform=from_origin(500000, 7000000, 25, 25), crs="EPSG:32633", nodata=nodata)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array.astype("float32"), 1)
    return path


def _pointwise(batch):  # (B, 1, w, w) -> (B, 2, w, w): class 1 where the scaled value is positive
    p1 = 1 / (1 + np.exp(-8 * batch[:, 0]))
    return np.stack([1 - p1, p1], axis=1).astype(np.float32)


def _identity_normaliser(sample):
    return lambda values: np.nan_to_num(values, nan=0.0)


def test_plan_blocks_cover_every_cell_once_with_margins():
    blocks = plan_blocks(1000, 500, 300, margin=64)
    covered = np.zeros((1000, 500), dtype=int)
    for b in blocks:
        covered[b.top:b.bottom, b.left:b.right] += 1
    assert (covered == 1).all() and len(blocks) == 4 * 2
    assert blocks[0].margin_top == 0 and blocks[0].margin_left == 0 and blocks[0].margin_right == 64
    assert blocks[-1].margin_bottom == 0 and blocks[-1].margin_right == 0 and blocks[-1].margin_top == 64


def test_streamed_prediction_matches_whole_raster_and_keeps_georeference(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    array = rng.normal(size=(300, 170)).astype(np.float32)
    array[10:20, 30:40] = -9999.0  # nodata hole
    src = _write(tmp_path / "in.tif", array)
    reads = []
    original = raster_windows.read_block

    def counting(src_ds, block, band=1):
        cells = original(src_ds, block, band)
        reads.append(cells.shape)
        return cells

    monkeypatch.setattr("geotune.predict.raster_stream.read_block", counting)
    out = predict_raster(_pointwise, src, tmp_path / "out.tif", window=32, n_classes=2, normaliser=_identity_normaliser,
                         block_size=64)
    assert max(max(shape) for shape in reads) <= 64 + 2 * 32 and len(reads) == 5 * 3  # never the whole raster
    with rasterio.open(out) as dst, rasterio.open(src) as ref:
        assert dst.transform == ref.transform and dst.crs == ref.crs and dst.nodata == 255
        predicted = dst.read(1)
    whole = predict_tiled(_pointwise, np.where(array == -9999.0, 0, array)[None], 32, 2).argmax(0)
    valid = array != -9999.0
    assert (predicted[valid] == whole[valid]).all()
    assert (predicted[~valid] == 255).all()
    assert not list(tmp_path.glob(".*partial"))


def test_probability_output_and_failure_leaves_nothing(tmp_path):
    src = _write(tmp_path / "in.tif", np.linspace(-1, 1, 64 * 64).reshape(64, 64))
    out = predict_raster(_pointwise, src, tmp_path / "p.tif", window=16, n_classes=2, normaliser=_identity_normaliser,
                         output="proba", proba_class=1, block_size=16)
    with rasterio.open(out) as dst:
        proba = dst.read(1)
    assert proba[0, 0] < 0.01 and proba[-1, -1] > 0.99

    def broken(batch):
        raise RuntimeError("model failed")

    with pytest.raises(RuntimeError):
        predict_raster(broken, src, tmp_path / "never.tif", window=16, n_classes=2, normaliser=_identity_normaliser)
    assert not (tmp_path / "never.tif").exists() and not list(tmp_path.glob(".*partial"))


def test_unreadable_raster_is_named(tmp_path):
    bad = tmp_path / "bad.tif"
    bad.write_text("not a tiff")
    with pytest.raises(DataError, match="bad.tif: cannot be read as a raster"):
        predict_raster(_pointwise, bad, tmp_path / "o.tif", window=16, n_classes=2, normaliser=_identity_normaliser)
