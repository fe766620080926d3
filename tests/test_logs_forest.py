"""The forest fits its trees in parallel by default without changing what it learns."""

import numpy as np

from geotune.logs import forest, threads


def test_tree_jobs_follow_the_request_then_the_environment_then_the_cores(monkeypatch):
    monkeypatch.delenv("GEOTUNE_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert threads.tree_jobs() == 4  # every core, at most 4
    assert threads.tree_jobs(1) == 1
    monkeypatch.setenv("GEOTUNE_THREADS", "3")
    assert threads.tree_jobs() == 3


def test_a_seeded_forest_is_the_same_whatever_the_number_of_tree_threads():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6))
    y = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)
    one = forest.fit(x, y, n_threads=1, n_estimators=20)
    two = forest.fit(x, y, n_threads=2, n_estimators=20)
    assert two.n_jobs == 2 and one.n_jobs == 1
    np.testing.assert_array_equal(forest.predict_proba(one, x, 3), forest.predict_proba(two, x, 3))
