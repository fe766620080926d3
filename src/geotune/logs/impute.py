"""Curves missing from whole wells, estimated from the well's other logs.

A curve absent from an entire well (PE in two SEG 2016 wells) leaves the classifier only the trees'
"missing" branches there, learned from few rows. A regressor trained on the wells that do have the curve
(per-well features of every other log) estimates it instead, and the estimate goes through the same
feature pipeline. Only whole-well gaps are filled: gaps inside a well are interpolated by the features.
The regressors are saved with the model (skops) and applied to new wells that lack the curve.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from . import features as feats
from . import gbm
from .las import warn
from .threads import threads

TRUSTED_TYPES = {
    "functools.partial",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.Interval",
    "numpy.dtype",
    "numpy.ndarray",
}
MIN_ROWS = 50  # fewer measured rows than this teach a regressor nothing reliable


def missing_wells(frame: pd.DataFrame, curve: str, well: str) -> np.ndarray:
    """Names of the wells where ``curve`` holds no value at all."""
    if curve not in frame.columns:
        return frame[well].unique()
    measured = frame[curve].notna().groupby(frame[well], sort=False).any()
    return measured.index[~measured.to_numpy()].to_numpy()


def curves_to_impute(frame: pd.DataFrame, spec: feats.FeatureSpec, well: str) -> list[str]:
    """Curves wholly missing from at least one well, with other logs left to estimate them from."""
    if len(spec.curves) + len(spec.indicators) < 2:
        return []
    return [c for c in spec.curves if len(missing_wells(frame, c, well))]


def _spec_without(spec: feats.FeatureSpec, curve: str) -> feats.FeatureSpec:
    return replace(spec, curves=[c for c in spec.curves if c != curve])


def fit(frame: pd.DataFrame, spec: feats.FeatureSpec, curve: str, well: str, depth: str | None,
        rows: np.ndarray, seed: int = 42, n_threads: int | None = None):
    """A regressor for ``curve`` from the other logs' features, trained on ``rows`` (positions) that measure
    it; None where too few do."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    target = frame[curve].to_numpy(dtype=float)
    rows = rows[np.isfinite(target[rows])]
    if len(rows) < MIN_ROWS:
        return None
    sub = _spec_without(spec, curve)
    x = feats.build_features(frame, sub, well, depth)
    model = HistGradientBoostingRegressor(learning_rate=0.05, max_iter=200, min_samples_leaf=40,
                                          categorical_features=sub.categorical_mask(), random_state=seed)
    with threadpool_limits(limits=threads(n_threads), user_api=None):
        return model.fit(x[rows], target[rows])


def apply(frame: pd.DataFrame, spec: feats.FeatureSpec, imputers: dict, well: str, depth: str | None,
          source=None, announce: bool = False) -> pd.DataFrame:
    """A copy of ``frame`` with each imputed curve filled in the wells that lack it entirely; ``announce``
    warns which wells got an estimate (at prediction, where the user should know)."""
    out = frame
    for curve, model in imputers.items():
        if model is None:
            continue
        gaps = missing_wells(out, curve, well)
        if not len(gaps):
            continue
        if out is frame:
            out = frame.copy()
        if curve not in out.columns:
            out[curve] = np.nan
        rows = out[well].isin(gaps).to_numpy()
        x = feats.build_features(out, _spec_without(spec, curve), well, depth)
        out.loc[rows, curve] = model.predict(x[rows])
        if announce:
            warn(f"{curve} is missing from well(s) {', '.join(map(str, gaps))}; estimated from the other logs "
                 f"by the model's regressor", source)
    return out


to_bytes = gbm.to_bytes  # the same skops format


def from_bytes(payload: bytes, where=None):
    return gbm.from_bytes(payload, where, TRUSTED_TYPES)
