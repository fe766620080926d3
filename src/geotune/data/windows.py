"""Training windows cut from sections: where to read, how to pad, the random shift and left-right flip.

Kept apart from the torch datasets so that the window geometry can be used (and tested) without torch,
and so that a window can be read from a file without reading the whole section (``WindowBox.rows/cols``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHIFT = 4  # pixels of random shift a window gets even when the section is no larger than the window


@dataclass(frozen=True)
class WindowBox:
    """Where a training window comes from: the part of the section to read, the padding to add to that
    part, the crop inside the padded part, and whether to flip left-right."""

    rows: slice
    cols: slice
    pads: tuple[tuple[int, int], tuple[int, int]]
    mode: str
    top: int
    left: int
    size: int
    flip: bool

    def cut(self, block: np.ndarray) -> np.ndarray:
        """The window from ``block`` (..., rows read, cols read)."""
        if any(self.pads[0]) or any(self.pads[1]):
            block = np.pad(block, ((0, 0),) * (block.ndim - 2) + self.pads, mode=self.mode)
        block = block[..., self.top:self.top + self.size, self.left:self.left + self.size]
        if self.flip:
            block = block[..., ::-1]
        return np.ascontiguousarray(block)


def draw_window(height: int, width: int, size: int, rng: np.random.Generator, augment: bool,
                shift: int = SHIFT) -> WindowBox:
    """A ``size`` window of an (height, width) section, reflect-padded when smaller; with ``augment``
    a random position (small shifts) and left-right flips, never up-down (seismic has a depth direction)."""
    margin = shift if augment else 0  # room for a small shift; larger inputs get it from the random crop
    pad_h, pad_w = max(0, size + margin - height), max(0, size + margin - width)
    r = int(rng.integers(0, height + pad_h - size + 1)) if augment else (height + pad_h - size) // 2
    c = int(rng.integers(0, width + pad_w - size + 1)) if augment else (width + pad_w - size) // 2
    flip = bool(augment and rng.random() < 0.5)
    # a padded axis is read whole (it is short); an unpadded one only over the window
    rows, top = (slice(0, height), r) if pad_h else (slice(r, r + size), 0)
    cols, left = (slice(0, width), c) if pad_w else (slice(c, c + size), 0)
    pads = ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2))
    mode = "reflect" if min(height, width) > 1 else "edge"
    return WindowBox(rows, cols, pads, mode, top, left, size, flip)


def random_window(image: np.ndarray, mask: np.ndarray, size: int, rng: np.random.Generator,
                  augment: bool, shift: int = SHIFT) -> tuple[np.ndarray, np.ndarray]:
    """A window from an in-memory (C, H, W) image and (H, W) mask (see ``draw_window``)."""
    box = draw_window(image.shape[1], image.shape[2], size, rng, augment, shift)
    return box.cut(image[:, box.rows, box.cols]), box.cut(mask[box.rows, box.cols])
