"""GeoTIFF rasters: read with nodata as NaN, write on another raster's grid, check grids agree."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._atomic import atomic_file
from ..errors import DataError


@dataclass
class Raster:
    """One band on a georeferenced grid. ``array`` is float64 with NaN where the file has nodata."""

    array: np.ndarray
    transform: Any  # affine.Affine
    crs: Any  # rasterio.crs.CRS or None
    path: str | None = None
    nodata: float | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.array.shape

    @property
    def cell_size(self) -> tuple[float, float]:
        return abs(self.transform.a), abs(self.transform.e)

    def xy_to_rowcol(self, x: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        inverse = ~self.transform
        cols, rows = inverse @ (np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.floor(rows).astype(int), np.floor(cols).astype(int)

    def rowcol_to_xy(self, rows: Sequence[int], cols: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.transform @ (np.asarray(cols, dtype=float) + 0.5, np.asarray(rows, dtype=float) + 0.5)
        return np.asarray(x), np.asarray(y)

    def like(self, array: np.ndarray) -> "Raster":
        return Raster(np.asarray(array), self.transform, self.crs, None, self.nodata)


def read_raster(path: str | os.PathLike, band: int = 1) -> Raster:
    """One band, whole, as float64 with NaN for nodata (small evidence layers; large ones: raster_windows)."""
    from rasterio.errors import RasterioIOError

    from .raster_windows import open_raster

    path = Path(path)
    try:
        with open_raster(path) as src:
            if band > src.count:
                raise DataError(f"has {src.count} band(s), band {band} was asked for", path)
            data = src.read(band, masked=True)
            array = np.ma.filled(data.astype("float64"), np.nan)
            raster = Raster(array, src.transform, src.crs, str(path), src.nodata)
    except RasterioIOError as exc:
        raise DataError(f"cannot be read as a raster ({exc})", path) from exc
    if not np.isfinite(raster.array).any():
        raise DataError("holds nodata everywhere", path)
    return raster


def write_raster(path: str | os.PathLike, array: np.ndarray, like: Raster, nodata: float = -9999.0,
                 dtype: str = "float32") -> Path:
    """Write one band on ``like``'s grid (CRS and transform), NaN as ``nodata``; atomically."""
    import rasterio

    path = Path(path)
    array = np.asarray(array)
    if array.shape != like.shape:
        raise DataError(f"array of shape {array.shape} does not fit the grid {like.shape}", path)
    out = np.where(np.isfinite(array), array, nodata).astype(dtype)
    profile = dict(driver="GTiff", height=array.shape[0], width=array.shape[1], count=1, dtype=dtype,
                   transform=like.transform, nodata=nodata, compress="deflate")
    if like.crs is not None:
        profile["crs"] = like.crs
    with atomic_file(path, "wb") as handle:
        with rasterio.open(handle.name if hasattr(handle, "name") else path, "w", **profile) as dst:
            dst.write(out, 1)
    return path


def check_same_grid(rasters: Sequence[Raster]) -> None:
    """Raise DataError naming the first raster whose CRS, transform or shape differs from the first one's."""
    if not rasters:
        return
    first = rasters[0]
    for other in rasters[1:]:
        if first.crs != other.crs and first.crs is not None and other.crs is not None:
            raise DataError(f"is in CRS {other.crs}, but {first.path} is in {first.crs}; reproject it or "
                            "ask for resampling", other.path)
        if other.shape != first.shape or not np.allclose(tuple(other.transform)[:6], tuple(first.transform)[:6]):
            raise DataError(f"is on a different grid (shape {other.shape}, cell {other.cell_size}) than "
                            f"{first.path} (shape {first.shape}, cell {first.cell_size}); ask for resampling", other.path)


def resample_to_grid(raster: Raster, like: Raster, method: str = "nearest") -> Raster:
    """``raster`` warped onto ``like``'s grid (CRS, transform, shape) with rasterio; NaN stays nodata.

    Use ``nearest`` for classes and ``bilinear`` for continuous values.
    """
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    if raster.crs is None or like.crs is None:
        if raster.crs is not like.crs:
            raise DataError("has no CRS, so it cannot be resampled onto a georeferenced grid", raster.path)
    try:
        resampling = Resampling[method]
    except KeyError as exc:
        raise DataError(f"unknown resampling method {method!r}", raster.path) from exc
    out = np.full(like.shape, np.nan, dtype="float64")
    reproject(
        source=np.asarray(raster.array, dtype="float64"), destination=out,
        src_transform=raster.transform, src_crs=raster.crs, src_nodata=np.nan,
        dst_transform=like.transform, dst_crs=like.crs, dst_nodata=np.nan, resampling=resampling,
    )
    return Raster(out, like.transform, like.crs, raster.path, raster.nodata)
