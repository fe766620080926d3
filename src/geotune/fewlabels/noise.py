"""Label noise: find training samples whose label disagrees with what the others predict for them.

Each training sample is scored by a head that never saw it (stratified cross-validation on frozen
features): a sample is suspect when the out-of-fold prediction is another class, and its score is
how much more probable that class is than the given label. ``downweight`` lowers a suspect's loss
weight to its relative out-of-fold probability of the given label, so a clear mislabel barely counts
while a borderline one keeps most of its weight.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

MIN_WEIGHT = 0.05


def out_of_fold_proba(features, y, seed: int = 0, n_classes: int | None = None) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    from .fewshot import fit_fewshot

    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    n_classes = n_classes or int(y.max()) + 1
    counts = np.bincount(y, minlength=n_classes)
    proba = np.full((len(y), n_classes), 1.0 / n_classes)
    if counts[counts > 0].min() < 2:
        return proba  # one sample in a class: nothing can be checked against the others
    for train, test in StratifiedKFold(min(5, int(counts[counts > 0].min())), shuffle=True,
                                       random_state=seed).split(x, y):
        head = fit_fewshot(x[train], y[train], methods=("logistic-pt",), seed=seed, n_classes=n_classes)
        proba[test] = head.predict_proba(x[test])
    return proba


def suspect_scores(features, y, seed: int = 0, n_classes: int | None = None) -> dict:
    """Per sample: ``suggested`` class, ``score`` (p(suggested) - p(given), 0 when they agree), ``suspect``
    flag and ``weight`` for the down-weighting mode."""
    y = np.asarray(y, dtype=np.int64)
    proba = out_of_fold_proba(features, y, seed, n_classes)
    suggested = proba.argmax(1)
    p_given = proba[np.arange(len(y)), y]
    p_best = proba.max(1)
    suspect = suggested != y
    weight = np.where(suspect, np.maximum(p_given / np.maximum(p_best, 1e-12), MIN_WEIGHT), 1.0)
    return {"suggested": suggested, "score": np.where(suspect, p_best - p_given, 0.0), "suspect": suspect,
            "weight": weight.astype(np.float32), "proba": proba}


def write_suspects(path, ids, given, suggested, score, order) -> Path:
    from .._atomic import atomic_file

    with atomic_file(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rank", "id", "given_label", "suggested_label", "score"])
        for rank, i in enumerate(order, 1):
            writer.writerow([rank, ids[i], given[i], suggested[i], f"{score[i]:.4f}"])
    return Path(path)


def apply_noise_option(cfg, model, samples, y, train_idx, run_dir):
    """The `--noisy-labels detect|downweight` hook: writes RUN/suspect_labels.csv, returns (weights, info)."""
    from ..training.features import cached_features, features_cache_key

    run_dir = Path(run_dir)
    y = np.asarray(y, dtype=np.int64)
    train_idx = np.asarray(train_idx)
    n_classes = int(y.max()) + 1
    names = [str(samples.labels[np.argmax(y == c)]) for c in range(n_classes)]
    # the same cache key as the linear probe, so its features are computed once for both
    key = features_cache_key(cfg, samples)
    features = cached_features(model, samples, run_dir / "cache", key, progress="features for the label check",
                               workers=cfg.workers)
    found = suspect_scores(features[train_idx].numpy(), y[train_idx], cfg.seed, n_classes)
    flagged = np.where(found["suspect"])[0]
    order = flagged[np.argsort(-found["score"][flagged], kind="stable")]
    ids = [samples.ids[i] for i in train_idx]
    out = write_suspects(run_dir / "suspect_labels.csv", ids, [names[v] for v in y[train_idx]],
                         [names[v] for v in found["suggested"]], found["score"], order)
    weights = np.ones(len(y), dtype=np.float32)
    if cfg.noisy_labels == "downweight":
        weights[train_idx] = found["weight"]
    info = {"mode": cfg.noisy_labels, "n_checked": int(len(train_idx)), "n_suspect": int(len(flagged)),
            "file": str(out)}
    return weights, info
