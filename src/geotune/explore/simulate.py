"""Campaign simulator: synthetic worlds drawn from the map's own prior, drilled by each strategy.

A world is one draw of the hit-probability field from the surrogate's prior (the map as mean,
the uncertainty and correlation as covariance). Deposits are then a Poisson process whose
density makes the chance of at least one deposit within the hit radius equal that field.
Every strategy drills the same worlds (common random numbers), so differences are paired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .grid import pixel_to_xy
from .planner import Planner, choose
from .surrogate import small_blas

MAX_SIM_CELLS = 5000  # worlds are drawn with a dense Cholesky factor of this many cells at most


def draw_world(grid, surrogate, radius: float, rng: np.random.Generator, chol: np.ndarray | None = None):
    """Deposit coordinates (k, 2) and tonnages (k,) for one synthetic world."""
    if chol is None:
        chol = _prior_factor(grid, surrogate)
    f = grid.feasible
    p = np.zeros(grid.n)
    p[f] = np.clip(surrogate.prior[f] + chol @ rng.standard_normal(f.sum()), 0.0, 0.99)
    density = -np.log1p(-p) / (np.pi * radius ** 2)
    counts = rng.poisson(density * grid.block_area)
    block = np.repeat(np.arange(grid.n), counts)
    brow, bcol = np.divmod(block, grid.block_shape[1])
    fac = grid.factor
    h, w = grid.map_shape
    rows = np.minimum(brow * fac + rng.uniform(0, fac, block.size), h)
    cols = np.minimum(bcol * fac + rng.uniform(0, fac, block.size), w)
    x, y = pixel_to_xy(grid.raster.transform, rows, cols)
    return np.column_stack([x, y]), rng.lognormal(0.0, 1.0, block.size)


def _prior_factor(grid, surrogate) -> np.ndarray:
    idx = np.flatnonzero(grid.feasible)
    if idx.size > MAX_SIM_CELLS:
        raise ConfigError(f"simulation grid has {idx.size} cells; use max_cells <= {MAX_SIM_CELLS}")
    K = surrogate.prior_cov(idx, idx)
    return np.linalg.cholesky(K + 1e-9 * np.mean(np.diag(K)) * np.eye(idx.size))


def run_campaign(planner: Planner, grid, surrogate, radius: float, deposits: np.ndarray, tonnage: np.ndarray,
                 rng: np.random.Generator, drilled=None) -> list[dict]:
    """Drill ``planner.budget`` holes one by one, feeding each result back; one row per hole."""
    c = planner.campaign(grid, surrogate.copy(), radius, drilled)
    found = np.zeros(len(deposits), bool)
    rows, spent = [], 0.0
    deposits = np.asarray(deposits, float).reshape(-1, 2)
    for hole in range(1, int(planner.budget) + 1):
        pick = choose(planner, c, rng, remaining=int(planner.budget) - hole + 1)
        if pick is None:
            break
        i = pick[0]
        near = np.hypot(deposits[:, 0] - grid.x[i], deposits[:, 1] - grid.y[i]) <= radius
        found |= near
        spent += grid.cost[i]
        c.record(i, grid.x[i], grid.y[i], float(near.any()))
        rows.append(dict(hole=hole, hit=int(near.any()), deposits=int(found.sum()),
                         tonnage=float(tonnage[found].sum()), cost=spent,
                         value=planner.deposit_value * int(found.sum()) - spent))
    for hole in range(len(rows) + 1, int(planner.budget) + 1):  # nothing left to drill: totals stand
        rows.append(dict(rows[-1] if rows else dict(hit=0, deposits=0, tonnage=0.0, cost=0.0, value=0.0),
                         hole=hole, hit=0))
    return rows


@dataclass
class SimulationResult:
    runs: "object"  # DataFrame: strategy, run, hole, hit, deposits, tonnage, cost, value
    curve: "object"  # DataFrame: strategy, hole, mean/ci_low/ci_high of deposits and tonnage
    comparisons: list[dict]  # paired differences at the full budget
    notes: list[str]


def simulate(prior, uncertainty=None, cost=None, exclude=None, budget: int = 20, runs: int = 50,
             strategies=("voi", "greedy", "random"), seed: int = 0, max_cells: int = 2500, **planner_options
             ) -> SimulationResult:
    """Drill ``runs`` synthetic worlds with each strategy; every strategy sees the same worlds."""
    with small_blas():
        return _simulate(prior, uncertainty, cost, exclude, budget, runs, strategies, seed, max_cells,
                         planner_options)


def _simulate(prior, uncertainty, cost, exclude, budget, runs, strategies, seed, max_cells, planner_options):
    import pandas as pd

    if int(runs) < 2:
        raise ConfigError(f"runs must be at least 2 for confidence intervals, got {runs}")
    planners = {s: Planner(strategy=s, budget=budget, max_cells=min(max_cells, MAX_SIM_CELLS), seed=seed,
                           **planner_options) for s in strategies}
    first = next(iter(planners.values()))
    grid, surrogate, radius = first.prepare(prior, uncertainty, cost, exclude)
    chol = _prior_factor(grid, surrogate)
    rows = []
    for run in range(int(runs)):
        deposits, tonnage = draw_world(grid, surrogate, radius, np.random.default_rng([seed, run]), chol)
        for k, (name, planner) in enumerate(planners.items()):
            for row in run_campaign(planner, grid, surrogate, radius, deposits, tonnage,
                                    np.random.default_rng([seed, run, k, 1])):
                rows.append(dict(strategy=name, run=run, **row))
    table = pd.DataFrame(rows)
    notes = grid.notes + [f"hit radius {radius:g}, surrogate length scale {surrogate.length_scale:g} (map units)",
                          f"{runs} worlds drawn from the map's prior; every strategy drills the same worlds"]
    return SimulationResult(table, summarise(table), compare(table, list(strategies)), notes)


def summarise(table) -> "object":
    """Mean and 95 % t-interval over runs of deposits and tonnage found, per strategy and hole."""
    import pandas as pd
    from scipy import stats

    out = []
    for (name, hole), g in table.groupby(["strategy", "hole"], sort=False):
        row = dict(strategy=name, hole=int(hole), runs=len(g))
        for col in ("deposits", "tonnage", "value"):
            v = g[col].to_numpy(float)
            half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0
            row.update({f"{col}_mean": v.mean(), f"{col}_ci_low": v.mean() - half, f"{col}_ci_high": v.mean() + half})
        row["deposits_per_hole"] = row["deposits_mean"] / hole
        out.append(row)
    return pd.DataFrame(out)


def compare(table, strategies: list[str]) -> list[dict]:
    """Paired differences in deposits found at the full budget: first strategy minus each other."""
    from scipy import stats

    last = table[table["hole"] == table["hole"].max()]
    wide = last.pivot(index="run", columns="strategy", values="deposits")
    base = strategies[0]
    out = []
    for other in strategies[1:]:
        diff = (wide[base] - wide[other]).to_numpy(float)
        half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
        p = float(stats.wilcoxon(diff, method="approx").pvalue) if np.any(diff != 0) else 1.0
        out.append(dict(strategy=base, versus=other, mean_difference=float(diff.mean()),
                        ci_low=float(diff.mean() - half), ci_high=float(diff.mean() + half),
                        wins=int((diff > 0).sum()), ties=int((diff == 0).sum()), losses=int((diff < 0).sum()),
                        wilcoxon_p=p))
    return out
