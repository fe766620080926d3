"""Classification metrics in the one shape every geotune task writes to metrics.json."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def classification_metrics(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    classes: Sequence[str],
    proba: np.ndarray | None = None,
) -> dict:
    """accuracy, macro_f1, micro_f1, per_class (precision/recall/f1/support), confusion_matrix and,
    with probabilities, expected calibration error, log loss and (binary) ROC-AUC."""
    from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    labels = list(range(len(classes)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    result = {
        "n_samples": int(len(y_true)),
        "accuracy": float(np.mean(y_true == y_pred)) if len(y_true) else float("nan"),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(y_true, y_pred, labels=labels, average="micro", zero_division=0)),
        "per_class": {
            str(name): {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(classes)
        },
        "classes": [str(c) for c in classes],
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }
    if proba is not None:
        proba = np.asarray(proba, dtype=float)
        result["ece"] = expected_calibration_error(y_true, proba)
        clipped = np.clip(proba[np.arange(len(y_true)), y_true], 1e-12, 1.0)
        result["log_loss"] = float(-np.mean(np.log(clipped)))
        if len(classes) == 2 and len(np.unique(y_true)) == 2:
            from sklearn.metrics import roc_auc_score

            result["roc_auc"] = float(roc_auc_score(y_true, proba[:, 1]))
    return result


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 15) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins (weighted by count)."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ece = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def reliability_curve(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 10):
    """(bin centre, accuracy, confidence, count) per non-empty bin, for the reliability diagram."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    rows = []
    for low, high in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            rows.append(((low + high) / 2, correct[in_bin].mean(), confidence[in_bin].mean(), int(in_bin.sum())))
    return rows


def summarise_folds(fold_scores: dict[str, dict], key: str = "accuracy") -> dict:
    """Mean and spread of one metric over leave-one-group-out folds."""
    values = np.array([scores[key] for scores in fold_scores.values()], dtype=float)
    return {
        "metric": key,
        "mean": float(values.mean()) if len(values) else float("nan"),
        "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
        "min": float(values.min()) if len(values) else float("nan"),
        "max": float(values.max()) if len(values) else float("nan"),
        "n_groups": int(len(values)),
    }
