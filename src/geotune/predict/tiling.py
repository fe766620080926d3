"""Sliding-window prediction over 2D arrays of any size, with smooth blending of overlaps.

One section (a SEG-Y inline, a GeoTIFF band, one image) is cut into square windows that overlap by
``overlap``; windows go to the model in batches; each window's probabilities are weighted by a
raised-cosine (Hann) taper so seams vanish, then divided by the summed weights. Memory is one
section's probabilities plus one batch, whatever the size of the survey the section came from.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

PredictFn = Callable[[np.ndarray], np.ndarray]  # (B, C, w, w) float32 -> (B, K, w, w) probabilities


def window_weights(size: int) -> np.ndarray:
    """A 2D taper, highest in the centre and small but positive at the edges."""
    ramp = 0.5 - 0.5 * np.cos(2 * np.pi * (np.arange(size) + 0.5) / size)
    return np.maximum(np.outer(ramp, ramp), 1e-3).astype(np.float32)


def window_starts(length: int, window: int, overlap: float) -> list[int]:
    """Start offsets covering ``[0, length)``; the last window ends exactly at ``length``."""
    if length <= window:
        return [0]
    stride = max(1, int(round(window * (1.0 - overlap))))
    starts = list(range(0, length - window, stride))
    starts.append(length - window)
    return starts


def predict_tiled(predict: PredictFn, image: np.ndarray, window: int, n_classes: int,
                  overlap: float = 0.5, batch_size: int = 16) -> np.ndarray:
    """Class probabilities (K, H, W) for ``image`` ((H, W) or (C, H, W)).

    An image smaller than the window is reflect-padded up to it, and the padding cropped off again.
    """
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        image = image[None]
    _, height, width = image.shape
    pad_h, pad_w = max(0, window - height), max(0, window - width)
    if pad_h or pad_w:
        image = np.pad(image, ((0, 0), (0, pad_h), (0, pad_w)), mode="reflect" if min(height, width) > 1 else "edge")
    full_h, full_w = image.shape[1:]
    weights = window_weights(window)
    total = np.zeros((n_classes, full_h, full_w), dtype=np.float32)
    norm = np.zeros((full_h, full_w), dtype=np.float32)
    corners = [(r, c) for r in window_starts(full_h, window, overlap) for c in window_starts(full_w, window, overlap)]
    for first in range(0, len(corners), batch_size):
        chunk = corners[first:first + batch_size]
        batch = np.stack([image[:, r:r + window, c:c + window] for r, c in chunk])
        proba = predict(batch)
        for (r, c), p in zip(chunk, proba):
            total[:, r:r + window, c:c + window] += p * weights
            norm[r:r + window, c:c + window] += weights
    return (total / norm)[:, :height, :width]
