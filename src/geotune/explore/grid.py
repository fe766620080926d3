"""The planning grid: the prospectivity map, coarsened into blocks when it is large.

Each block of ``factor x factor`` map cells becomes one planning cell. Its prior mean and
uncertainty are the block means over the usable map cells; the place a hole would go is the
usable map cell with the highest prior in the block, so a planned hole never lands in an
excluded cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..data.rasters import Raster


@dataclass
class PlanGrid:
    """Planning cells (flattened blocks) and where their holes would go."""

    x: np.ndarray  # hole location per planning cell, map units
    y: np.ndarray
    prior: np.ndarray  # prior probability that a hole here hits
    std: np.ndarray  # prior standard deviation of that probability
    cost: np.ndarray  # cost of a hole at the location (0 without a cost map)
    feasible: np.ndarray  # bool: the block holds at least one usable, non-excluded map cell
    factor: int  # map cells per block side
    block_shape: tuple[int, int]
    map_shape: tuple[int, int]
    cell_size: tuple[float, float]  # map cell size
    raster: Raster  # the map, for georeference
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return self.x.size

    @property
    def block_area(self) -> float:
        return self.cell_size[0] * self.cell_size[1] * self.factor ** 2

    def block_of(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Planning-cell index of map cells (rows, cols)."""
        return (np.asarray(rows) // self.factor) * self.block_shape[1] + np.asarray(cols) // self.factor


def as_raster(value, name: str = "map") -> Raster:
    """A Raster as is; a 2-D array on a unit grid (x = column + 0.5, y = row + 0.5)."""
    if isinstance(value, Raster):
        return value
    from affine import Affine

    array = np.asarray(value, dtype=float)
    if array.ndim != 2:
        from ..errors import DataError

        raise DataError(f"must be a 2-D array, got shape {array.shape}", name)
    return Raster(array, Affine(1.0, 0.0, 0.0, 0.0, 1.0, 0.0), None, name)


def build_grid(prior: Raster, std: np.ndarray, cost: np.ndarray | None, usable: np.ndarray,
               max_cells: int) -> PlanGrid:
    """Coarsen ``prior`` (and its companions, same shape) so that at most ``max_cells`` blocks remain."""
    h, w = prior.shape
    factor = max(1, math.ceil(math.sqrt(h * w / max_cells)))
    hb, wb = math.ceil(h / factor), math.ceil(w / factor)

    def blocks(a: np.ndarray, fill: float) -> np.ndarray:
        padded = np.full((hb * factor, wb * factor), fill, dtype=float)
        padded[:h, :w] = a
        return padded.reshape(hb, factor, wb, factor).transpose(0, 2, 1, 3).reshape(hb * wb, factor * factor)

    p_b = blocks(np.where(usable, prior.array, np.nan), np.nan)
    s_b = blocks(np.where(usable, std, np.nan), np.nan)
    feasible = np.isfinite(p_b).any(axis=1)
    count = np.maximum(np.isfinite(p_b).sum(axis=1), 1)
    p_mean = np.where(feasible, np.nansum(p_b, axis=1) / count, 0.0)
    s_mean = np.where(feasible, np.nansum(s_b, axis=1) / count, 0.0)
    best = np.argmax(np.where(np.isfinite(p_b), p_b, -np.inf), axis=1)
    # Infeasible blocks still get a location (their centre) so distances stay defined.
    best = np.where(feasible, best, (factor // 2) * factor + factor // 2)
    brow, bcol = np.divmod(np.arange(hb * wb), wb)
    rows = np.minimum(brow * factor + best // factor, h - 1)
    cols = np.minimum(bcol * factor + best % factor, w - 1)
    x, y = pixel_to_xy(prior.transform, rows + 0.5, cols + 0.5)
    cost_at = np.zeros(hb * wb) if cost is None else np.nan_to_num(cost[rows, cols], nan=0.0)
    notes = []
    if factor > 1:
        notes.append(f"map of {h}x{w} cells planned on a coarsened grid of {hb}x{wb} blocks "
                     f"({factor}x{factor} map cells each; prior = block mean, hole at the block's best usable cell)")
    return PlanGrid(np.asarray(x, float), np.asarray(y, float), np.clip(p_mean, 0.0, 1.0), np.maximum(s_mean, 1e-6),
                    cost_at, feasible, factor, (hb, wb), (h, w), prior.cell_size, prior, notes)


def pixel_to_xy(t, rows, cols) -> tuple[np.ndarray, np.ndarray]:
    """Map coordinates of fractional pixel positions (the affine transform written out)."""
    rows, cols = np.asarray(rows, float), np.asarray(cols, float)
    return t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f
