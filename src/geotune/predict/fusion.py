"""A trained fusion model (task "fusion") behind `geotune evaluate` and `geotune predict`.

Inputs are what it was trained on: a table (CSV/Parquet) with the same feature columns and a
``patches`` .npy aligned row by row (patches or cached embeddings of the same size).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError


class FusionModel:
    def __init__(self, folder: Path, config: dict, model):
        self.folder, self.config, self.model = Path(folder), config, model

    @classmethod
    def load(cls, folder, config: dict) -> "FusionModel":
        from ..training.fusion_classifier import FusionClassifier

        return cls(folder, config, FusionClassifier.load(folder))

    @property
    def classes(self) -> list[str]:
        return list(self.config["classes"])

    def _blocks(self, data, patches) -> tuple[Any, dict]:
        from ..logs.las import read_logs
        from ..training.fusion import read_patches, table_features

        table = read_logs(data)
        embeddings = read_patches(patches, len(table), self.config.get("embedder"))
        if embeddings.shape[1] != self.model.dims["patches"]:
            raise DataError(f"patch embeddings have {embeddings.shape[1]} values per row, the model was trained "
                            f"on {self.model.dims['patches']}", patches)
        return table, {"logs": table_features(table, self.config["feature_columns"], data), "patches": embeddings}

    def predict_proba(self, data, patches=None) -> np.ndarray:
        return self.model.predict_proba(self._blocks(data, patches)[1])

    def predict(self, data, patches=None) -> np.ndarray:
        return np.asarray(self.classes, dtype=object)[self.predict_proba(data, patches).argmax(1)]

    def evaluate_source(self, data, labels=None, out_dir=None, patches=None) -> dict:
        from ..logs.las import warn
        from ..logs.scoring import score
        from ..logs.table import find_column

        table, blocks = self._blocks(data, patches)
        label = find_column(table, self.config["label_column"])
        if label is None:
            raise DataError(f"no label column {self.config['label_column']!r} to score against", data)
        truth = table[label]
        known = (truth.notna() & truth.astype(str).isin(self.classes)).to_numpy()
        unseen = sorted(truth[truth.notna() & ~known].astype(str).unique().tolist())
        if unseen:
            warn(f"{int((truth.notna().to_numpy() & ~known).sum())} rows with classes the model never saw "
                 f"({', '.join(unseen)}) were left out of the scores", data)
        if not known.any():
            raise DataError("no rows with a class the model knows; nothing to score", data)
        proba = self.model.predict_proba({k: v[known] for k, v in blocks.items()})
        y = np.array([self.classes.index(v) for v in truth[known].astype(str)])
        metrics = score(y, proba.argmax(1), self.classes, proba)
        if unseen:
            metrics["unseen_classes_left_out"] = unseen
        if out_dir is not None:
            from .._atomic import atomic_file

            with atomic_file(Path(out_dir) / "metrics.json") as handle:
                json.dump(metrics, handle, indent=2, default=float)
        return metrics

    def predict_to_file(self, input, out, patches=None) -> Path:
        from ..logs.output import write_table_predictions
        from ..logs.table import DEPTH_NAMES, WELL_NAMES, find_column

        out = Path(out)
        if out.suffix.lower() != ".csv":
            raise DataError("fusion predictions are written as .csv", out)
        table, blocks = self._blocks(input, patches)
        proba = self.model.predict_proba(blocks)
        keep = (find_column(table, self.config.get("group_column"), WELL_NAMES), find_column(table, None, DEPTH_NAMES))
        return write_table_predictions(table, keep, self.classes, proba, out)
