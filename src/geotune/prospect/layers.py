"""Evidence layers on one grid: reading, aligning, nodata masks and each layer's kind."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..data.rasters import Raster
from ..errors import DataError

KINDS = ("binary", "categorical", "continuous")
FAVOURABLE = ("high", "low", "both")
# Integer layers with at most this many distinct values are read as classes (StratNo has 87 units,
# a 10-class density map 10); distance grids in metres have hundreds of values.
MAX_CATEGORIES = 100


def infer_kind(values: np.ndarray) -> str:
    """binary (two values), categorical (few integer values) or continuous."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    unique = np.unique(values)
    if len(unique) <= 2:
        return "binary"
    if np.all(unique == np.round(unique)) and len(unique) <= MAX_CATEGORIES:
        return "categorical"
    return "continuous"


@dataclass
class EvidenceLayer:
    """One evidence map. ``array`` is float64 on the stack's grid, NaN where nodata."""

    name: str
    array: np.ndarray
    kind: str
    favourable: str = "both"  # for continuous layers: which end is favourable, or test both
    path: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"layer kind must be one of {KINDS}, got {self.kind!r}", self.path)
        if self.favourable not in FAVOURABLE:
            raise DataError(f"favourable end must be one of {FAVOURABLE}, got {self.favourable!r}", self.path)

    def spec(self) -> dict:
        return {"name": self.name, "kind": self.kind, "favourable": self.favourable, "path": self.path}


@dataclass
class EvidenceStack:
    """Evidence layers aligned on one grid; ``grid`` carries the CRS and transform, ``mask`` the cells
    where every layer has data (the study area)."""

    layers: list[EvidenceLayer]
    grid: Raster
    resampled: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.layers:
            raise DataError("an evidence stack needs at least one layer")
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise DataError(f"layer names must be unique, got {names}")
        for layer in self.layers:
            if layer.array.shape != self.grid.shape:
                raise DataError(f"layer shape {layer.array.shape} differs from the grid {self.grid.shape}", layer.path)

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.shape

    @property
    def names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    @property
    def mask(self) -> np.ndarray:
        mask = np.ones(self.shape, dtype=bool)
        for layer in self.layers:
            mask &= np.isfinite(layer.array)
        return mask

    @property
    def cell_area_km2(self) -> float:
        width, height = self.grid.cell_size
        return width * height / 1e6

    def __getitem__(self, name: str) -> EvidenceLayer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def select(self, names: Sequence[str]) -> "EvidenceStack":
        return EvidenceStack([self[name] for name in names], self.grid, self.resampled)

    def specs(self) -> list[dict]:
        return [layer.spec() for layer in self.layers]

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], transform=None, crs=None,
                    kinds: Mapping[str, str] | None = None,
                    favourable: Mapping[str, str] | None = None) -> "EvidenceStack":
        """A stack from in-memory arrays (tests, notebooks); the transform defaults to 1 km cells."""
        from affine import Affine

        arrays = {name: np.asarray(a, dtype="float64") for name, a in arrays.items()}
        shape = next(iter(arrays.values())).shape
        transform = transform if transform is not None else Affine(1000.0, 0, 0, 0, -1000.0, shape[0] * 1000.0)
        grid = Raster(np.zeros(shape), transform, crs)
        layers = [_make_layer(name, a, None, kinds or {}, favourable or {}) for name, a in arrays.items()]
        return cls(layers, grid)

    @classmethod
    def from_files(cls, paths: Sequence[str | os.PathLike], resample: bool = False,
                   kinds: Mapping[str, str] | None = None, favourable: Mapping[str, str] | None = None,
                   names: Sequence[str] | None = None,
                   nodata: Mapping[str, float] | None = None) -> "EvidenceStack":
        """Read GeoTIFFs onto the first file's grid.

        Layers on another grid are an error unless ``resample`` is set; then they are warped onto it
        (nearest for binary/categorical layers, bilinear for continuous ones). A different CRS is
        always an error. Names default to the file stems; ``kinds`` and ``favourable`` override
        the inferred kind and the favourable end per name. ``nodata`` sets a layer's nodata value by
        name, replacing the one its file declares (cells of the declared value then count as data);
        a value that no cell holds is an error.
        """
        from ..data.rasters import check_same_grid, read_raster, resample_to_grid

        if not paths:
            raise DataError("no evidence layers given")
        names = list(names) if names is not None else [Path(p).stem for p in paths]
        if len(set(names)) != len(names):
            raise DataError(f"two layers share a name ({names}); rename a file or pass names")
        kinds, favourable, nodata = dict(kinds or {}), dict(favourable or {}), dict(nodata or {})
        for option in (kinds, favourable, nodata):
            unknown = set(option) - set(names)
            if unknown:
                raise DataError(f"no layer named {sorted(unknown)}; layers are {names}")
        rasters = [read_raster(p) if name not in nodata else _read_with_nodata(p, nodata[name])
                   for name, p in zip(names, paths)]
        grid = rasters[0]
        layers, resampled = [], []
        for name, raster in zip(names, rasters):
            if raster is not grid:
                if grid.crs is not None and raster.crs is not None and grid.crs != raster.crs:
                    raise DataError(f"is in CRS {raster.crs}, but {grid.path} is in {grid.crs}; reproject it onto "
                                    "that CRS first (geotune resamples within one CRS only)", raster.path)
                try:
                    check_same_grid([grid, raster])
                except DataError:
                    if not resample:
                        raise
                    kind = kinds.get(name) or infer_kind(raster.array)
                    raster = resample_to_grid(raster, grid, "bilinear" if kind == "continuous" else "nearest")
                    resampled.append(name)
                    if not np.isfinite(raster.array).any():
                        raise DataError("holds no data where it overlaps the first layer's grid", raster.path)
            layers.append(_make_layer(name, raster.array, raster.path, kinds, favourable))
        stack = cls(layers, Raster(np.zeros(grid.shape), grid.transform, grid.crs, grid.path, None), resampled)
        if not stack.mask.any():
            raise DataError("the layers share no cell where all have data", paths[0])
        return stack


def _read_with_nodata(path, value: float):
    """The first band with ``value`` (and only it) as nodata."""
    import rasterio

    from ..data.rasters import read_raster

    checked = read_raster(path)  # the usual checks: the file exists and is a raster
    with rasterio.open(path) as src:
        array = src.read(1).astype("float64")
    hit = np.isclose(array, value, rtol=0, atol=0) if np.isfinite(value) else np.isnan(array)
    if not hit.any():
        raise DataError(f"no cell holds the nodata value {value:g} given for this layer "
                        f"(the file declares {checked.nodata})", path)
    array[hit] = np.nan
    return Raster(array, checked.transform, checked.crs, str(path), float(value))


def _make_layer(name: str, array: np.ndarray, path, kinds: Mapping[str, str],
                favourable: Mapping[str, str]) -> EvidenceLayer:
    if not np.isfinite(array).any():
        raise DataError(f"layer {name!r} holds nodata everywhere", path)
    kind = kinds.get(name) or infer_kind(array)
    return EvidenceLayer(name, array, kind, favourable.get(name, "both"), None if path is None else str(path))


def parse_assignments(items: Sequence[str] | None, what: str, allowed: Sequence[str]) -> dict[str, str]:
    """``["Dist2Fault=continuous", ...]`` -> dict, for the command line."""
    result = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or value not in allowed:
            raise DataError(f"{what} must look like NAME={'|'.join(allowed)}, got {item!r}")
        result[name] = value
    return result


def parse_numbers(items: Sequence[str] | None, what: str) -> dict[str, float]:
    """``["StratNo=15", ...]`` -> {"StratNo": 15.0}, for the command line."""
    result = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            result[name] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise DataError(f"{what} must look like NAME=NUMBER, got {item!r}")
    return result
