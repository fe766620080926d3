"""The planner's strategies, constraints and surrogate updates on small in-memory maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.ndimage import gaussian_filter

from geotune.errors import ConfigError, DataError
from geotune.explore import GPSurrogate, Planner, STRATEGIES


def bumpy_map(h=30, w=40, seed=0, top=0.4):
    rng = np.random.default_rng(seed)
    p = gaussian_filter(rng.normal(size=(h, w)), 4)
    return (p - p.min()) / (p.max() - p.min()) * top


def pairwise(table):
    xy = table[["x", "y"]].to_numpy()
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    return d[np.triu_indices(len(xy), 1)]


def test_greedy_picks_the_brightest_cell():
    p = bumpy_map()
    table = Planner(strategy="greedy", budget=1).plan(p).table
    r, c = np.unravel_index(np.argmax(p), p.shape)
    assert (table.x[0], table.y[0]) == (c + 0.5, r + 0.5)
    assert table.p_hit[0] == pytest.approx(p.max())


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_spacing_and_exclusions_respected(strategy):
    p = bumpy_map()
    exclude = np.zeros(p.shape, bool)
    exclude[:, :20] = True  # left half is off limits
    table = Planner(strategy=strategy, budget=6, min_spacing=5.0).plan(p, exclude=exclude).table
    assert len(table) == 6
    assert pairwise(table).min() >= 5.0
    assert (table.x >= 20).all()
    assert set(table.columns) >= {"rank", "x", "y", "expected_value", "uncertainty", "reason"}


def test_cost_budget_respected():
    p = bumpy_map()
    cost = np.full(p.shape, 3.0)
    cost[:, 30:] = 1.0
    table = Planner(strategy="voi", budget=20, max_cost=10.0, deposit_value=50).plan(p, cost=cost).table
    assert table.cost.sum() <= 10.0
    assert len(table) >= 4  # cheap cells let more than 10/3 holes fit


def test_drilled_hole_updates_neighbours_the_right_way():
    p = np.full((20, 20), 0.2)
    planner = Planner(strategy="greedy", budget=1, length_scale=4.0)
    hit = planner.plan(p, drilled=pd.DataFrame(dict(x=[5.5], y=[5.5], hit=[1])))
    miss = planner.plan(p, drilled=pd.DataFrame(dict(x=[5.5], y=[5.5], hit=[0])))
    near, far = 6 * 20 + 6, 18 * 20 + 18  # planning cells (row 6, col 6) and (18, 18)
    assert hit.posterior_mean[near] > 0.2 + 0.01
    assert miss.posterior_mean[near] < 0.2 - 0.01
    assert abs(hit.posterior_mean[far] - 0.2) < 0.005
    assert hit.posterior_std[near] < np.sqrt(0.2 * 0.8) * 0.5 + 0.01 - 1e-3  # less uncertain than the prior


def test_rank_one_updates_match_a_dense_gaussian_process():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 10, 50), rng.uniform(0, 10, 50)
    prior, std = rng.uniform(0.1, 0.5, 50), rng.uniform(0.05, 0.2, 50)
    gp = GPSurrogate(x, y, prior, std, 3.0)
    obs, vals = [3, 17, 40], [1.0, 0.0, 1.0]
    noises = []
    for i, v in zip(obs, vals):
        noises.append(gp.noise(i))
        gp.update(i, v, noises[-1])
    K = GPSurrogate(x, y, prior, std, 3.0).prior_cov(np.arange(50))
    A = K[np.ix_(obs, obs)] + np.diag(noises)
    mean = prior + K[:, obs] @ np.linalg.solve(A, np.array(vals) - prior[obs])
    cov = K - K[:, obs] @ np.linalg.solve(A, K[obs, :])
    np.testing.assert_allclose(gp.mean, mean, atol=1e-9)
    np.testing.assert_allclose(gp.var, np.diag(cov), atol=1e-9)


def test_voi_batch_does_not_cluster_where_greedy_does():
    yy, xx = np.mgrid[0:30, 0:30]
    p = 0.05 + 0.4 * np.exp(-((xx - 15) ** 2 + (yy - 15) ** 2) / 60.0)  # one bright bump
    greedy = Planner(strategy="greedy", budget=5, radius=2.0).plan(p).table
    voi = Planner(strategy="voi", budget=5, radius=2.0).plan(p).table
    assert pairwise(greedy).min() < 2.0  # greedy stacks holes on the bump
    assert pairwise(voi).min() >= 2.0  # each VOI hole searches a disc the others do not cover much
    assert voi.expected_value.sum() > greedy.expected_value.sum()


def test_large_map_is_coarsened_and_says_so():
    p = bumpy_map(300, 300, seed=2)
    exclude = np.zeros(p.shape, bool)
    exclude[100:200, 100:200] = True
    result = Planner(strategy="ucb", budget=5, max_cells=2500).plan(p, exclude=exclude)
    assert result.grid.factor == 6
    assert any("coarsened" in n for n in result.notes)
    rows, cols = np.floor(result.table.y).astype(int), np.floor(result.table.x).astype(int)
    assert not exclude[rows, cols].any()


def test_bad_inputs_raise_clear_errors():
    p = bumpy_map()
    with pytest.raises(ConfigError, match="smaller than one hole"):
        Planner(budget=0).plan(p)
    with pytest.raises(DataError, match="cover every usable cell"):
        Planner(budget=2).plan(p, exclude=np.ones(p.shape, bool))
    with pytest.raises(DataError, match="outside the map grid"):
        Planner(budget=2).plan(p, drilled=pd.DataFrame(dict(x=[5.0, 99.0], y=[5.0, 5.0], hit=[0, 1])))
    with pytest.raises(DataError, match="different grid"):
        Planner(budget=2).plan(p, uncertainty=np.full((10, 10), 0.1))
    with pytest.raises(ConfigError, match="cheapest hole"):
        Planner(budget=2, max_cost=0.5).plan(p, cost=np.ones(p.shape))


@pytest.mark.parametrize("strategy", ["ucb", "ei"])
def test_optimistic_strategies_prefer_the_uncertain_cell_among_equals(strategy):
    p = np.full((20, 20), 0.2)
    std = np.full((20, 20), 0.05)
    std[14, 3] = 0.2
    table = Planner(strategy=strategy, budget=1).plan(p, uncertainty=std).table
    assert (table.x[0], table.y[0]) == (3.5, 14.5)


def test_grid_spreads_holes_over_the_allowed_area():
    p = bumpy_map()
    table = Planner(strategy="grid", budget=9).plan(p).table
    greedy = Planner(strategy="greedy", budget=9).plan(p).table
    assert pairwise(table).min() > 5 and pairwise(table).min() > pairwise(greedy).min()
    assert table.x.max() - table.x.min() > 20 and table.y.max() - table.y.min() > 15


def test_scores_outside_0_1_are_rescaled_and_noted():
    p = bumpy_map() * 250.0  # e.g. a 0..100 favourability score
    result = Planner(strategy="greedy", budget=3).plan(p)
    assert any("rescaled" in n for n in result.notes)
    assert result.table.p_hit.between(0, 1).all() and result.table.p_hit[0] == pytest.approx(1.0)


def test_many_drilled_holes_cost_one_reading_per_cell():
    p = bumpy_map()
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 10, 3000), rng.uniform(0, 30, 3000)  # all in the west quarter
    holes = pd.DataFrame(dict(x=x, y=y, hit=(rng.random(3000) < 0.05).astype(int)))
    result = Planner(strategy="voi", budget=3).plan(p, drilled=holes)
    assert len(result.campaign.surrogate.observed) <= 10 * 30 + 3  # cells drilled + the 3 planned
    assert (result.table.x >= 10).all()  # the drilled-out west is taken
    west = result.grid.x < 10
    assert result.posterior_mean[west].mean() < result.grid.prior[west].mean()  # a 5 % hit rate lowers it
