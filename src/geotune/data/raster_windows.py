"""GeoTIFFs of any size, read and written in blocks: memory follows the block, never the raster.

A 20,000 x 20,000 float raster is 1.6 GB as float32 (3.2 GB as the float64 `read_raster` gives); models that
work on windows need only a block of cells and a margin around it at a time. Blocks are square tiles rather
than full-width strips, so memory stays flat as the raster grows in both directions.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import DataError


@dataclass(frozen=True)
class Block:
    """Cells ``[top, bottom) x [left, right)``, read with a margin of context on each side (clipped at the edges)."""

    top: int
    bottom: int
    left: int
    right: int
    margin_top: int
    margin_bottom: int
    margin_left: int
    margin_right: int

    @property
    def inner(self) -> tuple[slice, slice]:
        """Where the block's own cells lie in the array read with margins."""
        return (slice(self.margin_top, self.margin_top + self.bottom - self.top),
                slice(self.margin_left, self.margin_left + self.right - self.left))


def _spans(length: int, size: int, margin: int) -> list[tuple[int, int, int, int]]:
    return [(start, min(length, start + size), min(margin, start), min(margin, length - min(length, start + size)))
            for start in range(0, length, size)]


def plan_blocks(height: int, width: int, size: int, margin: int) -> list[Block]:
    """Square blocks of ``size`` cells covering the raster row by row, each with up to ``margin`` cells of context."""
    if size < 1:
        raise ValueError("a block needs at least one cell")
    return [Block(top, bottom, left, right, m_top, m_bottom, m_left, m_right)
            for top, bottom, m_top, m_bottom in _spans(height, size, margin)
            for left, right, m_left, m_right in _spans(width, size, margin)]


def open_raster(path: str | os.PathLike):
    """A rasterio dataset for ``path``, or a DataError naming the file."""
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path)
    if path.stat().st_size == 0:
        raise DataError("is empty (0 bytes)", path)
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise DataError(f"cannot be read as a raster ({exc})", path) from exc


def read_block(src, block: Block, band: int = 1) -> np.ndarray:
    """float32 cells of ``block`` with their margins, NaN where the file has nodata."""
    from rasterio.windows import Window

    row, col = block.top - block.margin_top, block.left - block.margin_left
    height = block.bottom + block.margin_bottom - row
    width = block.right + block.margin_right - col
    data = src.read(band, window=Window(col, row, width, height), masked=True)
    return np.ma.filled(data.astype(np.float32), np.nan)


def sample_values(src, max_cells: int = 4_000_000, band: int = 1) -> np.ndarray:
    """Finite values of a decimated read (GDAL picks every k-th cell or an overview): statistics without the
    whole raster in memory."""
    step = max(1, int(np.ceil(np.sqrt(src.width * src.height / max_cells))))
    shape = (max(1, src.height // step), max(1, src.width // step))
    data = src.read(band, out_shape=shape, masked=True)
    values = np.ma.filled(data.astype(np.float32), np.nan)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise DataError("holds nodata everywhere", src.name)
    return values


@contextmanager
def raster_writer(path: str | os.PathLike, like, dtype: str, nodata: float) -> Iterator:
    """A tiled, compressed single-band GeoTIFF on ``like``'s grid, written to a temporary sibling and renamed
    into place only when the block exits without an error (nothing half-written is left behind)."""
    import rasterio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    profile = dict(driver="GTiff", width=like.width, height=like.height, count=1, dtype=dtype, nodata=nodata,
                   transform=like.transform, compress="deflate", tiled=True, blockxsize=256, blockysize=256,
                   BIGTIFF="IF_SAFER")
    if like.crs is not None:
        profile["crs"] = like.crs
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            yield dst
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_block(dst, block: Block, values: np.ndarray) -> None:
    """Write the block's own cells (``values`` without margins)."""
    from rasterio.windows import Window

    dst.write(values, 1, window=Window(block.left, block.top, block.right - block.left, block.bottom - block.top))
