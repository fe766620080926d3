"""Samples in a NumPy array read one at a time: with a memory-mapped ``.npy`` only the samples asked for
are read, scaled (per sample, by the rule in ``scaling.py``) and resized."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from .sampleset import SampleDataset
from .scaling import resize_batch, scale_to_unit


class ArrayDataset(SampleDataset):
    """``data`` is N x C x H x W (a memmap view or an array); ``ds[i]`` -> C x S x S float16 in [0, 1]."""

    def __init__(self, data: np.ndarray, image_size: int, scaling: str, dtype_max: float | None,
                 labels: np.ndarray | None, path: Path, files: list[Path]):
        self.data = data
        self.image_size, self.channels = int(image_size), int(data.shape[1])
        self.scaling, self.dtype_max = scaling, dtype_max
        self.labels, self.source, self.groups = labels, str(path), None
        self.ids = [str(i) for i in range(len(data))]
        self.table = {"index": list(range(len(data)))}
        self.files = [Path(f) for f in files]

    def sample(self, index: int) -> np.ndarray:
        raw = np.asarray(self.data[index])
        if np.issubdtype(raw.dtype, np.floating) and not np.isfinite(raw).all():
            raise DataError(f"contains NaN or Inf values (sample {index}); fill or drop them before training",
                            self.source)
        scaled = scale_to_unit(raw, self.scaling, self.dtype_max)
        return resize_batch(scaled[None], self.image_size)[0].astype(np.float16)

    def fingerprint_parts(self) -> list:
        parts: list = [str(self.data.dtype), tuple(self.data.shape), self.dtype_max]
        for file in self.files:
            stat = file.stat()
            parts.append((str(file.resolve()), stat.st_size, stat.st_mtime_ns))
        return parts


def find_non_finite(data: np.ndarray, path: Path, chunk: int = 256) -> None:
    """One streamed pass over float data (bounded memory for memmaps): DataError naming how many samples
    hold NaN or Inf and the first one."""
    if not np.issubdtype(data.dtype, np.floating):
        return
    bad: list[int] = []
    for start in range(0, len(data), chunk):
        block = np.asarray(data[start:start + chunk])
        rows = ~np.isfinite(block.reshape(len(block), -1)).all(axis=1)
        bad += (np.flatnonzero(rows) + start).tolist()
    if bad:
        raise DataError(f"contains NaN or Inf values (in {len(bad)} sample(s), first at index {bad[0]}); "
                        "fill or drop them before training", path)
