"""A random forest over the same per-well features: the second member of the ``trees`` logs model.

Boosting fits the training wells closely; a forest of deep, decorrelated trees averages over feature
subsets and errs differently on a new well, so the two averaged transfer better than either (SEG 2016
leave-one-well-out: benchmarks/results/logs_seg2016.md). Missing values are handled natively (scikit-learn
>= 1.4). Stored with skops, like the GBM, and checked against its own trusted types before loading.
"""

from __future__ import annotations

import numpy as np

from . import gbm
from .threads import threads, tree_jobs

TRUSTED_TYPES = {
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
    "numpy.dtype",
    "numpy.ndarray",
}


def make_model(seed: int = 42, **params):
    from sklearn.ensemble import RandomForestClassifier

    # Fixed a priori, sized for files of a few MB: half the rows per tree and leaves of 10 keep trees small
    defaults = dict(n_estimators=200, min_samples_leaf=10, max_features=0.3, max_samples=0.5, random_state=seed)
    defaults.update(params)
    return RandomForestClassifier(**defaults)


def fit(x: np.ndarray, y: np.ndarray, seed: int = 42, sample_weight: np.ndarray | None = None,
        n_threads: int | None = None, **params):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads(n_threads), user_api=None):
        return make_model(seed, n_jobs=tree_jobs(n_threads), **params).fit(x, y, sample_weight=sample_weight)


def predict_proba(model, x: np.ndarray, n_classes: int, n_threads: int | None = None) -> np.ndarray:
    proba = np.zeros((len(x), n_classes), dtype=float)
    model.n_jobs = threads(n_threads)
    proba[:, model.classes_.astype(int)] = model.predict_proba(x)
    return proba


to_bytes = gbm.to_bytes  # the same skops format


def from_bytes(payload: bytes, where=None):
    return gbm.from_bytes(payload, where, TRUSTED_TYPES)
