"""Brushed segmentation masks: one uint8 .npy per painted slice, PROJECT/masks/<source>/<axis>_<index>.npy.

A pixel holds 0 (not labelled) or k, the k-th class of the project (classes are only ever appended, so k keeps
its meaning). PROJECT/masks/masks.csv lists every mask with its slice, who painted last and when. A stroke is
applied under one lock and written atomically; the slice's previous mask is kept in memory so the stroke
can be undone.
"""

from __future__ import annotations

import csv
import io
import itertools
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..._atomic import atomic_file
from ...errors import DataError
from .store import utc_now

UNDO_DEPTH = 50
MAX_POINTS = 5000
MAX_RADIUS = 200


def mask_path(root: Path, source: str, axis: str, index: int) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in source)
    return root / "masks" / safe / f"{axis}_{int(index):05d}.npy"


class MaskStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._undo: OrderedDict[int, tuple] = OrderedDict()  # stroke id -> (file, mask before, slice, who)
        self._ids = itertools.count(1)

    def read(self, source: str, axis: str, index: int, shape: tuple[int, int]) -> np.ndarray:
        path = mask_path(self.root, source, axis, index)
        if not path.is_file():
            return np.zeros(shape, dtype=np.uint8)
        mask = np.load(path, allow_pickle=False)
        if mask.shape != tuple(shape):
            raise DataError(f"has shape {mask.shape}, the slice is {tuple(shape)}", path)
        return mask

    def stroke(self, source: str, axis: str, index: int, shape: tuple[int, int], value: int, radius: float,
               points: list, who: str = "") -> int:
        """Paint ``value`` (0 erases) along the polyline ``points`` [[row, col], ...]; returns the stroke's id."""
        from PIL import Image, ImageDraw

        if not points or len(points) > MAX_POINTS:
            raise DataError(f"a stroke needs 1 to {MAX_POINTS} points")
        radius = float(radius)
        if not 0.5 <= radius <= MAX_RADIUS:
            raise DataError(f"brush radius must be 0.5-{MAX_RADIUS} pixels, got {radius}")
        try:
            xy = [(float(c), float(r)) for r, c in points]
        except (TypeError, ValueError) as exc:
            raise DataError("stroke points must be [row, column] pairs of numbers") from exc
        canvas = Image.new("L", (shape[1], shape[0]), 0)
        draw = ImageDraw.Draw(canvas)
        if len(xy) > 1:
            draw.line(xy, fill=255, width=max(1, int(round(2 * radius))))
        for x, y in xy:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
        painted = np.asarray(canvas) > 0
        with self._lock:
            path = mask_path(self.root, source, axis, index)
            before = np.load(path, allow_pickle=False) if path.is_file() else None
            mask = np.zeros(shape, dtype=np.uint8) if before is None else before.copy()
            mask[painted] = value
            self._save(path, mask, source, axis, index, who)
            stroke_id = next(self._ids)
            self._undo[stroke_id] = (path, before, source, axis, index, who)
            while len(self._undo) > UNDO_DEPTH:
                self._undo.popitem(last=False)
            return stroke_id

    def undo(self, stroke_id: int) -> bool:
        with self._lock:
            entry = self._undo.pop(int(stroke_id), None)
            if entry is None:
                return False
            path, before, source, axis, index, who = entry
            if before is None:
                path.unlink(missing_ok=True)
                self._index(source, axis, index, remove=True)
            else:
                self._save(path, before, source, axis, index, who)
            return True

    def _save(self, path: Path, mask: np.ndarray, source: str, axis: str, index: int, who: str) -> None:
        buffer = io.BytesIO()
        np.save(buffer, mask, allow_pickle=False)
        with atomic_file(path, "wb") as handle:
            handle.write(buffer.getvalue())
        self._index(source, axis, index, who)

    def _index(self, source: str, axis: str, index: int, who: str = "", remove: bool = False) -> None:
        """masks/masks.csv: mask, source, axis, index, who, when (rewritten atomically)."""
        listing = self.root / "masks" / "masks.csv"
        rows = {}
        if listing.is_file():
            with open(listing, newline="", encoding="utf-8") as handle:
                rows = {row["mask"]: row for row in csv.DictReader(handle)}
        key = mask_path(self.root, source, axis, index).relative_to(self.root).as_posix()
        if remove:
            rows.pop(key, None)
        else:
            rows[key] = {"mask": key, "source": source, "axis": axis, "index": int(index), "who": who,
                         "when": utc_now()}
        with atomic_file(listing, newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["mask", "source", "axis", "index", "who", "when"])
            writer.writeheader()
            writer.writerows(rows.values())



def mask_png(mask: np.ndarray, colours: list[tuple[int, int, int]], alpha: int = 120) -> bytes:
    """RGBA PNG: class k in ``colours[k - 1]``, unlabelled pixels transparent."""
    rgba = np.zeros(mask.shape + (4,), dtype=np.uint8)
    for k, colour in enumerate(colours, 1):
        hit = mask == k
        rgba[hit, :3] = colour
        rgba[hit, 3] = alpha
    return rgba_png(rgba)


def rgba_png(rgba: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, format="PNG")
    return out.getvalue()
