"""The members of a log model (gradient boosting, a random forest, a 1D CNN) behind one fit / proba.

``model_type`` trees (gradient boosting and a random forest on per-well features), gbm (boosting alone),
cnn (1D CNN on depth windows) or ensemble (gbm and cnn). Members' probabilities are averaged with equal
weights, fixed a priori: they err differently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..config import TrainConfig
from . import features as feats

MODEL_TYPES = ("trees", "gbm", "cnn", "ensemble")
PARTS = {"trees": ("gbm", "forest"), "ensemble": ("gbm", "cnn")}


def parts_of(model_type: str) -> tuple[str, ...]:
    """The members a model type averages."""
    return PARTS.get(model_type, (model_type,))


def take(x: dict, idx) -> dict:
    """The rows ``idx`` of every member's inputs (feature tables, CNN windows)."""
    return {k: v.select(idx) if hasattr(v, "select") else v[idx] for k, v in x.items()}


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Inverse class frequency (``--class-weights``); 0 for a class absent from ``y``."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    return np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)


class Engine:
    """What a log model needs to turn a prepared frame into probabilities."""

    def __init__(self, spec: feats.FeatureSpec, model_type: str, well: str, depth: str | None,
                 n_classes: int, cnn_options: dict | None = None):
        self.spec, self.model_type, self.well, self.depth = spec, model_type, well, depth
        self.n_classes = n_classes
        self.cnn_options = dict(cnn_options or {})
        self.model: dict = {}
        self.trainer = None  # the CNN's Lightning trainer after a fit
        self.imputers: dict = {}  # curve -> regressor for wells that lack it (see impute.py)

    @property
    def parts(self) -> tuple[str, ...]:
        return parts_of(self.model_type)

    def inputs(self, frame: pd.DataFrame) -> dict:
        """Each member's inputs for every row of ``frame``. The CNN's channels are standardised with the
        mean and std in ``cnn_options``, or (none yet) with this frame's, which are then kept there."""
        out = {}
        if "gbm" in self.parts or "forest" in self.parts:  # both members read the same feature table
            out["gbm"] = feats.build_features(frame, self.spec, self.well, self.depth)
        if "cnn" in self.parts:
            from . import cnn

            mean = self.cnn_options.get("mean")
            std = self.cnn_options.get("std")
            values, mean, std = cnn.channels(frame, self.spec, self.well, self.depth,
                                             None if mean is None else np.asarray(mean),
                                             None if std is None else np.asarray(std))
            self.cnn_options["mean"], self.cnn_options["std"] = list(map(float, mean)), list(map(float, std))
            out["cnn"] = cnn.windows(values, frame[self.well].to_numpy(), int(self.cnn_options.get("half", 16)))
        return out

    def fit(self, x: dict, y, cfg: TrainConfig, weights: np.ndarray | None, run_dir: Path | None = None,
            val: tuple[dict, np.ndarray] | None = None, epochs: int | None = None):
        """Fit every member. The CNN trains on the Lightning engine: a main fit (with ``run_dir``) honours
        --devices, --precision, --resume and checkpoints (and --patience on ``val`` = (inputs, labels));
        without ``run_dir`` it is a quiet single-device fit (cross-validation folds)."""
        if "gbm" in self.parts:
            from . import gbm

            sample_weight = None if weights is None else weights[y]
            self.model["gbm"] = gbm.fit(x["gbm"], y, seed=cfg.seed, sample_weight=sample_weight,
                                        categorical_mask=self.spec.categorical_mask(),
                                        **cfg.gbm_params)
        if "forest" in self.parts:
            from . import forest

            sample_weight = None if weights is None else weights[y]
            self.model["forest"] = forest.fit(x["gbm"], y, seed=cfg.seed, sample_weight=sample_weight,
                                              **cfg.forest_params)
        if "cnn" in self.parts:
            import torch

            from ..training.logs_module import fit_logs_cnn
            from .threads import threads

            torch.set_num_threads(threads())  # small convolutions: extra threads only contend for busy cores
            val_windows = None if val is None else val[0]["cnn"].labelled(val[1])
            self.model["cnn"], self.trainer = fit_logs_cnn(
                x["cnn"].labelled(y), self.n_classes, cfg, class_weight=weights,
                width=int(self.cnn_options.get("width", 32)), val=val_windows, run_dir=run_dir, epochs=epochs)
        return self

    def proba(self, x: dict) -> np.ndarray:
        out = []
        if "gbm" in self.parts:
            from . import gbm

            out.append(gbm.predict_proba(self.model["gbm"], x["gbm"], self.n_classes))
        if "forest" in self.parts:
            from . import forest

            out.append(forest.predict_proba(self.model["forest"], x["gbm"], self.n_classes))
        if "cnn" in self.parts:
            from . import cnn

            out.append(cnn.predict_proba(self.model["cnn"], x["cnn"]))
        return np.mean(out, axis=0)
