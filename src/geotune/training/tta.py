"""Whether test-time augmentation pays for a trained classifier: scored on its validation split.

``--tta auto`` under ``--strategy auto`` predicts the validation samples in all eight flipped/rotated views
once, scores no augmentation, the four flips and all eight views from them, and keeps a mode only when it
gets clearly more validation samples right than the cheaper one (predictions cost one pass per view, so a
tie goes to fewer views). The choice lands in config.json, where predict and evaluate read it.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..predict.tta import TTA_MODES, apply_view, softmax, view_count
from .features import sample_batches


@torch.no_grad()
def view_logits(model, dataset, views: int, batch_size: int = 64, workers: int = 0) -> np.ndarray:
    """views x N x K logits of ``dataset``'s samples, each batch decoded once and predicted in every view."""
    model.cpu().eval().to(memory_format=torch.channels_last)  # as predict runs it
    out = []
    for batch in sample_batches(dataset, batch_size, workers):
        out.append(np.stack([model(apply_view(batch, v).contiguous(memory_format=torch.channels_last))
                             .float().numpy() for v in range(views)]))
    return np.concatenate(out, axis=1)


def margin(n_val: int) -> int:
    """More validation samples right than this many, or the cheaper mode stays: about 0.5 % of them, at least 2."""
    return max(2, math.ceil(0.005 * n_val))


def choose_mode(logits: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> tuple[str, dict]:
    """(mode, validation accuracy per mode) from views x N x K logits (8 views: every mode can be scored)."""
    correct, scores = {}, {}
    for mode in TTA_MODES:
        proba = np.mean([softmax(logits[v].astype(np.float64), temperature) for v in range(view_count(mode))], 0)
        correct[mode] = int((proba.argmax(1) == y).sum())
        scores[mode] = round(correct[mode] / max(len(y), 1), 4)
    chosen = "off"
    for mode in ("flips", "dihedral"):
        if correct[mode] >= correct[chosen] + margin(len(y)):
            chosen = mode
    return chosen, scores


def settle_tta(requested: str, model, val_samples, y_val: np.ndarray, temperature: float,
               workers: int = 0) -> tuple[str, dict, np.ndarray | None]:
    """(mode, record, validation probabilities under that mode or None when it is ``off``) for ``requested``:
    ``auto`` measures every mode and keeps the best (see choose_mode); a named mode is used as given."""
    if requested == "off" or len(y_val) == 0:
        return "off", {"mode": "off"}, None
    views = 8 if requested == "auto" else view_count(requested)
    logits = view_logits(model, val_samples, views, workers=workers)
    if requested == "auto":
        mode, scores = choose_mode(logits, y_val, temperature)
        record = {"mode": mode, "validation_accuracy": scores, "chosen_by": "validation split, ties to fewer views"}
    else:
        mode, record = requested, {"mode": requested}
    if mode == "off":
        return mode, record, None
    proba = np.mean([softmax(logits[v].astype(np.float64), temperature) for v in range(view_count(mode))], 0)
    return mode, record, proba
