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
# A curve is estimated only where at least this share of the wells measure it: a regressor learned from a
# handful of wells says more about those wells than about the curve (fixed a priori, not tuned on a score)
MIN_WELL_SHARE = 1 / 3
# Rows per well a regressor learns from, evenly spaced along depth: neighbouring samples repeat each other,
# and 22 North Sea wells (286,000 rows) would otherwise take minutes per curve
MAX_ROWS_PER_WELL = 500


def missing_wells(frame: pd.DataFrame, curve: str, well: str) -> np.ndarray:
    """Names of the wells where ``curve`` holds no value at all."""
    if curve not in frame.columns:
        return frame[well].unique()
    measured = frame[curve].notna().groupby(frame[well], sort=False).any()
    return measured.index[~measured.to_numpy()].to_numpy()


def curves_to_impute(frame: pd.DataFrame, spec: feats.FeatureSpec, well: str,
                     min_share: float = MIN_WELL_SHARE) -> list[str]:
    """Curves wholly missing from at least one well, measured in at least ``min_share`` of the wells (and two),
    with other logs left to estimate them from."""
    if len(spec.curves) + len(spec.indicators) < 2:
        return []
    n_wells = frame[well].nunique()
    out = []
    for curve in spec.curves:
        n_missing = len(missing_wells(frame, curve, well))
        if n_missing and n_wells - n_missing >= max(2, min_share * n_wells):
            out.append(curve)
    return out


def _spec_without(spec: feats.FeatureSpec, curve: str) -> feats.FeatureSpec:
    return replace(spec, curves=[c for c in spec.curves if c != curve])


def _other_columns(spec: feats.FeatureSpec, curve: str) -> np.ndarray:
    """Positions in ``spec.names()`` of every feature except ``curve``'s own block."""
    keep = np.ones(len(spec.names()), dtype=bool)
    keep[spec.curve_columns(curve)] = False
    return np.flatnonzero(keep)


def _inputs(frame, spec, curve, well, depth, x, rows):
    """The regressor's inputs for ``rows``: the features of every other curve (from ``x``, the full feature
    table of ``frame`` before any estimate, when given)."""
    if x is not None:
        return x[np.ix_(rows, _other_columns(spec, curve))]
    return feats.build_features(frame, _spec_without(spec, curve), well, depth)[rows]


def thin_rows(rows: np.ndarray, wells: np.ndarray, per_well: int | None) -> np.ndarray:
    """At most ``per_well`` of ``rows`` (positions) from each well, evenly spaced, in order."""
    if not per_well or len(rows) == 0:
        return rows
    keep = []
    names = wells[rows]
    for name in pd.unique(names):
        mine = rows[names == name]
        if len(mine) > per_well:
            mine = mine[np.linspace(0, len(mine) - 1, per_well).round().astype(int)]
        keep.append(mine)
    return np.sort(np.concatenate(keep))


def fit(frame: pd.DataFrame, spec: feats.FeatureSpec, curve: str, well: str, depth: str | None,
        rows: np.ndarray, seed: int = 42, n_threads: int | None = None, x: np.ndarray | None = None,
        max_rows_per_well: int | None = MAX_ROWS_PER_WELL):
    """A regressor for ``curve`` from the other logs' features, trained on ``rows`` (positions) that measure
    it; None where too few do. ``x``: the full feature table of ``frame``, reused instead of rebuilt."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    target = frame[curve].to_numpy(dtype=float)
    rows = rows[np.isfinite(target[rows])]
    if len(rows) < MIN_ROWS:
        return None
    rows = thin_rows(rows, frame[well].to_numpy(), max_rows_per_well)
    sub = _spec_without(spec, curve)
    model = HistGradientBoostingRegressor(learning_rate=0.05, max_iter=200, min_samples_leaf=40,
                                          categorical_features=sub.categorical_mask(), random_state=seed)
    with threadpool_limits(limits=threads(n_threads), user_api=None):
        return gbm.fit_measured(model, _inputs(frame, spec, curve, well, depth, x, rows), target[rows])


def apply(frame: pd.DataFrame, spec: feats.FeatureSpec, imputers: dict, well: str, depth: str | None,
          source=None, announce: bool = False, x: np.ndarray | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with each imputed curve filled in the wells that lack it entirely; ``announce``
    warns which wells got an estimate (at prediction, where the user should know). Every regressor reads
    the features of ``frame`` as given (``x`` when passed), as in training: no estimate feeds another."""
    out = frame
    for curve, model in imputers.items():
        if model is None:
            continue
        gaps = missing_wells(frame, curve, well)
        if not len(gaps):
            continue
        if out is frame:
            out = frame.copy()
            if x is None:
                x = feats.build_features(frame, spec, well, depth)
        if curve not in out.columns:
            out[curve] = np.nan
        rows = np.flatnonzero(out[well].isin(gaps).to_numpy())
        out.iloc[rows, out.columns.get_loc(curve)] = model.predict(gbm.columns_of(model, _inputs(
            frame, spec, curve, well, depth, x, rows)))
        # which wells hold an estimate, not a reading (shift.measure leaves them out)
        out.attrs = {**out.attrs, "estimated": {**out.attrs.get("estimated", {}), curve: [str(g) for g in gaps]}}
        if announce:
            warn(f"{curve} is missing from well(s) {', '.join(map(str, gaps))}; estimated from the other logs "
                 f"by the model's regressor", source)
    return out


def refresh_features(x: np.ndarray, filled: pd.DataFrame, original: pd.DataFrame, spec: feats.FeatureSpec,
                     curves, well: str, depth: str | None) -> np.ndarray:
    """``x`` (features of ``original``) with the blocks of ``curves`` recomputed for the wells whose curve was
    estimated in ``filled``; every other feature of a well is unchanged by an estimate, so nothing else is
    rebuilt. Equal to ``build_features(filled, spec, ...)``."""
    out = None
    for curve in curves:
        gaps = missing_wells(original, curve, well)
        rows = np.flatnonzero(filled[well].isin(gaps).to_numpy())
        if not len(rows) or not filled[curve].iloc[rows].notna().any():
            continue
        if out is None:
            out = x.copy()
        block = feats.build_features(filled.iloc[rows], replace(spec, curves=[curve], indicators=[], categorical={}),
                                     well, depth)
        out[rows, spec.curve_columns(curve)] = block[:, : spec.curve_width()]
    return x if out is None else out



def estimate_missing_curves(frame: pd.DataFrame, spec: feats.FeatureSpec, curves, well: str, depth: str | None,
                            rows: np.ndarray, seed: int, x_all: dict) -> tuple[pd.DataFrame, dict, dict]:
    """Curves missing from whole wells, estimated by regressors learned from ``rows`` (every training row,
    labelled or not): the filled frame, the inputs ``x_all`` with the estimated feature blocks rebuilt, and
    the fitted regressors (curve -> model; none where too few rows measure the curve)."""
    imputers = {}
    if curves:
        x = x_all.get("gbm")  # the tree features hold every curve's block: regressors reuse them
        imputers = {c: fit(frame, spec, c, well, depth, rows, seed, x=x) for c in curves}
        imputers = {c: m for c, m in imputers.items() if m is not None}
    if not imputers:
        return frame, x_all, imputers
    filled = apply(frame, spec, imputers, well, depth, x=x_all.get("gbm"))
    x_fold = dict(x_all)
    if "gbm" in x_all:
        x_fold["gbm"] = refresh_features(x_all["gbm"], filled, frame, spec, list(imputers), well, depth)
    return filled, x_fold, imputers

to_bytes = gbm.to_bytes  # the same skops format


def from_bytes(payload: bytes, where=None):
    return gbm.from_bytes(payload, where, TRUSTED_TYPES)
