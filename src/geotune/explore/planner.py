"""The budgeted drilling planner: a surrogate, a strategy, and a campaign that holds their state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.rasters import Raster, check_same_grid
from ..errors import ConfigError, DataError
from . import acquisition as acq
from .grid import PlanGrid, as_raster, build_grid
from .surrogate import GPSurrogate, small_blas

BATCH_AWARE = ("voi", "ei", "ucb")


class Campaign:
    """What is known while drilling: the surrogate, holes so far, spacing, novelty and money left."""

    def __init__(self, grid: PlanGrid, surrogate: GPSurrogate, radius: float, min_spacing: float,
                 max_cost: float | None, deposit_value: float):
        self.grid, self.surrogate = grid, surrogate
        self.radius, self.min_spacing = float(radius), float(min_spacing)
        self.remaining_cost = np.inf if max_cost is None else float(max_cost)
        self.cost_units = grid.cost / deposit_value  # hole cost in deposits, so scores stay comparable
        self.novelty = np.ones(grid.n)
        self.taken = np.zeros(grid.n, bool)
        self.spacing_ok = np.ones(grid.n, bool)
        self.holes: list[tuple[float, float]] = []
        self.grid_targets: list[tuple[float, float]] | None = None

    def available(self) -> np.ndarray:
        return self.grid.feasible & ~self.taken & self.spacing_ok & (self.grid.cost <= self.remaining_cost + 1e-12)

    def record(self, i: int, x: float, y: float, hit: float | None, pay: bool = True) -> None:
        """A hole at (x, y) in planning cell ``i``: ``hit`` 1/0 for a result, None for a planned hole."""
        self.taken[i] = True
        if pay:
            self.remaining_cost -= self.grid.cost[i]
        self.place(x, y, float(np.clip(self.surrogate.mean[i], 0, 1)) if hit is None else float(hit))
        self.surrogate.update(i, self.surrogate.mean[i] if hit is None else float(hit))

    def place(self, x: float, y: float, p_hit: float) -> None:
        """Spacing and novelty around a hole that hits with probability ``p_hit`` (1 or 0 when known)."""
        d = np.hypot(self.grid.x - x, self.grid.y - y)
        if self.min_spacing > 0:
            self.spacing_ok &= d >= self.min_spacing
        self.holes.append((float(x), float(y)))
        if p_hit > 0:
            self.novelty *= 1.0 - p_hit * acq.overlap_fraction(d, self.radius)


@dataclass
class Planner:
    """Choose ``budget`` holes on a prospectivity map with one strategy.

    ``radius``: a hole hits when a deposit lies within it (map units; default one planning cell).
    ``length_scale``: correlation length of the surrogate (default 4 radii). ``max_cost``: a total
    cost budget on top of the hole count (needs a cost map). ``deposit_value``: what one deposit is
    worth in cost units (value = deposits x deposit_value - costs).
    """

    strategy: str = "voi"
    budget: int = 10
    max_cost: float | None = None
    radius: float | None = None
    min_spacing: float = 0.0
    length_scale: float | None = None
    deposit_value: float = 1.0
    kappa: float = 2.0
    max_cells: int = 20000
    n_candidates: int = 150
    lookahead: int = 5
    seed: int = 0

    def _check(self) -> None:
        if self.strategy not in acq.STRATEGIES:
            raise ConfigError(f"unknown strategy {self.strategy!r}; choose from {', '.join(acq.STRATEGIES)}")
        if self.budget is None or int(self.budget) < 1:
            raise ConfigError(f"budget of {self.budget} holes is smaller than one hole")
        if self.max_cost is not None and self.max_cost <= 0:
            raise ConfigError(f"cost budget {self.max_cost} is smaller than one hole")
        if self.min_spacing < 0 or (self.radius is not None and self.radius <= 0):
            raise ConfigError("radius must be positive and min spacing not negative")
        if self.deposit_value <= 0:
            raise ConfigError("deposit value must be positive")

    def prepare(self, prior, uncertainty=None, cost=None, exclude=None) -> tuple[PlanGrid, GPSurrogate, float]:
        """Check the maps, coarsen them and build the prior surrogate; returns (grid, surrogate, radius)."""
        self._check()
        prior = as_raster(prior, "prospectivity map")
        rasters = [prior] + [as_raster(r, name) for r, name in ((uncertainty, "uncertainty map"), (cost, "cost map"))
                             if r is not None]
        check_same_grid(rasters)
        p = prior.array
        finite = np.isfinite(p)
        lo, hi = np.nanmin(p), np.nanmax(p)
        notes = []
        if lo < 0 or hi > 1:
            p = (p - lo) / (hi - lo) if hi > lo else np.full_like(p, 0.5)
            notes.append(f"map values {lo:.4g}..{hi:.4g} are not probabilities; rescaled to 0..1")
        if uncertainty is not None:
            std = as_raster(uncertainty, "uncertainty map").array
            if np.nanmin(std) < 0:
                raise DataError("holds negative uncertainties", as_raster(uncertainty).path)
        else:
            std = 0.5 * np.sqrt(np.clip(p, 0, 1) * (1 - np.clip(p, 0, 1))) + 0.01
            notes.append("no uncertainty map: prior std = 0.5 sqrt(p (1 - p)) + 0.01")
        cost_arr = None
        if cost is not None:
            cost_arr = as_raster(cost, "cost map").array
            if np.nanmin(cost_arr) < 0:
                raise DataError("holds negative costs", as_raster(cost).path)
        elif self.max_cost is not None:
            raise ConfigError("a cost budget needs a cost map")
        usable = finite & np.isfinite(std)
        if cost_arr is not None:
            usable &= np.isfinite(cost_arr)
        if exclude is not None:
            exclude = np.asarray(exclude, bool)
            if exclude.shape != p.shape:
                raise DataError(f"exclusion mask of shape {exclude.shape} does not fit the map {p.shape}", "exclusions")
            if not (usable & ~exclude).any():
                raise DataError("the exclusion zones cover every usable cell of the map", "exclusions")
            usable &= ~exclude
        grid = build_grid(Raster(p, prior.transform, prior.crs, prior.path), std, cost_arr, usable, self.max_cells)
        grid.notes = notes + grid.notes
        radius = self.radius or max(grid.cell_size) * grid.factor
        length = self.length_scale or 4.0 * radius
        surrogate = GPSurrogate(grid.x, grid.y, grid.prior, grid.std, length)
        return grid, surrogate, radius

    def campaign(self, grid: PlanGrid, surrogate: GPSurrogate, radius: float, drilled=None) -> Campaign:
        c = Campaign(grid, surrogate, radius, self.min_spacing, self.max_cost, self.deposit_value)
        if drilled is not None:
            add_drilled(c, drilled)
        return c

    def plan(self, prior, uncertainty=None, cost=None, exclude=None, drilled=None) -> "PlanResult":
        """Rank ``budget`` holes. Maps are Rasters (or 2-D arrays on a unit grid); ``exclude`` a
        boolean mask (True = no drilling); ``drilled`` a table with x, y, hit."""
        with small_blas():
            return self._plan(prior, uncertainty, cost, exclude, drilled)

    def _plan(self, prior, uncertainty, cost, exclude, drilled) -> "PlanResult":
        grid, surrogate, radius = self.prepare(prior, uncertainty, cost, exclude)
        c = self.campaign(grid, surrogate, radius, drilled)
        posterior = (surrogate.mean.copy(), surrogate.std.copy())
        free = grid.feasible & ~c.taken & c.spacing_ok
        if not free.any():
            raise DataError("no cell is left to drill (exclusions, spacing or drilled holes cover the map)",
                            grid.raster.path)
        if self.max_cost is not None and np.min(grid.cost[free]) > self.max_cost:
            raise ConfigError(f"cost budget {self.max_cost} is smaller than the cheapest hole "
                              f"({np.min(grid.cost[free]):.4g})")
        rng = np.random.default_rng(self.seed)
        rows, stopped = [], []
        for rank in range(1, int(self.budget) + 1):
            pick = choose(self, c, rng, remaining=int(self.budget) - rank + 1)
            if pick is None:
                stopped.append(f"stopped after {rank - 1} holes: budget or space exhausted")
                break
            i, reason = pick
            mu = float(np.clip(c.surrogate.mean[i], 0, 1))
            rows.append(dict(rank=rank, x=grid.x[i], y=grid.y[i],
                             expected_value=self.deposit_value * mu * c.novelty[i] - grid.cost[i],
                             p_hit=mu, uncertainty=float(c.surrogate.std[i]), cost=grid.cost[i], reason=reason))
            c.record(i, grid.x[i], grid.y[i], None)
        import pandas as pd

        table = pd.DataFrame(rows, columns=["rank", "x", "y", "expected_value", "p_hit", "uncertainty", "cost",
                                            "reason"])
        notes = grid.notes + stopped + [f"hit radius {radius:g}, surrogate length scale "
                                           f"{surrogate.length_scale:g} (map units)"]
        return PlanResult(table, grid, posterior[0], posterior[1], c, radius, notes)


@dataclass
class PlanResult:
    table: "object"  # pandas DataFrame: rank, x, y, expected_value, p_hit, uncertainty, cost, reason
    grid: PlanGrid
    posterior_mean: np.ndarray  # after the drilled holes, before the plan (planning cells)
    posterior_std: np.ndarray
    campaign: Campaign
    radius: float
    notes: list[str]


def add_drilled(c: Campaign, drilled) -> None:
    """Feed holes already drilled (x, y, hit) into the campaign; they cost nothing from the budget."""
    import pandas as pd

    df = drilled if isinstance(drilled, pd.DataFrame) else pd.DataFrame(drilled, columns=["x", "y", "hit"])
    path = df.attrs.get("path", "drilled holes")
    raster = c.grid.raster
    rows, cols = raster.xy_to_rowcol(df["x"].to_numpy(float), df["y"].to_numpy(float))
    h, w = raster.shape
    outside = (rows < 0) | (rows >= h) | (cols < 0) | (cols >= w)
    if outside.any():
        k = int(np.flatnonzero(outside)[0])
        raise DataError(f"hole {k + 1} at x={df['x'].iloc[k]}, y={df['y'].iloc[k]} lies outside the map grid", path)
    blocks = c.grid.block_of(rows, cols)
    hits = (df["hit"].to_numpy(float) > 0).astype(float)
    for x, y, hit in zip(df["x"].to_numpy(float), df["y"].to_numpy(float), hits):
        c.place(x, y, hit)
    # One surrogate reading per planning cell (the mean of its holes, noise shrunk by their count),
    # so thousands of old holes cost no more memory than the cells they fall in.
    for b in np.unique(blocks):
        inside = blocks == b
        c.taken[b] = True  # a hole in an excluded block still teaches the surrogate about its cell
        c.surrogate.update(int(b), hits[inside].mean(), c.surrogate.noise(int(b)) / inside.sum())


def choose(planner: Planner, c: Campaign, rng: np.random.Generator, remaining: int):
    """The next hole's planning cell and a reason, or None when nothing is left to drill."""
    available = c.available()
    if not available.any():
        return None
    s = c.surrogate
    strategy = planner.strategy
    if strategy == "random":
        i = int(rng.choice(np.flatnonzero(available)))
        return i, "random pick"
    if strategy == "grid":
        return _grid_pick(c, available, planner.budget)
    if strategy == "greedy":
        score, why = acq.greedy(c)
    elif strategy == "ucb":
        score, why = acq.ucb(c, planner.kappa)
    elif strategy == "ei":
        score, why = acq.expected_improvement(c, available)
    else:
        score, info = acq.value_of_information(c, available, planner.kappa, planner.n_candidates,
                                               min(planner.lookahead, remaining - 1))
        i = int(np.argmax(np.where(available, score, -np.inf)))
        return i, (f"voi: p {np.clip(s.mean[i], 0, 1):.3f}, new-find {np.clip(s.mean[i], 0, 1) * c.novelty[i]:.3f}, "
                   f"information {info[i]:+.4f}, sd {s.std[i]:.3f}")
    i = int(np.argmax(np.where(available, score, -np.inf)))
    return i, f"{strategy}: {why}; p {np.clip(s.mean[i], 0, 1):.3f}, sd {s.std[i]:.3f}"


def _grid_pick(c: Campaign, available: np.ndarray, budget: int):
    """The next node of a regular lattice over the usable area, snapped to the nearest free cell."""
    g = c.grid
    if c.grid_targets is None:
        fx, fy = g.x[g.feasible], g.y[g.feasible]
        area = g.feasible.sum() * g.block_area
        step = np.sqrt(area / max(budget, 1))
        for _ in range(60):
            xs = np.arange(fx.min() + step / 2, fx.max() + step / 2, step)
            ys = np.arange(fy.min() + step / 2, fy.max() + step / 2, step)
            pts = [(x, y) for r, y in enumerate(ys) for x in (xs if r % 2 == 0 else xs[::-1])]
            near = [np.min(np.hypot(fx - x, fy - y)) <= step / 2 for x, y in pts]
            pts = [p for p, ok in zip(pts, near) if ok]
            if len(pts) >= budget:
                break
            step *= 0.9
        c.grid_targets = pts
    while c.grid_targets:
        x, y = c.grid_targets.pop(0)
        d = np.where(available, np.hypot(g.x - x, g.y - y), np.inf)
        i = int(np.argmin(d))
        if np.isfinite(d[i]):
            return i, f"grid node ({x:.6g}, {y:.6g})"
    return None
