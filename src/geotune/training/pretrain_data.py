"""Unlabelled inputs for ``geotune pretrain``: SEG-Y volumes (random windows of the inlines), patches in
.npy/.npz, image folders or single images. Each item is C x S x S float16 in [0, 1], scaled exactly as
``geotune train`` scales the same kind of input, so the adapted statistics are the ones training will see."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..data import seismic
from ..data.samples import open_dataset
from ..data.sampleset import SampleDataset
from ..data.scaling import resize_batch, scale_to_unit
from ..data.sections import SegySections


class SegyWindows(SampleDataset):
    """``n`` square windows of ``window`` samples drawn from the inlines of a SEG-Y file; window ``i`` is the
    same on every pass (its position comes from (seed, i)), so a resumed run sees the same data. Amplitudes
    are scaled per window like seismic patches in .npy (``robust``: 99th percentile of |x|, zero at 0.5)."""

    def __init__(self, path: str | os.PathLike, image_size: int, window: int, n: int, seed: int = 0):
        self.sections = SegySections(path)
        self.source = str(path)
        self.image_size, self.window, self.seed = int(image_size), int(window), int(seed)
        self.channels, self.scaling, self.labels, self.groups = 1, "robust", None, None
        self.ids = [str(i) for i in range(n)]
        self.table = {}

    def sample(self, index: int) -> np.ndarray:
        rng = np.random.default_rng((self.seed, index))
        height, width = self.sections.shape
        size_r, size_c = min(self.window, height), min(self.window, width)
        section = int(rng.integers(self.sections.n))
        row, col = int(rng.integers(height - size_r + 1)), int(rng.integers(width - size_c + 1))
        raw = self.sections.read(section, slice(row, row + size_r), slice(col, col + size_c))
        scaled = scale_to_unit(np.nan_to_num(raw), "robust")
        return resize_batch(scaled[None], self.image_size)[0].astype(np.float16)

    def fingerprint_parts(self) -> list:
        stat = Path(self.source).stat()
        return [self.source, stat.st_size, stat.st_mtime_ns, self.window, self.seed, len(self.ids)]


def open_unlabelled(data: str | os.PathLike, image_size: int, window: int | None = None,
                    windows_per_pass: int = 4096, seed: int = 0) -> SampleDataset:
    """The unlabelled samples of ``data``; labels beside them, if any, are ignored. Bad input raises DataError."""
    path = Path(data)
    if seismic.is_segy(path):
        return SegyWindows(path, image_size, window or image_size, windows_per_pass, seed)
    return open_dataset(path, None, image_size, require_labels=False)
