"""Sliding windows: full coverage, seamless blending, inputs smaller and larger than the window."""

from __future__ import annotations

import numpy as np
import pytest

from geotune.predict.tiling import predict_tiled, window_starts, window_weights


def _pixelwise(batch: np.ndarray) -> np.ndarray:
    """A 'model' whose answer at a pixel depends only on that pixel: tiling must reproduce it exactly."""
    p = 1.0 / (1.0 + np.exp(-batch[:, 0]))
    return np.stack([1 - p, p], axis=1)


@pytest.mark.parametrize("shape", [(50, 130), (32, 32), (17, 9), (1, 40)])
def test_tiled_equals_pixelwise(shape):
    image = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    out = predict_tiled(_pixelwise, image, window=32, n_classes=2, overlap=0.5, batch_size=3)
    assert out.shape == (2,) + shape
    np.testing.assert_allclose(out, _pixelwise(image[None, None])[0], atol=1e-5)


def test_every_window_is_predicted_once_in_batches():
    calls = []

    def counting(batch):
        calls.append(len(batch))
        return np.ones((len(batch), 1) + batch.shape[2:], np.float32)

    predict_tiled(counting, np.zeros((64, 100), np.float32), window=32, n_classes=1, overlap=0.5, batch_size=4)
    rows, cols = window_starts(64, 32, 0.5), window_starts(100, 32, 0.5)
    assert sum(calls) == len(rows) * len(cols) and max(calls) <= 4


def test_window_starts_cover_the_axis():
    for length in (5, 32, 33, 100, 257):
        starts = window_starts(length, 32, 0.25)
        covered = np.zeros(max(length, 32), bool)
        for s in starts:
            covered[s:s + 32] = True
        assert covered[:length].all() and starts[-1] + 32 >= length


def test_blending_hides_window_edges():
    """A model that is wrong only near window borders: blended output stays close to the truth."""
    def border_biased(batch):
        out = np.full((len(batch), 1) + batch.shape[2:], 1.0, np.float32)
        out[:, :, :2, :] = out[:, :, -2:, :] = out[:, :, :, :2] = out[:, :, :, -2:] = 0.0
        return out

    out = predict_tiled(border_biased, np.zeros((96, 96), np.float32), window=32, n_classes=1, overlap=0.5)
    assert out[0, 8:-8, 8:-8].min() > 0.95
    weights = window_weights(32)
    assert weights.min() > 0 and weights[16, 16] > 50 * weights[0, 0]
