"""Segment a GeoTIFF of any size block by block: read a block with a margin, predict it with the same sliding
windows as a section, keep the block's own cells, write them, move on.

The margin is one window wide, so every cell written was predicted with the context it would have had in a
whole-raster pass; memory is one block's probabilities, whatever the raster's size.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from ..data.raster_windows import open_raster, plan_blocks, raster_writer, read_block, sample_values, write_block
from .tiling import PredictFn, predict_tiled

CLASS_NODATA = 255


def predict_raster(predict: PredictFn, input: str | os.PathLike, out: str | os.PathLike, window: int,
                   n_classes: int, normaliser: Callable[[np.ndarray], Callable[[np.ndarray], np.ndarray]],
                   output: str = "class", proba_class: int = 1, overlap: float = 0.5, batch_size: int = 16,
                   block_size: int | None = None, progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the class (uint8, nodata 255) or ``proba_class`` probability (float32, NaN nodata) of every cell.

    ``normaliser(sample)`` builds the input scaling from a decimated sample of the raster, as training did from
    its sections.
    """
    with open_raster(input) as src:
        norm = normaliser(sample_values(src))
        size = block_size or max(4 * window, 1024)
        blocks = plan_blocks(src.height, src.width, size, margin=window)
        dtype, nodata = ("uint8", CLASS_NODATA) if output == "class" else ("float32", np.nan)
        with raster_writer(out, src, dtype, nodata) as dst:
            for done, block in enumerate(blocks, 1):
                cells = read_block(src, block)
                valid = np.isfinite(cells)
                proba = predict_tiled(predict, norm(cells)[None], window, n_classes, overlap, batch_size)
                if output == "class":
                    values = np.where(valid, proba.argmax(0), CLASS_NODATA).astype(np.uint8)
                else:
                    values = np.where(valid, proba[proba_class], np.nan).astype(np.float32)
                write_block(dst, block, values[block.inner])
                if progress is not None:
                    progress(done, len(blocks))
    return Path(out)
