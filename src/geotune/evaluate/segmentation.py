"""Segmentation scores in the one metrics.json shape: pixel classification keys, IoU and the TGS ``map_iou``.

Everything is computed from a confusion matrix accumulated one section at a time, so scoring a survey
never needs its whole prediction in memory; ``map_iou`` (two classes) is a mean over sections, so it
is accumulated as a sum and a count.
"""

from __future__ import annotations

import math

import numpy as np

IOU_THRESHOLDS = np.arange(0.5, 0.96, 0.05)


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """(K, K) counts, rows true class, columns predicted."""
    truth = np.asarray(truth, dtype=np.int64).reshape(-1)
    predicted = np.asarray(predicted, dtype=np.int64).reshape(-1)
    return np.bincount(truth * n_classes + predicted, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def map_iou_scores(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Per image (first axis) TGS salt score: precision averaged over IoU thresholds 0.5..0.95; an image
    with an empty true mask scores 1 if the prediction is empty too, else 0."""
    truth = np.asarray(truth, dtype=bool).reshape(truth.shape[0], -1)
    predicted = np.asarray(predicted, dtype=bool).reshape(predicted.shape[0], -1)
    inter = np.logical_and(truth, predicted).sum(1)
    union = np.logical_or(truth, predicted).sum(1)
    scores = np.empty(len(truth))
    empty = union == 0
    scores[empty] = 1.0
    iou = inter[~empty] / union[~empty]
    scores[~empty] = (iou[:, None] > IOU_THRESHOLDS[None, :]).mean(1)
    return scores


def map_iou(truth: np.ndarray, predicted: np.ndarray) -> float:
    """The TGS/Kaggle score: ``map_iou_scores`` averaged over images."""
    return float(map_iou_scores(truth, predicted).mean())


def iou_per_class(confusion: np.ndarray) -> np.ndarray:
    """IoU of each class from a (K, K) confusion matrix; NaN for a class neither present nor predicted."""
    confusion = np.asarray(confusion, dtype=np.float64)
    tp = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - tp
    return np.divide(tp, union, out=np.full_like(tp, np.nan), where=union > 0)


def mean_iou(confusion: np.ndarray) -> float:
    """Mean IoU over the classes present in truth or prediction (NaN when there are none)."""
    values = iou_per_class(confusion)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")


def metrics_from_confusion(confusion: np.ndarray, classes: list[str], map_iou_value: float | None = None) -> dict:
    """accuracy, macro_f1, micro_f1, per_class, confusion_matrix, iou, mean_iou (and map_iou when given),
    exact over every pixel counted in ``confusion``."""
    confusion = np.asarray(confusion, dtype=np.int64)
    total = int(confusion.sum())
    tp = np.diag(confusion).astype(float)
    predicted, support = confusion.sum(0).astype(float), confusion.sum(1).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    accuracy = float(tp.sum() / total) if total else float("nan")
    union = predicted + support - tp
    iou = {str(name): (float(tp[i] / union[i]) if union[i] else float("nan")) for i, name in enumerate(classes)}
    present = [v for v in iou.values() if not math.isnan(v)]
    result = {
        "n_samples": total,
        "n_pixels": total,
        "accuracy": accuracy,
        "macro_f1": float(f1.mean()) if len(classes) else float("nan"),
        "micro_f1": accuracy,  # single-label: micro-averaged F1 equals accuracy
        "per_class": {str(name): {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                                  "support": int(support[i])} for i, name in enumerate(classes)},
        "classes": [str(c) for c in classes],
        "confusion_matrix": confusion.tolist(),
        "iou": iou,
        "mean_iou": float(np.mean(present)) if present else float("nan"),
    }
    if map_iou_value is not None:
        result["map_iou"] = float(map_iou_value)
    return result


class SegmentationScores:
    """Accumulates one section (or a batch of sections) at a time; ``result`` gives the metrics dict."""

    def __init__(self, classes: list[str]):
        self.classes = [str(c) for c in classes]
        n = len(self.classes)
        self.confusion = np.zeros((n, n), dtype=np.int64)
        self.map_sum, self.map_count = 0.0, 0

    def update(self, truth: np.ndarray, predicted: np.ndarray) -> None:
        """``truth``/``predicted`` integer class maps (H, W) or (N, H, W)."""
        truth = np.asarray(truth)
        predicted = np.asarray(predicted)
        if truth.ndim == 2:
            truth, predicted = truth[None], predicted[None]
        self.confusion += confusion_matrix(truth, predicted, len(self.classes))
        if len(self.classes) == 2:
            scores = map_iou_scores(truth == 1, predicted == 1)
            self.map_sum += float(scores.sum())
            self.map_count += len(scores)

    def result(self) -> dict:
        value = self.map_sum / self.map_count if self.map_count else None
        return metrics_from_confusion(self.confusion, self.classes, value)


def segmentation_metrics(masks: np.ndarray, predicted: np.ndarray, classes: list[str]) -> dict:
    """Metrics for in-memory masks and predictions (N, H, W); the same numbers as streaming them."""
    scores = SegmentationScores(classes)
    scores.update(masks, predicted)
    return scores.result()
