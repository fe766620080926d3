"""Seismic volumes shown as inline, crossline and time slices, one slice read at a time.

A volume is a .npy/.npz array, (inline, sample, crossline) as geotune stores sections (a single (H, W) section
is a volume of one inline), or a SEG-Y file read through segyio's inline/crossline/depth-slice readers, so a
survey larger than memory is never loaded whole. Slices come back depth (or inline) down, as float32, with one
amplitude clip range per volume so that every slice of it shares a colour scale.
"""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path

import numpy as np

from ...data import seismic
from ...errors import DataError

AXES = ("inline", "crossline", "time")
COLOUR_MAPS = ("seismic", "gray", "RdBu_r")


class Volume:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()  # segyio handles are not thread-safe
        self._stack = contextlib.ExitStack()
        self.segy = seismic.is_segy(self.path)
        if self.segy:
            self.file, self.info = self._stack.enter_context(seismic.open_segy(self.path))
            if self.info.kind == "prestack":
                raise DataError(self.info.note, self.path)
            if self.info.kind == "3d":
                self.counts = {"inline": len(self.info.ilines), "crossline": len(self.info.xlines),
                               "time": self.info.n_samples}
            else:
                self.counts = {"inline": 1, "crossline": 0, "time": 0}
        else:
            array = seismic.read_array(self.path)
            if array.ndim == 2:
                array = array[None]
            elif array.ndim == 4:
                array = array[:, 0]
            if array.ndim != 3 or array.dtype.kind not in "biuf":
                raise DataError(f"has shape {array.shape} ({array.dtype}); a volume is (inline, sample, crossline) "
                                "numbers", self.path)
            self.array = array
            n, h, w = array.shape
            self.counts = {"inline": n, "crossline": w if n > 1 else 0, "time": h if n > 1 else 0}
        with self._lock:
            self.clip = seismic.clip_range(seismic.sample_for_stats(self.path if self.segy else self.array), 99.0)

    def describe(self) -> dict:
        return {"counts": self.counts, "axes": [a for a in AXES if self.counts[a] > 0]}

    def slice(self, axis: str, index: int) -> np.ndarray:
        """(rows, cols) float32: inline and crossline slices are (sample, trace); a time slice is (inline, crossline)."""
        if axis not in AXES or self.counts.get(axis, 0) == 0:
            raise DataError(f"has no {axis} slices (it has {', '.join(self.describe()['axes'])})", self.path)
        if not 0 <= index < self.counts[axis]:
            raise DataError(f"{axis} slice {index} is outside 0..{self.counts[axis] - 1}", self.path)
        with self._lock:
            if not self.segy:
                if axis == "inline":
                    out = self.array[index]
                elif axis == "crossline":
                    out = self.array[:, :, index].T
                else:
                    out = self.array[:, index, :]
                return np.asarray(out, dtype=np.float32)
            try:
                if self.info.kind != "3d":
                    return np.asarray(self.file.trace.raw[:], dtype=np.float32).T
                if axis == "inline":
                    return np.asarray(self.file.iline[self.info.ilines[index]], dtype=np.float32).T
                if axis == "crossline":
                    return np.asarray(self.file.xline[self.info.xlines[index]], dtype=np.float32).T
                return np.asarray(self.file.depth_slice[index], dtype=np.float32)
            except Exception as exc:  # segyio raises plain RuntimeError/KeyError on damaged files
                raise DataError(f"{axis} {index} cannot be read ({exc})", self.path) from exc

    def unit(self, values: np.ndarray) -> np.ndarray:
        """Amplitudes clipped to the volume's range and mapped to [0, 1] (0.5 = zero amplitude for symmetric data)."""
        return (seismic.normalise(values, *self.clip) + 1.0) / 2.0

    def close(self) -> None:
        self._stack.close()


def colour_png(unit: np.ndarray, colour_map: str = "seismic") -> bytes:
    """A [0, 1] slice as an RGB PNG through a matplotlib colour map."""
    from matplotlib import colormaps
    from PIL import Image

    if colour_map not in COLOUR_MAPS:
        raise DataError(f"unknown colour map {colour_map!r}; choose {', '.join(COLOUR_MAPS)}")
    rgb = (colormaps[colour_map](np.clip(unit, 0, 1))[..., :3] * 255 + 0.5).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG")
    return out.getvalue()


def cut_patch(values: np.ndarray, row: int, col: int, size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The ``size`` x ``size`` window of ``values`` centred on (row, col), shifted to stay inside (smaller when
    the slice is); returns it and its top-left corner."""
    h, w = values.shape
    if not (0 <= row < h and 0 <= col < w):
        raise DataError(f"point ({row}, {col}) is outside the {h} x {w} slice")
    top = int(np.clip(row - size // 2, 0, max(0, h - size)))
    left = int(np.clip(col - size // 2, 0, max(0, w - size)))
    return values[top:top + size, left:left + size], (top, left)
