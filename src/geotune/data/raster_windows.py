"""GeoTIFFs of any size, read and written in strips: memory follows the strip, never the raster.

A 20,000 x 20,000 float raster is 1.6 GB as float32 (3.2 GB as the float64 `read_raster` gives); models that
work on windows need only a strip of rows and a margin around it at a time.
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
class Strip:
    """Rows ``[top, bottom)`` of the raster, read with ``margin_top``/``margin_bottom`` extra rows around them."""

    top: int
    bottom: int
    margin_top: int
    margin_bottom: int


def plan_strips(height: int, rows: int, margin: int) -> list[Strip]:
    """Strips of ``rows`` rows covering ``height``, each with up to ``margin`` rows of context on both sides."""
    if rows < 1:
        raise ValueError("a strip needs at least one row")
    strips = []
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        strips.append(Strip(top, bottom, min(margin, top), min(margin, height - bottom)))
    return strips


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


def read_strip(src, strip: Strip, band: int = 1) -> np.ndarray:
    """float32 rows of ``strip`` with their margins, NaN where the file has nodata."""
    from rasterio.windows import Window

    first = strip.top - strip.margin_top
    count = strip.bottom + strip.margin_bottom - first
    data = src.read(band, window=Window(0, first, src.width, count), masked=True)
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


def write_strip(dst, strip: Strip, values: np.ndarray) -> None:
    from rasterio.windows import Window

    dst.write(values, 1, window=Window(0, strip.top, dst.width, strip.bottom - strip.top))
