"""The logs model as a scikit-learn-style estimator: ``fit(table, y, groups)``, ``predict_proba(table)``, ``predict``.

The table holds one row per depth sample with a well column and a depth column; everything else numeric is
a curve (coordinates and interpretation columns excepted, see columns.py). One estimator holds every part
of a log model: per-well features, estimates of curves missing from whole wells, the members (engine.py),
decoding along depth, least-expected-cost decisions. ``geotune train --task logs`` (pipeline.py) fits it
for each validation fold and for the saved model, and a loaded model directory is one again (model.py), so
the parts can be scored with scikit-learn's tools (``cross_val_score(..., groups=...)``, ``clone``) and
replaced one at a time.

Validation reuses one feature table for every fold: ``rows(...)`` computes it once, ``fit_rows`` learns from
some of its rows and ``proba_rows`` predicts others.
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
from . import impute, shift
from .columns import label_names, not_logs
from .engine import MODEL_TYPES, Engine, class_weights, take
from .sequence import DECODE, SMOOTH, decode_along_depth
from .table import ROW, WellRows, encode_labels, prepare

# Labelled rows per well the trees learn from, evenly spaced along depth. Samples 0.15 m apart repeat each
# other; 22 North Sea wells (197,000 labelled rows) would otherwise need far more than 10 minutes on two
# cores. SEG 2016 wells (under 1,000 rows) are untouched. The boosting shares these rows out among its bag of
# models (gbm.BAGS). ``--max-rows-per-well 0`` uses every row.
MAX_ROWS_PER_WELL = 1000
LABEL = "__label__"


class LogsClassifier(ClassifierMixin, BaseEstimator):
    """Facies from well logs. ``model_type`` trees (default), gbm, cnn or ensemble; ``decode`` hmm (default),
    smooth or none; ``cost_matrix``: K x K in ``classes_`` order (true x predicted), or None for arg-max
    decisions. ``spec``: the features to use (a ``FeatureSpec``); None infers them from the table with
    ``features``/``exclude``/``windows``/``shifts``/``curve_features``/``normalise``. ``train_config``: the
    CNN's training options (epochs, learning rate, devices); None for the defaults."""

    def __init__(self, well: str = "WELL", depth: str | None = "DEPTH", model_type: str = "trees",
                 decode: str = DECODE, smooth: int = SMOOTH, impute: bool = True,
                 max_rows_per_well: int | None = MAX_ROWS_PER_WELL, cost_matrix=None, seed: int = 42,
                 gbm_params: dict | None = None, forest_params: dict | None = None, normalise: bool = True,
                 curve_features: tuple[str, ...] = feats.DEFAULT_BLOCKS, windows=None, shifts=None, features=None,
                 exclude=(), class_weights: bool = False, window: int = 16, width: int = 32, spec=None,
                 train_config: TrainConfig | None = None):
        self.well, self.depth, self.model_type, self.decode = well, depth, model_type, decode
        self.smooth, self.impute, self.max_rows_per_well = smooth, impute, max_rows_per_well
        self.cost_matrix, self.seed = cost_matrix, seed
        self.gbm_params, self.forest_params, self.normalise = gbm_params, forest_params, normalise
        self.curve_features, self.windows, self.shifts = curve_features, windows, shifts
        self.features, self.exclude, self.class_weights = features, exclude, class_weights
        self.window, self.width, self.spec, self.train_config = window, width, spec, train_config

    # ------------------------------------------------------------ on a table

    def fit(self, table: pd.DataFrame, y, groups=None) -> "LogsClassifier":
        """Learn from every labelled row of ``table`` (labels ``y``, None/NaN: features only). ``groups``
        (one per row; default the wells) sets the yardstick of how far new wells may lie (shift.py)."""
        labels = label_names(pd.Series(np.asarray(y), index=range(len(table))))
        table = table.reset_index(drop=True).assign(**{LABEL: labels.to_numpy()})
        frame, well, depth = self._prepare(table)
        y_all, classes = encode_labels(frame[LABEL])
        if len(classes) < 2:
            raise ConfigError("LogsClassifier needs at least two classes in y")
        data = self.rows(frame, well, depth, y_all, classes, self._spec(frame, well, depth, {LABEL}))
        self.fit_rows(data, np.arange(len(frame)), whole_table=True)
        order = frame[ROW].to_numpy()
        groups = data.wells.astype(str) if groups is None else np.asarray(groups).astype(str)[order]
        self.shift_reference_ = shift.reference(frame, data.spec.curves, well, groups,
                                                self.fitted_inputs_.get("gbm"))
        del self.fitted_inputs_  # the training table's inputs: not part of the model
        return self

    def predict_proba(self, table: pd.DataFrame) -> np.ndarray:
        """Class probabilities (decoded along depth), one row per input row in input order."""
        frame, well, depth = self._prepare(table)
        frame = self.complete(frame, well, depth)
        proba = self.proba_frame(frame, well, depth)
        out = np.empty_like(proba)
        out[frame[ROW].to_numpy()] = proba
        return out

    def predict(self, table: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.classes_, dtype=object)[self.decide(self.predict_proba(table))]

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class indices: least expected cost under a cost matrix (with the probabilities calibrated by
        ``temperature_`` when one was fitted), else the most probable class."""
        if self.cost_matrix is None:
            return proba.argmax(1)
        temperature = getattr(self, "temperature_", None)
        calibrated = proba if temperature is None else costs.calibrate(proba, float(temperature))
        return costs.decide(calibrated, np.asarray(self.cost_matrix, dtype=float))

    def score(self, table: pd.DataFrame, y) -> float:
        """Accuracy, as scikit-learn classifiers score."""
        truth = label_names(pd.Series(np.asarray(y))).to_numpy()
        known = pd.notna(truth)
        return float(np.mean(self.predict(table)[known] == truth[known]))

    def _prepare(self, table: pd.DataFrame):
        if self.well not in table.columns:
            raise ConfigError(f"the table has no well column {self.well!r}")
        depth = self.depth if self.depth in table.columns else None
        return prepare(table.reset_index(drop=True), self.well, depth, {}, set(table.columns))

    def _spec(self, frame: pd.DataFrame, well: str, depth: str | None, labels: set) -> feats.FeatureSpec:
        if self.spec is not None:
            return self.spec
        exclude = labels | {well, ROW} | ({depth} if depth else set()) | set(self.exclude)
        if self.features is None:
            exclude |= not_logs(frame.drop(columns=list(exclude & set(frame.columns))), next(iter(labels)))
        return feats.infer_spec(frame, exclude, well, depth, self.windows, self.shifts, self.features,
                                normalise=self.normalise, blocks=list(self.curve_features))

    # ------------------------------------------------------------ on rows of a shared feature table

    def new_engine(self, spec: feats.FeatureSpec, well: str, depth: str | None, n_classes: int) -> Engine:
        if self.model_type not in MODEL_TYPES:
            raise ConfigError(f"model_type must be one of {', '.join(MODEL_TYPES)}, got {self.model_type!r}")
        return Engine(spec, self.model_type, well, depth, n_classes, {"half": self.window, "width": self.width})

    def rows(self, frame: pd.DataFrame, well: str, depth: str | None, y: np.ndarray, classes: list[str],
             spec: feats.FeatureSpec, source=None) -> WellRows:
        """A prepared table with its inputs computed once for every fit on some of its rows."""
        engine = self.new_engine(spec, well, depth, len(classes))
        x = engine.inputs(frame)
        scale = {k: engine.cnn_options[k] for k in ("mean", "std")} if "cnn" in engine.parts else None
        return WellRows(frame, well, depth, y, classes, spec, x, source, scale)

    def fit_rows(self, data: WellRows, rows: np.ndarray, val_rows: np.ndarray | None = None, run_dir=None,
                 epochs: int | None = None, whole_table: bool = False) -> "LogsClassifier":
        """Learn from the labelled ``rows`` of ``data`` (curves missing from whole wells estimated from all
        of ``rows``). ``whole_table``: ``rows`` are every row, and the CNN is standardised with the table's
        channel statistics; otherwise with the rows it learns from. ``val_rows``/``run_dir``/``epochs``: the
        CNN's main fit (checkpoints, --patience on ``val_rows``, a fixed number of epochs)."""
        frame, well, depth, spec = data.frame, data.well, data.depth, data.spec
        self.classes_, self.spec_ = list(data.classes), spec
        engine = self.new_engine(spec, well, depth, len(data.classes))
        # curves missing from whole wells are estimated from the other logs, learned from these rows only
        curves = impute.curves_to_impute(frame, spec, well) if self.impute else []
        filled, x, self.imputers_ = impute.estimate_missing_curves(frame, spec, curves, well, depth, rows,
                                                                   self.seed, data.x)
        wells = data.wells
        train = impute.thin_rows(rows[data.y[rows] >= 0], wells, self.max_rows_per_well)
        if "cnn" in engine.parts:
            if whole_table:
                engine.cnn_options.update(data.cnn_scale)
            else:  # standardise with the training rows only
                from . import cnn

                _, mean, std = cnn.channels(filled.iloc[train], spec, well, depth)
                engine.cnn_options.update(mean=list(map(float, mean)), std=list(map(float, std)))
            x = engine.inputs(filled)
        weights = class_weights(data.y[train], len(data.classes)) if self.class_weights else None
        val = None if val_rows is None else (take(x, val_rows), data.y[val_rows])
        engine.fit(take(x, train), data.y[train], self._engine_config(), weights, run_dir=run_dir, val=val,
                   epochs=epochs)
        engine.imputers = self.imputers_
        self.engine_, self.train_rows_, self.fitted_inputs_ = engine, train, x
        # facies transitions from the labelled rows learnt from (held-out labels never reach the counts)
        known = np.full(len(frame), -1)
        known[rows] = data.y[rows]
        self.transitions_, self.priors_ = hmm.transitions(known, wells, len(data.classes))
        self.emission_, self.temperature_ = hmm.EMISSION, None
        return self

    def proba_rows(self, data: WellRows, rows: np.ndarray, decoded: bool = True) -> np.ndarray:
        """Probabilities of ``rows`` of the table the estimator was fitted on (``fit_rows``); ``decoded``
        along depth, which needs ``rows`` to be whole stretches of well (true for held-out wells)."""
        proba = self.engine_.proba(take(self.fitted_inputs_, rows))
        return self.decode_rows(proba, data.wells[rows]) if decoded else proba

    def decode_rows(self, proba: np.ndarray, wells: np.ndarray) -> np.ndarray:
        return decode_along_depth(proba, wells, self.decode, self.smooth, self.transitions_, self.priors_,
                                  self.emission_)

    # ------------------------------------------------------------ on new wells

    def complete(self, frame: pd.DataFrame, well: str, depth: str | None, source=None,
                 announce: bool = False) -> pd.DataFrame:
        """``frame`` with the curves the model estimates filled in the wells that lack them entirely."""
        if self.imputers_:
            frame = impute.apply(frame, self.spec_, self.imputers_, well, depth, source, announce=announce)
        return frame

    def proba_frame(self, frame: pd.DataFrame, well: str, depth: str | None, inputs: dict | None = None):
        """Probabilities of every row of a prepared, completed frame (``inputs``: its engine inputs, when
        already computed with ``engine_.inputs``), decoded along depth."""
        self.engine_.well, self.engine_.depth = well, depth
        proba = self.engine_.proba(self.engine_.inputs(frame) if inputs is None else inputs)
        return self.decode_rows(proba, frame[well].to_numpy())

    def _engine_config(self) -> TrainConfig:
        base = self.train_config if self.train_config is not None else TrainConfig()
        return base.model_copy(update={"seed": self.seed, "gbm_params": dict(self.gbm_params or {}),
                                       "forest_params": dict(self.forest_params or {})})
