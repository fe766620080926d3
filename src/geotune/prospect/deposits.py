"""Known deposits as points: CSV (x, y columns), GeoJSON, through pyogrio (when installed)
shapefiles and GeoPackages, or a GeoTIFF whose non-zero cells are deposits (one per cell, at the
cell's centre). Coordinates must be in the evidence grid's CRS."""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError

VECTOR_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json", ".fgb", ".gml", ".kml"}
RASTER_SUFFIXES = {".tif", ".tiff"}


@dataclass
class Deposits:
    """Deposit points (x, y in the grid's CRS); ``crs`` is the file's CRS when it declares one."""

    x: np.ndarray
    y: np.ndarray
    path: str | None = None
    crs: str | None = None

    def __len__(self) -> int:
        return len(self.x)

    def cells(self, grid) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of each point on ``grid``; a point outside the grid is an error naming it."""
        if self.crs and getattr(grid, "crs", None) is not None:
            from rasterio.crs import CRS

            try:
                same = CRS.from_user_input(self.crs) == grid.crs
            except Exception:  # an unparseable CRS string: trust the user's coordinates
                same = True
            if not same:
                raise DataError(f"deposits are in CRS {self.crs}, the evidence grid in {grid.crs}; "
                                "reproject the points first", self.path)
        rows, cols = grid.xy_to_rowcol(self.x, self.y)
        inside = (rows >= 0) & (rows < grid.shape[0]) & (cols >= 0) & (cols < grid.shape[1])
        if not inside.all():
            first = int(np.flatnonzero(~inside)[0])
            raise DataError(f"{int((~inside).sum())} deposit(s) lie outside the evidence grid, the first is "
                            f"point {first + 1} at x={self.x[first]:.6g}, y={self.y[first]:.6g}", self.path)
        return rows, cols

    def subset(self, keep: np.ndarray) -> "Deposits":
        return Deposits(self.x[keep], self.y[keep], self.path, self.crs)

    @classmethod
    def from_cells(cls, grid, rows, cols) -> "Deposits":
        x, y = grid.rowcol_to_xy(rows, cols)
        return cls(np.atleast_1d(x).astype(float), np.atleast_1d(y).astype(float))


def read_deposits(path: str | os.PathLike, x: str = "x", y: str = "y") -> Deposits:
    """Read points from CSV (columns ``x``/``y``, any case), a vector file or a deposit raster."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _read_csv(path, x, y)
    if suffix in VECTOR_SUFFIXES:
        if _has_pyogrio():
            return _read_pyogrio(path)
        if suffix in (".geojson", ".json"):
            return _read_geojson(path)
        raise DataError("reading shapefiles / GeoPackages needs the pyogrio package "
                        "(pip install pyogrio); without it use CSV or GeoJSON", path)
    if suffix in RASTER_SUFFIXES:
        return _read_raster(path)
    raise DataError("deposits must be CSV, GeoJSON, shapefile, GeoPackage or a GeoTIFF of deposit cells", path)


def _read_raster(path: Path) -> Deposits:
    """Every cell with a finite, non-zero value (not the file's nodata) is one deposit."""
    from ..data.rasters import read_raster

    raster = read_raster(path)
    values = np.nan_to_num(raster.array, nan=0.0)
    rows, cols = np.nonzero(values)
    if len(rows) == 0:
        raise DataError("holds no deposit cell (a deposit raster marks deposits with non-zero values)", path)
    x, y = raster.rowcol_to_xy(rows, cols)
    crs = raster.crs.to_wkt() if raster.crs is not None else None
    return Deposits(np.atleast_1d(x).astype(float), np.atleast_1d(y).astype(float), str(path), crs)


def _has_pyogrio() -> bool:
    try:
        import pyogrio  # noqa: F401
    except ImportError:
        return False
    return True


def _read_csv(path: Path, xcol: str, ycol: str) -> Deposits:
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except Exception as exc:  # pandas raises several kinds for a broken CSV
        raise DataError(f"cannot be read as CSV ({exc})", path) from exc
    lower = {str(c).lower(): c for c in frame.columns}
    if xcol.lower() not in lower or ycol.lower() not in lower:
        raise DataError(f"needs columns {xcol!r} and {ycol!r} (coordinates in the grid's CRS); "
                        f"found {list(frame.columns)}", path)
    xs = pd.to_numeric(frame[lower[xcol.lower()]], errors="coerce").to_numpy(float)
    ys = pd.to_numeric(frame[lower[ycol.lower()]], errors="coerce").to_numpy(float)
    return _checked(xs, ys, path, None)


def _read_pyogrio(path: Path) -> Deposits:
    import pyogrio

    try:
        meta, _, geometry, _ = pyogrio.raw.read(path, read_geometry=True, columns=[])
    except Exception as exc:  # pyogrio's own error types vary by driver
        raise DataError(f"cannot be read as a vector file ({exc})", path) from exc
    if geometry is None:
        raise DataError("has no geometry", path)
    xs, ys = zip(*(_wkb_point(g, path) for g in geometry)) if len(geometry) else ((), ())
    return _checked(np.array(xs, float), np.array(ys, float), path, meta.get("crs"))


def _wkb_point(blob: bytes, path: Path) -> tuple[float, float]:
    # ISO/extended WKB: byte order, geometry type, then the coordinates (x, y first).
    if blob is None or len(blob) < 21:
        raise DataError("holds an empty or non-point geometry; deposits must be points", path)
    order = "<" if blob[0] == 1 else ">"
    kind = struct.unpack(order + "I", blob[1:5])[0]
    if (kind & 0x0FFFFFFF) % 1000 != 1:
        raise DataError("holds non-point geometries; deposits must be points", path)
    start = 9 if kind & 0x20000000 else 5  # EWKB may carry an SRID before the coordinates
    return struct.unpack(order + "dd", blob[start:start + 16])


def _read_geojson(path: Path) -> Deposits:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot be read as GeoJSON ({exc})", path) from exc
    features = data.get("features", []) if isinstance(data, dict) else []
    xs, ys = [], []
    for feature in features:
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") != "Point":
            raise DataError(f"holds a {geometry.get('type')} geometry; deposits must be points", path)
        xs.append(geometry["coordinates"][0])
        ys.append(geometry["coordinates"][1])
    crs = ((data.get("crs") or {}).get("properties") or {}).get("name") if isinstance(data, dict) else None
    return _checked(np.array(xs, float), np.array(ys, float), path, crs)


def _checked(xs: np.ndarray, ys: np.ndarray, path: Path, crs) -> Deposits:
    if len(xs) == 0:
        raise DataError("holds no deposit points", path)
    bad = ~(np.isfinite(xs) & np.isfinite(ys))
    if bad.any():
        raise DataError(f"row {int(np.flatnonzero(bad)[0]) + 1} has no numeric x/y", path)
    return Deposits(xs, ys, str(path), crs)
