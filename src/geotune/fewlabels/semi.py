"""Semi-supervised learning from unlabelled data: pseudo-labels by label propagation on a feature graph.

Labels spread from the labelled samples over a k-nearest-neighbour graph of all (labelled and
unlabelled) frozen features, so an unlabelled sample takes the label of the region of feature space it
is connected to, not just of the nearest class mean (Zhou et al. 2004, "Learning with local and global
consistency"; Iscen et al. 2019, "Label propagation for deep semi-supervised learning"). Each
pseudo-label is weighted by its confidence, one minus the normalised entropy of its propagated scores.

A cluster that holds no labelled sample is reached through whichever class happens to touch it; that
class then swells well past its expected share. When a class's share departs from what the labels'
class proportions predict by more than ``BALANCE_TOLERANCE``, the labels are instead re-estimated by
class-balanced prototype refinement (soft k-means on power-normalised features with the class sizes held
to the expected proportions by Sinkhorn scaling, as in Hu et al. 2021, "PT-MAP"). Both assume the
unlabelled data has roughly the labelled data's class proportions, as when labels are drawn per class or
stratified; the balanced labelling is kept only if it agrees with the labels at least as well as
propagation's (reverse validation). Where there are two or more labels per class, heads with and without
pseudo-labels are first compared on held-out labels, and none are used where they score lower. The report
says which was used and how many samples each class received.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .fewshot import power_normalise

DEFAULT_THRESHOLD = 0.0  # minimum confidence of a pseudo-label; all are used by default, weighted by confidence
NEIGHBOURS = 10
ALPHA = 0.99  # how far labels spread along the graph against how much they stick to the labelled samples
BALANCE_TOLERANCE = 0.2
SCALE = 20.0  # cosine-logit temperature, the same as the prototype-pt head's


def knn_graph(z: np.ndarray, neighbours: int = NEIGHBOURS, chunk_elements: int = 2 ** 24):
    """Symmetric sparse graph of cosine similarity cubed to each row's nearest neighbours (rows unit length).
    Built in row chunks of at most ``chunk_elements`` similarities (128 MiB), so memory stays bounded as n grows."""
    from scipy.sparse import csr_matrix

    n = len(z)
    chunk = max(1, min(n, chunk_elements // max(n, 1)))
    k = min(neighbours, n - 1)
    rows, cols, vals = [], [], []
    for start in range(0, n, chunk):
        s = z[start:start + chunk] @ z.T
        s[np.arange(len(s)), np.arange(start, start + len(s))] = -np.inf  # no self-loops
        nb = np.argpartition(-s, k - 1, axis=1)[:, :k]
        rows.append(np.repeat(np.arange(start, start + len(s)), k))
        cols.append(nb.ravel())
        vals.append(np.maximum(np.take_along_axis(s, nb, 1), 0.0).ravel() ** 3)  # cube: trust close pairs most
    graph = csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    return graph + graph.T


def propagate(z_labelled, y, z_unlabelled, classes) -> np.ndarray:
    """Class scores (n_unlabelled x len(classes), rows summing to 1 or 0 where no label reached) by solving
    (I - alpha S) F = Y on the normalised graph; each class's column is scaled to unit mass first, so a class
    with more labelled samples does not win by weight of numbers."""
    from scipy.sparse import diags, identity
    from scipy.sparse.linalg import cg

    z = np.concatenate([z_labelled, z_unlabelled])
    graph = knn_graph(z)
    degree = np.asarray(graph.sum(1)).ravel()
    inv_sqrt = diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
    system = identity(len(z)) - ALPHA * (inv_sqrt @ graph @ inv_sqrt)
    scores = np.zeros((len(z), len(classes)))
    for j, c in enumerate(classes):
        seed = (y == c).astype(np.float64)
        scores[:, j] = cg(system, np.concatenate([seed, np.zeros(len(z_unlabelled))]), rtol=1e-6, maxiter=300)[0]
    scores = np.maximum(scores[len(y):], 0.0)
    scores /= np.maximum(scores.sum(0, keepdims=True), 1e-12)
    return scores / np.maximum(scores.sum(1, keepdims=True), 1e-300)


def sinkhorn(logits: np.ndarray, column_sums: np.ndarray, iterations: int = 100) -> np.ndarray:
    """Soft assignment with rows summing to 1 and columns to ``column_sums``."""
    p = np.exp(logits - logits.max(1, keepdims=True))
    for _ in range(iterations):
        p *= column_sums / np.maximum(p.sum(0), 1e-300)
        p /= np.maximum(p.sum(1, keepdims=True), 1e-300)
    return p


def balanced_refinement(z_labelled, y_index, z_unlabelled, proportions, start, steps: int = 30,
                        step: float = 0.2) -> np.ndarray:
    """Soft assignment of the unlabelled samples to class prototypes with class totals held to
    ``proportions``; prototypes start from the labelled samples plus the ``start`` assignment and move a
    ``step`` of the way to the new weighted means each iteration."""
    onehot = np.eye(len(proportions))[y_index]
    totals = proportions * len(z_unlabelled)

    def means(p):
        return (onehot.T @ z_labelled + p.T @ z_unlabelled) / (onehot.sum(0) + p.sum(0))[:, None]

    prototypes = means(start)
    for _ in range(steps):
        unit = prototypes / np.maximum(np.linalg.norm(prototypes, axis=1, keepdims=True), 1e-12)
        p = sinkhorn(SCALE * z_unlabelled @ unit.T, totals)
        prototypes += step * (means(p) - prototypes)
    return p


def reverse_validation(z_labelled, y, z_unlabelled, labels, neighbours: int = NEIGHBOURS) -> float:
    """Balanced accuracy on the labelled samples of a similarity-weighted k-nearest-neighbour vote among the
    pseudo-labelled samples alone: a labelling that contradicts the labels scores low (Zhong et al. 2010)."""
    k = min(neighbours, len(z_unlabelled))
    s = z_labelled @ z_unlabelled.T
    nb = np.argpartition(-s, k - 1, axis=1)[:, :k]
    votes = np.zeros((len(y), int(max(labels.max(), y.max())) + 1))
    rows = np.repeat(np.arange(len(y)), k)
    np.add.at(votes, (rows, labels[nb.ravel()]), np.maximum(np.take_along_axis(s, nb, 1), 0.0).ravel())
    predicted = votes.argmax(1)
    return float(np.mean([(predicted[y == c] == c).mean() for c in np.unique(y)]))


def label_unlabelled(x, y, u, classes):
    """(labels, confidences, reached mask, info) for the unlabelled features ``u`` from the labelled ``x, y``."""
    center = np.sqrt(np.maximum(np.concatenate([x, u]), 0.0) + 1e-6).mean(0)
    zx, zu = power_normalise(x, center), power_normalise(u, center)
    expected = np.array([(y == c).mean() for c in classes])
    p = propagate(zx, y, zu, classes)
    reached = p.sum(1) > 0
    labels = p.argmax(1)
    share = np.bincount(labels[reached], minlength=len(classes)) / max(int(reached.sum()), 1)
    entropy = -(p * np.log(np.maximum(p, 1e-300))).sum(1)
    confidence = 1.0 - entropy / np.log(len(classes))
    info = {"method": "label propagation",
            "expected_share": {int(c): round(float(e), 4) for c, e in zip(classes, expected)},
            "propagated_share": {int(c): round(float(v), 4) for c, v in zip(classes, share)}}
    if np.abs(share / expected - 1).max() > BALANCE_TOLERANCE and reached.any():
        # a class swelled: perhaps a cluster with no label went to the wrong class; the balanced labelling
        # is taken only if it agrees with the labels at least as well as propagation's does
        q = balanced_refinement(zx, np.searchsorted(classes, y), zu, expected, np.eye(len(classes))[labels])
        y_index = np.searchsorted(classes, y)
        kept = reverse_validation(zx, y_index, zu[reached], labels[reached])
        balanced = reverse_validation(zx, y_index, zu, q.argmax(1))
        info["reverse_validation"] = {"propagation": round(kept, 4), "balanced_refinement": round(balanced, 4)}
        if balanced >= kept:
            info["method"] = f"class-balanced prototype refinement (propagated shares off by > {BALANCE_TOLERANCE:.0%})"
            labels, confidence, reached = q.argmax(1), q.max(1), np.ones(len(u), bool)
    return classes[labels], confidence, reached, info


def capped_to_shares(keep, labels, confidence, classes, shares):
    """The accepted samples, with each class cut to its most confident ``share x len(keep)``: a class that
    swelled keeps the samples most surely its own, and the pseudo-labels keep the labels' class balance."""
    out = []
    for c, share in zip(classes, shares):
        mine = keep[labels[keep] == c]
        out.append(mine[np.argsort(-confidence[mine], kind="stable")][:int(np.ceil(share * len(keep)))])
    return np.sort(np.concatenate(out))


def _validated_gain(x, y, u, classes, methods, seed) -> dict:
    """Macro F1 on held-out labelled samples (stratified folds) of a few-shot head fitted on the rest of the
    labels, without and with the pseudo-labels that those labels give the unlabelled data. (F1, not
    balanced accuracy: pseudo-labels that swell a rare class raise its recall and cost its precision.)"""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from .fewshot import fit_fewshot

    min_count = min(int((y == c).sum()) for c in classes)
    folds = StratifiedKFold(n_splits=min(5, min_count), shuffle=True, random_state=seed)
    predicted = {"without": np.zeros(len(y), np.int64), "with": np.zeros(len(y), np.int64)}
    n_classes = int(classes.max()) + 1
    for train, held in folds.split(x, y):
        alone = fit_fewshot(x[train], y[train], methods=methods, reference=u, seed=seed, n_classes=n_classes)
        predicted["without"][held] = alone.predict(x[held])
        labels, confidence, reached, _ = label_unlabelled(x[train], y[train], u, classes)
        used = capped_to_shares(np.where(reached)[0], labels, confidence, classes,
                                np.array([(y[train] == c).mean() for c in classes]))
        joined = fit_fewshot(np.concatenate([x[train], u[used]]), np.concatenate([y[train], labels[used]]),
                             weights=np.concatenate([np.ones(len(train)), confidence[used]]), methods=methods,
                             reference=u, seed=seed, n_classes=n_classes)
        predicted["with"][held] = joined.predict(x[held])
    return {k: round(float(f1_score(y, v, labels=classes, average="macro")), 4) for k, v in predicted.items()}


def pseudo_label(train_features, train_y, unlabelled_features, threshold: float = DEFAULT_THRESHOLD,
                 validate: bool = True, methods=("logistic-pt",), seed: int = 0):
    """Return (indices into ``unlabelled_features``, pseudo-labels, confidences, info) of the accepted
    samples: those whose confidence is at least ``threshold``. ``info`` says which method labelled them and
    the class shares expected from the labels and given by propagation. With ``validate`` and at least two
    labels per class, a head (``methods``) with and without pseudo-labels is scored on held-out labels first,
    and no pseudo-labels are returned where they score lower."""
    x = np.asarray(train_features, dtype=np.float64)
    y = np.asarray(train_y, dtype=np.int64)
    u = np.asarray(unlabelled_features, dtype=np.float64)
    classes = np.unique(y)
    none = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    if len(u) == 0 or len(classes) < 2:
        return (*none, {"method": "none (no unlabelled samples or a single class)"})
    info = {}
    if validate and min(int((y == c).sum()) for c in classes) >= 2:
        info["internal_validation_macro_f1"] = _validated_gain(x, y, u, classes, methods, seed)
        scores = info["internal_validation_macro_f1"]
        if scores["with"] < scores["without"]:
            return (*none, {**info, "method": "none (pseudo-labels scored lower on held-out labels)"})
    labels, confidence, reached, how = label_unlabelled(x, y, u, classes)
    keep = np.where(reached & (confidence >= threshold))[0]
    keep = capped_to_shares(keep, labels, confidence, classes, np.array([(y == c).mean() for c in classes]))
    return keep.astype(np.int64), labels[keep], confidence[keep], {**how, **info}


def pseudo_label_features(cfg, model, train_features, train_y, run_dir, scaling: str | None = None):
    """The `--unlabelled` hook of the linear-probe strategy: (features, labels, weights) of the
    pseudo-labelled samples; writes RUN/unlabelled.json with how many were read and used."""
    import torch

    from .._atomic import atomic_file
    from ..data.samples import open_dataset
    from ..errors import DataError
    from ..training.features import cached_features, features_cache_key
    from ..models.backbones import spec_for

    size = cfg.image_size or spec_for(cfg.backbone).input_size
    channels = int(model.normalize.mean.shape[1])
    samples = open_dataset(cfg.unlabelled, image_size=size, require_labels=False, scaling=scaling,
                           channels=channels)
    if samples.channels != channels:
        raise DataError(f"has {samples.channels} channel(s) but the labelled data has {channels}", cfg.unlabelled)
    cache_dir = Path(run_dir) / "cache" if run_dir is not None else None
    key = features_cache_key(cfg, samples)
    features = cached_features(model, samples, cache_dir, key, progress="features of the unlabelled data",
                               workers=cfg.workers)
    threshold = float(DEFAULT_THRESHOLD if cfg.pseudo_threshold is None else cfg.pseudo_threshold)
    y = np.asarray(train_y)
    n_classes = int(model.head.out_features) if hasattr(model.head, "out_features") else int(y.max()) + 1
    index, labels, confidence, how = pseudo_label(train_features.numpy(), y, features.numpy(), threshold,
                                                  methods=("logistic",), seed=cfg.seed)
    info = {"source": str(cfg.unlabelled), "n_unlabelled": len(samples), "n_used": int(len(index)),
            "threshold": threshold, "used_per_class": np.bincount(labels, minlength=n_classes).tolist(), **how}
    if run_dir is not None:
        with atomic_file(Path(run_dir) / "unlabelled.json") as handle:
            json.dump(info, handle, indent=2)
    return (features[torch.from_numpy(index)].float(), labels.astype(np.int64),
            confidence.astype(np.float32))
