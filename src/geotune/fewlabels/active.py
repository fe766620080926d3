"""Active learning: which unlabelled samples to label next.

``margin`` (1 - gap between the two most probable classes) and ``entropy`` rank by uncertainty alone,
and so tend to pick near-duplicates from one confusing region. ``diverse`` keeps the most uncertain
few times n candidates and chooses among them by greedy k-center on the model's embeddings
(Sener & Savarese 2018), starting from the most uncertain, so each pick is far from those already
picked.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

METHODS = ("margin", "entropy", "diverse")


def uncertainty(proba: np.ndarray, method: str = "margin") -> np.ndarray:
    proba = np.asarray(proba, dtype=np.float64)
    if method == "entropy":
        return -(proba * np.log(np.clip(proba, 1e-12, 1.0))).sum(1)
    top = np.sort(proba, axis=1)
    return 1.0 - (top[:, -1] - top[:, -2]) if proba.shape[1] > 1 else np.zeros(len(proba))


def k_center(embeddings: np.ndarray, candidates: np.ndarray, n: int, first: int) -> list[int]:
    z = np.asarray(embeddings, dtype=np.float64)[candidates]
    z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    picked = [first]
    distance = ((z - z[first]) ** 2).sum(1)
    while len(picked) < min(n, len(candidates)):
        nxt = int(np.argmax(distance))
        picked.append(nxt)
        distance = np.minimum(distance, ((z - z[nxt]) ** 2).sum(1))
    return [int(candidates[i]) for i in picked]


def rank_pool(proba, embeddings=None, n: int = 20, method: str = "diverse", pool_factor: int = 5):
    """Indices of the ``n`` samples to label next, best first, and each one's uncertainty (margin) score."""
    from ..errors import ConfigError

    if method not in METHODS:
        raise ConfigError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if n < 1:
        raise ConfigError(f"--n must be at least 1, got {n}")
    score = uncertainty(proba, "entropy" if method == "entropy" else "margin")
    order = np.argsort(-score, kind="stable")
    n = min(n, len(order))
    if method != "diverse":
        chosen = order[:n]
    else:
        if embeddings is None:
            raise ConfigError("method 'diverse' needs embeddings")
        candidates = order[:min(len(order), max(pool_factor * n, n))]
        chosen = np.asarray(k_center(embeddings, candidates, n, first=0), dtype=np.int64)
    return chosen, score[chosen]


def suggest_to_file(model_path: str | os.PathLike, pool: str | os.PathLike, n: int = 20,
                    out: str | os.PathLike = "suggestions.csv", method: str = "diverse") -> Path:
    """Rank the unlabelled samples in ``pool`` with the model at ``model_path``; write a CSV of the top ``n``:
    rank, id, the pool's identifying columns (path or index), score, predicted class, its probability."""
    from .._atomic import atomic_file
    from ..tasks import load_model
    from ..errors import ConfigError, DataError

    if method not in METHODS:
        raise ConfigError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    model = load_model(model_path)
    if not hasattr(model, "embed"):
        raise ConfigError("suggest works with image classifiers (task classify)", model_path)
    samples = model.read(pool)
    if len(samples) == 0:
        raise DataError("holds no samples", pool)
    proba = model.predict_proba(samples, engine="torch")
    embeddings = model.embed(samples) if method == "diverse" else None
    chosen, score = rank_pool(proba, embeddings, n, method)
    columns = [c for c in samples.table if c not in ("rank", "id", "score", "predicted", "probability")]
    with atomic_file(out, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rank", "id", *columns, "score", "predicted", "probability"])
        for rank, (i, s) in enumerate(zip(chosen, score), 1):
            writer.writerow([rank, samples.ids[i], *[samples.table[c][i] for c in columns], f"{s:.4f}",
                             model.classes[int(proba[i].argmax())], f"{proba[i].max():.4f}"])
    return Path(out)
