"""The saved log model behind ``geotune evaluate`` and ``geotune predict``.

    LogsModel.load(folder, config) .predict(df) .predict_proba(df) .classes
                                   .evaluate_source(data, labels, out_dir) .predict_to_file(input, out)

It reads the wells as they come (a table, a LAS file, a folder or archive of them), finds the columns the
model was trained with, and hands the prepared frame to the fitted estimator it holds (modelfiles.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, ModelError
from . import costs, shift
from .columns import label_names
from .engine import Engine
from .estimator import LogsClassifier
from .las import read_logs, warn
from .modelfiles import load_model
from .output import write_table_predictions
from .scoring import score
from .table import DEPTH_NAMES, ROW, WELL_NAMES, class_sort_key, find_column, prepare, read


class LogsModel:
    def __init__(self, folder: Path, config: dict, estimator: LogsClassifier):
        self.folder, self.config, self.estimator = Path(folder), config, estimator
        self.well, self.depth = estimator.well, estimator.depth  # the columns of the last input read

    @classmethod
    def load(cls, folder, config: dict) -> "LogsModel":
        return cls(folder, config, load_model(folder, config))

    @property
    def classes(self) -> list[str]:
        return list(self.config["classes"])

    @property
    def engine(self) -> Engine:
        return self.estimator.engine_

    def _prepared(self, data, allow_missing_curves: bool = False,
                  skip_bad: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
        if skip_bad and not isinstance(data, pd.DataFrame):  # --skip-bad: unreadable files of a folder left out
            from .batch import read_logs_skipping_bad

            raw, source = read_logs_skipping_bad(data), data
        else:
            raw, source = read(data)
        cfg = self.config
        well = find_column(raw, cfg.get("well_column"), WELL_NAMES)
        depth = find_column(raw, cfg.get("depth_column"), DEPTH_NAMES)
        if cfg.get("depth_column") and depth is None:
            warn(f"no depth column ({cfg['depth_column']!r}); samples are taken in row order", source)
        label = find_column(raw, cfg["label_column"])
        keep = {label} if label else set()
        group = find_column(raw, cfg.get("group_column")) if cfg.get("group_column") else None
        keep |= {group} if group else set()
        frame, well, depth = prepare(raw, well, depth, cfg["aliases"], keep, source)
        spec = self.estimator.spec_
        imputers = self.estimator.imputers_
        missing = [c for c in spec.curves + spec.indicators + list(spec.categorical)
                   if c not in frame.columns and c not in imputers]
        if missing:
            warn(f"curves the model was trained with are missing from the input and treated as not measured: "
                 f"{', '.join(missing)}", source)
        measured = [c for c in spec.curves if c in frame.columns and frame[c].notna().any()]
        if spec.curves and not measured and not allow_missing_curves:  # confident facies from nothing: refuse
            raise DataError(f"holds none of the model's curves ({', '.join(spec.curves[:8])}"
                            f"{', ...' if len(spec.curves) > 8 else ''}); check the curve names (--aliases at "
                            "training) or pass --allow-missing-curves to predict anyway", source)
        self.well, self.depth = self.engine.well, self.engine.depth = well, depth
        frame = self.estimator.complete(frame, well, depth, source, announce=True)
        return raw, frame, source

    def _proba_prepared(self, frame: pd.DataFrame, inputs: dict | None = None) -> np.ndarray:
        if self.estimator.decode == "hmm" and (not self.config.get("transitions") or not self.config.get("priors")):
            raise ModelError("config.json asks for hmm decoding but holds no transition table", self.folder)
        return self.estimator.proba_frame(frame, self.well, self.depth, inputs)

    def predict_proba(self, data) -> np.ndarray:
        """Class probabilities, one row per input row in input order."""
        _, frame, _ = self._prepared(data)
        proba = self._proba_prepared(frame)
        out = np.empty_like(proba)
        out[frame[ROW].to_numpy()] = proba
        return out

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class indices: least expected cost when the model carries a cost matrix, else the most probable."""
        return self.estimator.decide(proba)

    def predict(self, data) -> np.ndarray:
        return np.asarray(self.classes, dtype=object)[self.decide(self.predict_proba(data))]

    def evaluate_source(self, data, labels=None, out_dir=None, allow_missing_curves: bool = False) -> dict:
        raw, frame, source = self._prepared(data, allow_missing_curves)
        label = find_column(raw, self.config["label_column"])
        if labels is not None:
            label_table = read_logs(labels)
            column = find_column(label_table, self.config["label_column"])
            if column is None or len(label_table) != len(raw):
                raise DataError(f"labels need a {self.config['label_column']!r} column with one row per data row",
                                labels)
            frame["__labels__"] = label_table[column].to_numpy()[frame[ROW].to_numpy()]
            label = "__labels__"
        if label is None:
            raise DataError(f"no label column {self.config['label_column']!r} to score against", source)
        inputs = self.engine.inputs(frame)
        proba = self._proba_prepared(frame, inputs)
        truth = label_names(frame[label])
        known = truth.notna() & truth.astype(str).isin(self.classes)
        unseen = sorted(truth[truth.notna() & ~known].astype(str).unique().tolist(), key=class_sort_key)
        if unseen:
            warn(f"{int((truth.notna() & ~known).sum())} rows with classes the model never saw "
                 f"({', '.join(unseen)}) were left out of the scores", source)
        if not known.any():
            raise DataError("no rows with a class the model knows; nothing to score", source)
        mask = known.to_numpy()
        y = np.array([self.classes.index(v) for v in truth[mask].astype(str)])
        metrics = score(y, self.decide(proba[mask]), self.classes, proba[mask], self.config.get("adjacency"))
        if unseen:
            metrics["unseen_classes_left_out"] = unseen
        group = find_column(raw, self.config.get("group_column")) or self.well
        if group in frame.columns:
            metrics["per_group"] = {}
            for name in pd.unique(frame.loc[mask, group]):
                sel = (frame[group] == name).to_numpy() & mask
                yy = np.array([self.classes.index(v) for v in truth[sel].astype(str)])
                metrics["per_group"][str(name)] = {
                    "micro_f1": score(yy, self.decide(proba[sel]), self.classes)["micro_f1"], "n_samples": int(sel.sum())}
        if self.config.get("cost_matrix"):
            wells = frame[group if group in frame.columns else self.well].astype(str).to_numpy()
            metrics["cost"] = costs.report(y, proba[mask], np.asarray(self.config["cost_matrix"], dtype=float),
                                           wells[mask], float(self.config.get("temperature") or 1.0))
        if self.config.get("shift"):
            metrics["shift"] = shift.measure(frame, self.well, inputs.get("gbm"), self.config["shift"], source)
        if out_dir is not None:
            from .._atomic import atomic_file

            with atomic_file(Path(out_dir) / "metrics.json") as handle:
                json.dump(metrics, handle, indent=2, default=float)
        return metrics

    def predict_to_file(self, input, out, allow_missing_curves: bool = False, skip_bad: bool = False) -> Path:
        out = Path(out)
        if out.suffix.lower() != ".csv":
            raise DataError("log predictions are written as .csv", out)
        raw, frame, source = self._prepared(input, allow_missing_curves, skip_bad)
        inputs = self.engine.inputs(frame)
        proba = np.empty((len(raw), len(self.classes)))
        order = frame[ROW].to_numpy()
        proba[order] = self._proba_prepared(frame, inputs)
        columns = {}
        if self.config.get("shift"):  # each row carries its well's distance from the training wells
            report = shift.measure(frame, self.well, inputs.get("gbm"), self.config["shift"], source)
            names = frame[self.well].astype(str).to_numpy()
            for key, column in (("feature_distance", "shift_feature_distance"),
                                ("beyond_validation", "shift_beyond_validation")):
                values = np.empty(len(raw), dtype=object)
                values[order] = [report[n].get(key) for n in names]
                columns[column] = values
        keep = (find_column(raw, self.config.get("well_column"), WELL_NAMES), find_column(raw, self.config.get("group_column")),
                find_column(raw, self.config.get("depth_column"), DEPTH_NAMES))
        written = write_table_predictions(raw, keep, self.classes, proba, out, self.decide(proba), columns)
        if skip_bad:
            from .batch import write_skipped

            write_skipped(out, raw)
        return written
