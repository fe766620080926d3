"""The campaign simulator: worlds follow the map, results feed back, and VOI beats random."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from geotune.explore import Planner, draw_world, run_campaign, simulate
from geotune.explore.simulate import _prior_factor


def bumpy_map(h=40, w=40, seed=3, top=0.3):
    rng = np.random.default_rng(seed)
    p = gaussian_filter(rng.normal(size=(h, w)), 5)
    return (p - p.min()) / (p.max() - p.min()) * top


def test_worlds_put_more_deposits_where_the_map_is_bright():
    p = bumpy_map()
    grid, gp, radius = Planner(max_cells=400).prepare(p)
    bright = dim = 0
    chol = _prior_factor(grid, gp)
    for seed in range(20):
        deposits, tonnage = draw_world(grid, gp, radius, np.random.default_rng(seed), chol)
        assert len(deposits) == len(tonnage)
        r, c = np.floor(deposits[:, 1]).astype(int), np.floor(deposits[:, 0]).astype(int)
        bright += (p[r, c] > np.median(p)).sum()
        dim += (p[r, c] <= np.median(p)).sum()
    assert bright > 1.5 * dim


def test_campaign_counts_distinct_deposits_once():
    p = np.full((10, 10), 0.3)
    planner = Planner(strategy="greedy", budget=3, radius=1.0, max_cells=100)
    grid, gp, radius = planner.prepare(p)
    deposit = np.array([[5.0, 5.0]])  # one deposit; greedy keeps drilling next to it
    rows = run_campaign(planner, grid, gp, radius, deposit, np.array([2.0]), np.random.default_rng(0),
                        drilled=None)
    assert [r["hole"] for r in rows] == [1, 2, 3]
    assert rows[-1]["deposits"] <= 1 and rows[-1]["tonnage"] in (0.0, 2.0)


def test_voi_finds_more_than_random_with_fixed_seed():
    result = simulate(bumpy_map(), budget=10, runs=30, strategies=("voi", "random"), seed=7, max_cells=400)
    last = result.curve[result.curve.hole == 10].set_index("strategy")
    assert last.loc["voi", "deposits_mean"] > last.loc["random", "deposits_mean"]
    diff = result.comparisons[0]
    assert diff["versus"] == "random" and diff["ci_low"] > 0
