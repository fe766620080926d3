"""The logs model as a scikit-learn-style estimator: ``fit(table, y)``, ``predict_proba(table)``, ``predict``.

The table holds one row per depth sample with a well column and a depth column; everything else numeric is
a curve (coordinates and interpretation columns excepted, see columns.py). It composes the same parts as
``geotune train --task logs`` (per-well features, estimates of curves missing from whole wells, the trees,
HMM decoding along depth, least-expected-cost decisions), so those parts can be scored with scikit-learn's
tools (``cross_val_score(..., groups=...)``, ``clone``) and replaced one at a time. It is the first step of
splitting ``pipeline.py``: training from files, validation protocols and saving stay there for now.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from ..config import TrainConfig
from ..errors import ConfigError
from . import costs
from . import decode as hmm
from . import features as feats
from . import impute
from .columns import label_names, not_logs
from .pipeline import (DECODE, MAX_ROWS_PER_WELL, ROW, SMOOTH, _Engine, class_sort_key, _prepare, _take,
                       estimate_missing_curves, smooth_proba)


class LogsClassifier(ClassifierMixin, BaseEstimator):
    """Facies from well logs. ``model_type`` gbm (default) or trees; ``decode`` none (default), hmm or smooth;
    ``cost_matrix``: K x K in ``classes_`` order (true x predicted), or None for arg-max decisions."""

    def __init__(self, well: str = "WELL", depth: str | None = "DEPTH", model_type: str = "gbm",
                 decode: str = DECODE, smooth: int = SMOOTH, impute: bool = True,
                 max_rows_per_well: int | None = MAX_ROWS_PER_WELL, cost_matrix=None, seed: int = 42,
                 gbm_params: dict | None = None, forest_params: dict | None = None, normalise: bool = True,
                 curve_features: tuple[str, ...] = feats.DEFAULT_BLOCKS):
        self.well, self.depth, self.model_type, self.decode = well, depth, model_type, decode
        self.smooth, self.impute, self.max_rows_per_well = smooth, impute, max_rows_per_well
        self.cost_matrix, self.seed = cost_matrix, seed
        self.gbm_params, self.forest_params, self.normalise = gbm_params, forest_params, normalise
        self.curve_features = curve_features

    def _frame(self, table: pd.DataFrame) -> pd.DataFrame:
        if self.well not in table.columns:
            raise ConfigError(f"the table has no well column {self.well!r}")
        depth = self.depth if self.depth in table.columns else None
        frame, _, _ = _prepare(table.reset_index(drop=True), self.well, depth, {}, set(table.columns))
        return frame

    def fit(self, table: pd.DataFrame, y) -> "LogsClassifier":
        if self.model_type not in ("trees", "gbm"):
            raise ConfigError(f"LogsClassifier takes model_type trees or gbm, got {self.model_type!r}")
        labels = label_names(pd.Series(np.asarray(y), index=range(len(table))))
        table = table.reset_index(drop=True).assign(__label__=labels.to_numpy())
        frame = self._frame(table)
        known = frame["__label__"].notna().to_numpy()
        self.classes_ = sorted(pd.unique(frame.loc[known, "__label__"]).tolist(), key=class_sort_key)
        index = {c: i for i, c in enumerate(self.classes_)}
        y_all = np.full(len(frame), -1)
        y_all[known] = frame.loc[known, "__label__"].map(index).to_numpy()
        depth = self.depth if self.depth in frame.columns else None
        exclude = {self.well, ROW, "__label__"} | ({depth} if depth else set())
        exclude |= not_logs(frame.drop(columns=list(exclude)), "__label__")
        self.spec_ = feats.infer_spec(frame, exclude, self.well, depth, normalise=self.normalise,
                                      blocks=list(self.curve_features))
        curves = impute.curves_to_impute(frame, self.spec_, self.well) if self.impute else []
        x = {"gbm": feats.build_features(frame, self.spec_, self.well, depth)}
        _, x, self.imputers_ = estimate_missing_curves(frame, self.spec_, curves, self.well, depth,
                                                       np.arange(len(frame)), self.seed, x, models=True)
        wells = frame[self.well].astype(str).to_numpy()
        rows = impute.thin_rows(np.flatnonzero(y_all >= 0), wells, self.max_rows_per_well)
        self.engine_ = _Engine(self.spec_, self.model_type, self.well, depth, len(self.classes_))
        cfg = TrainConfig(seed=self.seed, extra={"gbm_params": dict(self.gbm_params or {}),
                                                 "forest_params": dict(self.forest_params or {})})
        self.engine_.fit(_take(x, rows), y_all[rows], cfg, None)
        self.transitions_, self.priors_ = hmm.transitions(y_all, wells, len(self.classes_))
        return self

    def predict_proba(self, table: pd.DataFrame) -> np.ndarray:
        """Class probabilities (decoded along depth), one row per input row in input order."""
        frame = self._frame(table)
        depth = self.depth if self.depth in frame.columns else None
        if self.imputers_:
            frame = impute.apply(frame, self.spec_, self.imputers_, self.well, depth)
        proba = self.engine_.proba({"gbm": feats.build_features(frame, self.spec_, self.well, depth)})
        wells = frame[self.well].astype(str).to_numpy()
        if self.decode == "hmm":
            proba = hmm.posterior(proba, wells, self.transitions_, self.priors_)
        elif self.decode == "smooth":
            proba = smooth_proba(proba, wells, int(self.smooth))
        out = np.empty_like(proba)
        out[frame[ROW].to_numpy()] = proba
        return out

    def predict(self, table: pd.DataFrame) -> np.ndarray:
        proba = self.predict_proba(table)
        chosen = proba.argmax(1) if self.cost_matrix is None else costs.decide(proba, np.asarray(self.cost_matrix))
        return np.asarray(self.classes_, dtype=object)[chosen]

    def score(self, table: pd.DataFrame, y) -> float:
        """Accuracy, as scikit-learn classifiers score."""
        truth = label_names(pd.Series(np.asarray(y))).to_numpy()
        known = pd.notna(truth)
        return float(np.mean(self.predict(table)[known] == truth[known]))
