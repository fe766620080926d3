"""Segment a GeoTIFF of any size strip by strip: read a strip of rows with a margin, predict it with the same
sliding windows as a section, keep the strip's own rows, write them, move on.

The margin is one window tall, so every pixel written was predicted with the context it would have had in a
whole-raster pass; memory is one strip's probabilities, whatever the raster's size.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from ..data.raster_windows import open_raster, plan_strips, raster_writer, read_strip, sample_values, write_strip
from .tiling import PredictFn, predict_tiled

CLASS_NODATA = 255


def predict_raster(predict: PredictFn, input: str | os.PathLike, out: str | os.PathLike, window: int,
                   n_classes: int, normaliser: Callable[[np.ndarray], Callable[[np.ndarray], np.ndarray]],
                   output: str = "class", proba_class: int = 1, overlap: float = 0.5, batch_size: int = 16,
                   strip_rows: int | None = None, progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the class (uint8, nodata 255) or ``proba_class`` probability (float32, NaN nodata) of every cell.

    ``normaliser(sample)`` builds the input scaling from a decimated sample of the raster, as training did from
    its sections.
    """
    with open_raster(input) as src:
        norm = normaliser(sample_values(src))
        rows = strip_rows or max(4 * window, 1024)
        strips = plan_strips(src.height, rows, margin=window)
        dtype, nodata = ("uint8", CLASS_NODATA) if output == "class" else ("float32", np.nan)
        with raster_writer(out, src, dtype, nodata) as dst:
            for done, strip in enumerate(strips, 1):
                block = read_strip(src, strip)
                valid = np.isfinite(block)
                proba = predict_tiled(predict, norm(block)[None], window, n_classes, overlap, batch_size)
                keep = slice(strip.margin_top, strip.margin_top + strip.bottom - strip.top)
                if output == "class":
                    values = np.where(valid, proba.argmax(0), CLASS_NODATA).astype(np.uint8)
                else:
                    values = np.where(valid, proba[proba_class], np.nan).astype(np.float32)
                write_strip(dst, strip, values[keep])
                if progress is not None:
                    progress(done, len(strips))
    return Path(out)
