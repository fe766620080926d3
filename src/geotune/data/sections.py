"""Sections read lazily, one at a time or one window at a time, from .npy (memory-mapped), .npz or SEG-Y.

A *section* is one (H, W) image, depth down: a row of an (N, H, W) array, an (N, C, H, W) array's
channels, or one inline of a 3D SEG-Y (sample x crossline). ``open_pairs`` opens images and label masks
side by side and checks they fit; ``scan_labels`` streams the masks once to validate them and count
classes. Nothing here reads a whole volume: a window reads only the traces (SEG-Y) or the slice
(.npy) it covers, so training on a survey larger than memory works.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ..errors import DataError, GeotuneWarning
from . import seismic
from .npy_reads import SectionReads

_ALL = slice(None)


class ArraySections:
    """Sections of a NumPy array (memory-mapped .npy, or an .npz held in memory): (N, H, W) or (N, C, H, W)."""

    def __init__(self, array: np.ndarray, path: str | os.PathLike | None):
        if array.ndim not in (3, 4):
            raise DataError(f"has shape {array.shape}; expected sections (N, H, W), (N, C, H, W) or one (H, W)", path)
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise DataError(f"holds {array.dtype} values; expected numbers", path)
        self.array, self.path = array, path
        self.full_shape = tuple(int(v) for v in array.shape)
        self.n = self.full_shape[0]
        self.channels = 1 if array.ndim == 3 else self.full_shape[1]
        self.shape = self.full_shape[-2:]
        # a .npy on disk is read section by section with plain reads, so streaming it never makes it resident
        self.reads = SectionReads(array) if SectionReads.applies(array) else None

    def section(self, index: int) -> np.ndarray:
        """Section ``index`` as stored: (H, W) or (C, H, W)."""
        return self.reads.section(index) if self.reads is not None else self.array[index]

    def read(self, index: int, rows: slice = _ALL, cols: slice = _ALL) -> np.ndarray:
        """(C, h, w) copy of section ``index`` (rows and columns as given), in the file's dtype."""
        if self.reads is None:  # in memory (or a view of a memmap): slice only the window
            key = (index, rows, cols) if self.array.ndim == 3 else (index, _ALL, rows, cols)
            return np.array(self.array[key])[(None,) if self.array.ndim == 3 else ()]
        section = self.reads.section(index)
        return np.array(section[rows, cols])[None] if section.ndim == 2 else np.array(section[:, rows, cols])

    def stats_sample(self) -> np.ndarray:
        return seismic.sample_for_stats(self.array)


class TransposedSections(ArraySections):
    """A label array stored (inline, crossline, sample), as segyio reads a volume; sections are (sample, crossline)."""

    def __init__(self, array: np.ndarray, path: str | os.PathLike | None):
        super().__init__(array, path)
        self.shape = (self.full_shape[2], self.full_shape[1])
        self.full_shape = (self.n,) + self.shape

    def read(self, index: int, rows: slice = _ALL, cols: slice = _ALL) -> np.ndarray:
        return np.array(self.section(index)[cols, rows].T)[None]


class SegySections:
    """Inlines of a SEG-Y file (one section for a trace collection), read from the memory-mapped file.

    The segyio handle is opened on first use in each process (DataLoader workers and DDP ranks open
    their own) and is never pickled.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.info = seismic.inspect_segy(self.path)
        if self.info.kind == "prestack":
            raise DataError(self.info.note, self.path)
        with seismic.open_segy(self.path, self.info) as (f, info):
            self.traces = seismic.section_trace_indices(f, info)
        self.n = len(self.traces)
        self.channels = 1
        self.shape = (self.info.n_samples, len(self.traces[0]))
        self.full_shape = (self.n,) + self.shape
        self._handle, self._owner = None, None

    def _file(self):
        if self._handle is None or self._owner != os.getpid():
            import segyio

            opener = segyio.su.open if self.info.su else segyio.open
            try:
                self._handle = opener(str(self.path), "r", **self.info.open_options())
            except Exception as exc:
                raise DataError(f"cannot be opened as SEG-Y ({exc})", self.path) from exc
            # plain reads, not mmap: the traces a window needs are read into its own buffer, and the pages read go to
            # the shared page cache instead of this process's resident memory (RSS stayed flat 0.5 -> 4 GB this way)
            self._owner = os.getpid()
        return self._handle

    def read(self, index: int, rows: slice = _ALL, cols: slice = _ALL) -> np.ndarray:
        """(1, h, w) float32: only the traces in ``cols`` are read."""
        block = seismic.read_traces(self._file(), self.traces[index][cols], self.path)
        return np.ascontiguousarray(block.T[rows])[None]

    def stats_sample(self) -> np.ndarray:
        return seismic.sample_for_stats(self.path)

    def close(self) -> None:
        if self._handle is not None and self._owner == os.getpid():
            self._handle.close()
        self._handle = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_handle": None, "_owner": None}


def open_sections(path: str | os.PathLike):
    """Lazy sections of any supported file (a .npy is memory-mapped; a 2D array is one section)."""
    path = Path(path)
    if seismic.is_segy(path):
        return SegySections(path)
    array = seismic.read_array(path)
    if array.ndim == 2:
        array = array[None]
    return ArraySections(array, path)


def open_pairs(data: str | os.PathLike, labels: str | os.PathLike | None):
    """``(images, masks or None)`` as lazy sections, with the masks' shape checked against the images'.

    Label volumes may be SEG-Y, or a .npy in segyio's (inline, crossline, sample) shape beside a 3D SEG-Y.
    """
    if labels is not None and not Path(labels).is_file():
        raise DataError("no such file", labels)
    images = open_sections(data)
    if labels is None:
        return images, None
    label_path = Path(labels)
    expected = (images.n,) + tuple(images.shape)
    if seismic.is_segy(label_path):
        masks = SegySections(label_path)
    else:
        array = seismic.read_array(label_path)
        info = getattr(images, "info", None)
        if info is not None and info.kind == "3d" and array.ndim == 3 and array.shape == info.shape:
            # segyio's shape wins: label volumes are usually made from the survey read by segyio. With as many
            # crosslines as samples it is also the sections' shape, and reading it untransposed mislabels every pixel
            if array.shape == expected:
                warnings.warn(f"{label_path}: sections have as many samples as crosslines ({info.shape[1]}), so "
                              "the label volume's axes are ambiguous; read as segyio's (inline, crossline, sample). "
                              "Save (inline, sample, crossline) labels transposed to that shape.", GeotuneWarning)
            masks = TransposedSections(array, label_path)
        else:
            masks = ArraySections(array[None] if array.ndim == 2 else array, label_path)
    if masks.full_shape != expected:
        raise DataError(f"labels have shape {masks.full_shape} but the data {data} gives sections of shape {expected}",
                        label_path)
    return images, masks


def read_mask(masks, index: int, rows: slice = _ALL, cols: slice = _ALL) -> np.ndarray:
    """(h, w) int64 class numbers (validated by ``scan_labels`` beforehand)."""
    return masks.read(index, rows, cols)[0].astype(np.int64)


def check_mask(values: np.ndarray, path: str | os.PathLike) -> np.ndarray:
    """``values`` as int64 class numbers, or DataError naming ``path`` when they are not class numbers >= 0."""
    if values.dtype == bool:
        values = values.astype(np.int64)
    if not np.issubdtype(values.dtype, np.integer):
        if not np.all(np.isfinite(values)) or not np.all(np.mod(values, 1) == 0):
            raise DataError("labels must be integer class numbers (0, 1, ...), found fractional values", path)
    values = values.astype(np.int64)
    if values.size and values.min() < 0:
        raise DataError(f"labels must be class numbers >= 0, found {values.min()}", path)
    return values


def scan_labels(masks, path: str | os.PathLike) -> np.ndarray:
    """Stream every mask once: check they hold class numbers >= 0, and return per-section class counts
    (N, K), K = the largest class found + 1."""
    counts = [np.bincount(check_mask(masks.read(index)[0], path).ravel()) for index in range(masks.n)]
    width = max((len(c) for c in counts), default=1)
    return np.stack([np.pad(c, (0, width - len(c))) for c in counts]).astype(np.int64)


def load_pairs(data: str | os.PathLike, labels: str | os.PathLike | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Small inputs in memory: ``(images N x C x H x W float32 raw amplitudes, masks N x H x W int64 or None)``.
    Training and evaluation stream instead (``open_pairs``)."""
    images, masks = open_pairs(data, labels)
    stacked = np.stack([images.read(i).astype(np.float32) for i in range(images.n)])
    if masks is None:
        return stacked, None
    scan_labels(masks, labels)
    return stacked, np.stack([read_mask(masks, i) for i in range(masks.n)])
