"""Semi-supervised learning from unlabelled data: confident pseudo-labels by self-training.

A head trained on the labelled features labels the unlabelled features; per class, the most confident
ones (probability at least a threshold) join the labelled set weighted by their confidence, and the
head is refitted. Over a few rounds the accepted number grows to ``max_ratio`` times the labelled
count, with the same multiple for every class so the class balance of the labels is kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .fewshot import fit_fewshot

DEFAULT_THRESHOLD = 0.5


def pseudo_label(train_features, train_y, unlabelled_features, threshold: float = DEFAULT_THRESHOLD,
                 max_ratio: float = 10.0, rounds: int = 4, seed: int = 0, n_classes: int | None = None):
    """Return (indices into ``unlabelled_features``, pseudo-labels, confidences) of the accepted samples.

    Each round accepts, per class, the most confident unlabelled samples predicted as that class (at
    least ``threshold``), up to a multiple of the labelled count that grows to ``max_ratio`` over the
    rounds and is the same for every class, so the pseudo-labelled set keeps the labelled class balance
    (easy majority-class samples would otherwise pull the boundary away from the rare class).
    """
    x = np.asarray(train_features, dtype=np.float64)
    y = np.asarray(train_y, dtype=np.int64)
    u = np.asarray(unlabelled_features, dtype=np.float64)
    n_classes = n_classes or int(y.max()) + 1
    counts = np.bincount(y, minlength=n_classes)
    present = np.where(counts > 0)[0]
    chosen = np.zeros(0, dtype=np.int64)
    labels = np.zeros(0, dtype=np.int64)
    confidence = np.zeros(0)
    for round_ in range(rounds):
        fx = np.concatenate([x, u[chosen]])
        fy = np.concatenate([y, labels])
        fw = np.concatenate([np.ones(len(y)), confidence])
        head = fit_fewshot(fx, fy, weights=fw, methods=("logistic-pt",), reference=u, seed=seed, n_classes=n_classes)
        proba = head.predict_proba(u)
        guess, conf = proba.argmax(1), proba.max(1)
        candidates = {c: np.where((guess == c) & (conf >= threshold))[0] for c in present}
        ratio = min([max_ratio * (round_ + 1) / rounds] + [len(candidates[c]) / counts[c] for c in present])
        keep = [candidates[c][np.argsort(-conf[candidates[c]], kind="stable")][:int(ratio * counts[c])]
                for c in present]
        chosen = np.sort(np.concatenate(keep)).astype(np.int64)
        labels, confidence = guess[chosen], conf[chosen]
    return chosen, labels, confidence


def pseudo_label_features(cfg, model, train_features, train_y, run_dir, scaling: str | None = None):
    """The `--unlabelled` hook of the linear-probe strategy: (features, labels, weights) of the confident
    pseudo-labelled samples; writes RUN/unlabelled.json with how many were read and used."""
    import torch

    from .._atomic import atomic_file
    from ..data.samples import load_samples
    from ..errors import DataError
    from ..training.classify import _fingerprint
    from ..training.features import cache_key, cached_features
    from ..models.backbones import spec_for

    size = cfg.image_size or spec_for(cfg.backbone).input_size
    channels = int(model.normalize.mean.shape[1])
    samples = load_samples(cfg.unlabelled, image_size=size, require_labels=False, scaling=scaling,
                           channels=channels)
    if samples.channels != channels:
        raise DataError(f"has {samples.channels} channel(s) but the labelled data has {channels}", cfg.unlabelled)
    cache_dir = Path(run_dir) / "cache" if run_dir is not None else None
    key = cache_key(cfg.backbone, cfg.pretrained, str(cfg.weights), samples.x.shape, _fingerprint(samples.x))
    features = cached_features(model, samples.x, cache_dir, key, progress="features of the unlabelled data")
    threshold = float(cfg.extra.get("pseudo_threshold", DEFAULT_THRESHOLD))
    y = np.asarray(train_y)
    n_classes = int(model.head.out_features) if hasattr(model.head, "out_features") else int(y.max()) + 1
    index, labels, confidence = pseudo_label(train_features.numpy(), y, features.numpy(), threshold,
                                             seed=cfg.seed, n_classes=n_classes)
    info = {"source": str(cfg.unlabelled), "n_unlabelled": len(samples), "n_used": int(len(index)),
            "threshold": threshold, "used_per_class": np.bincount(labels, minlength=n_classes).tolist()}
    if run_dir is not None:
        with atomic_file(Path(run_dir) / "unlabelled.json") as handle:
            json.dump(info, handle, indent=2)
    return (features[torch.from_numpy(index)].float(), labels.astype(np.int64),
            confidence.astype(np.float32))
