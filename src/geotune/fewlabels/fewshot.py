"""Few-shot heads on frozen features, the method picked by a small internal validation.

With 1-20 labelled samples per class a learned head over 1280 features overfits; a class-mean
(prototype) classifier or a strongly regularised logistic head does better, and which one wins
depends on the data, so both are scored by stratified cross-validation on the labelled samples
(augmented views of a held-out sample never train its own fold). The "-pt" variants use the
power transform + centring + L2 normalisation known to make backbone features closer to Gaussian
and class means more reliable (Hu et al. 2021, "Leveraging the feature distribution in
transfer-based few-shot learning").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

METHODS = ("logistic-pt", "prototype-pt", "logistic")  # ties go to the earlier one
LINEAR_METHODS = ("prototype", "logistic")  # exactly expressible as one nn.Linear on raw features


def power_normalise(x: np.ndarray, center: np.ndarray | None) -> np.ndarray:
    """sqrt of the (non-negative part of) features, centred, unit length."""
    z = np.sqrt(np.maximum(np.asarray(x, dtype=np.float64), 0.0) + 1e-6)
    if center is not None:
        z = z - center
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)


@dataclass
class FewShotHead:
    method: str
    n_classes: int
    scores: dict = field(default_factory=dict)  # internal validation accuracy per method
    center: np.ndarray | None = None
    prototypes: np.ndarray | None = None
    scale: float = 1.0
    model: object = None

    def decision(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.method.endswith("-pt"):
            x = power_normalise(x, self.center)
        if self.method.startswith("prototype"):
            if self.method.endswith("-pt"):
                return self.scale * x @ self.prototypes.T
            d = ((x[:, None, :] - self.prototypes[None]) ** 2).sum(-1)
            return -d / self.scale
        return _full_logits(self.model, x, self.n_classes)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        logits = self.decision(x)
        logits = logits - logits.max(1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(1, keepdims=True)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.decision(x).argmax(1)

    def linear_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) with logits = x @ W.T + b, for the methods a plain linear head can carry."""
        if self.method == "prototype":
            mu = self.prototypes
            return 2 * mu / self.scale, -(mu ** 2).sum(1) / self.scale
        if self.method == "logistic":
            coef, intercept = self.model.coef_, self.model.intercept_
            if coef.shape[0] == 1 and self.n_classes == 2:  # sklearn's binary form: one logit
                return np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
            return _expand(coef, self.model.classes_, self.n_classes), _expand(intercept[:, None], self.model.classes_,
                                                                               self.n_classes)[:, 0]
        raise ValueError(f"{self.method} is not a linear head")


def _expand(rows, present, n_classes):
    """Rows for absent classes get a very low logit."""
    out = np.zeros((n_classes, rows.shape[1]))
    if rows.shape[1] == 1:
        out[:] = -1e4
    out[np.asarray(present)] = rows
    return out


def _full_logits(model, x, n_classes):
    logits = np.full((len(x), n_classes), -1e4)
    raw = model.decision_function(x)
    if raw.ndim == 1:
        logits[:, model.classes_[0]], logits[:, model.classes_[1]] = -raw / 2, raw / 2
    else:
        logits[:, model.classes_] = raw
    return logits


def _fit_one(method, x, y, w, n_classes, reference, seed) -> FewShotHead:
    from sklearn.linear_model import LogisticRegression

    head = FewShotHead(method, n_classes)
    if method.endswith("-pt"):
        ref = x if reference is None else np.concatenate([x, reference])
        head.center = np.sqrt(np.maximum(ref, 0) + 1e-6).mean(0)
        x = power_normalise(x, head.center)
    if method.startswith("prototype"):
        w = np.ones(len(y)) if w is None else w
        protos = np.zeros((n_classes, x.shape[1]))
        for c in np.unique(y):
            m = y == c
            protos[c] = (x[m] * w[m, None]).sum(0) / max(w[m].sum(), 1e-12)
        if method.endswith("-pt"):
            head.prototypes = protos / np.maximum(np.linalg.norm(protos, axis=1, keepdims=True), 1e-12)
            head.scale = 20.0  # cosine logits on unit vectors need a temperature to give usable probabilities
        else:
            head.prototypes = protos
            head.scale = max(float(((x - protos[y]) ** 2).sum(1).mean()), 1e-6)
        return head
    c = 10.0 if method.endswith("-pt") else 1.0  # unit-length inputs need a weaker penalty
    head.model = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x, y, sample_weight=w)
    return head


def fit_fewshot(features, y, views=None, weights=None, methods=METHODS, reference=None, seed: int = 0,
                n_classes: int | None = None) -> FewShotHead:
    """Pick the best of ``methods`` by stratified cross-validation on (``features``, ``y``) and refit it on all.

    ``views``: augmented copies of ``features`` (same row order), used for training only. ``reference``:
    unlabelled features of the same data, used only to centre the power-normalised features.
    With one sample in some class nothing can be validated and the first method is used.
    Note: on LANDMASS the power-normalised logistic head is the most reliable from 2 samples per class on.
    """
    from sklearn.model_selection import StratifiedKFold

    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    views = [np.asarray(v, dtype=np.float64) for v in (views or [])]
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    n_classes = n_classes or int(y.max()) + 1
    counts = np.bincount(y, minlength=n_classes)
    min_count = int(counts[counts > 0].min())
    scores = {}
    if len(methods) > 1 and min_count >= 2:
        folds = StratifiedKFold(n_splits=min(5, min_count), shuffle=True, random_state=seed)
        for method in methods:
            correct = 0
            for train, test in folds.split(x, y):
                tx = np.concatenate([x[train]] + [v[train] for v in views])
                ty = np.tile(y[train], 1 + len(views))
                tw = None if w is None else np.tile(w[train], 1 + len(views))
                head = _fit_one(method, tx, ty, tw, n_classes, reference, seed)
                correct += int((head.predict(x[test]) == y[test]).sum())
            scores[method] = correct / len(y)
        best = max(methods, key=lambda m: (scores[m], -methods.index(m)))  # ties: earlier (simpler) method
    else:
        best = methods[0]
    tx = np.concatenate([x] + views)
    ty = np.tile(y, 1 + len(views))
    tw = None if w is None else np.tile(w, 1 + len(views))
    head = _fit_one(best, tx, ty, tw, n_classes, reference, seed)
    head.scores = scores
    return head


def fit_linear_head(head_module, parts_x, parts_y, parts_w, n_views: int, mode, seed: int = 0,
                    run_dir=None) -> dict | None:
    """The `--fewshot` hook of the linear-probe strategy: set ``head_module`` (an nn.Linear) to the best
    linear few-shot head. ``parts_*``: [original samples, n_views augmented views, extra (pseudo-labelled)
    samples...]. ``mode``: "on", or "auto" (only when the smallest class has <= 20 samples). Returns what
    was chosen (also written to RUN/fewshot.json), or None when "auto" left the usual training in charge.
    """
    import json

    import torch

    from ..errors import ConfigError

    if mode not in ("auto", "on", True):
        raise ConfigError(f"--fewshot takes auto or on, got {mode!r}")
    y = np.asarray(parts_y[0])
    if not isinstance(head_module, torch.nn.Linear):
        raise ConfigError("--fewshot needs --head linear")
    counts = np.bincount(y)
    if mode == "auto" and counts[counts > 0].min() > 20:
        return None
    x = parts_x[0].double().numpy()
    views = [v.double().numpy() for v in parts_x[1:1 + n_views]]
    extra = [(px.double().numpy(), py, pw) for px, py, pw in zip(parts_x[1 + n_views:], parts_y[1 + n_views:],
                                                                 parts_w[1 + n_views:])]
    n_classes = int(head_module.out_features)
    head = fit_fewshot(x, y, views, weights=parts_w[0], methods=LINEAR_METHODS, seed=seed, n_classes=n_classes)
    if extra:  # pseudo-labelled samples join the final fit only (they are never validated on)
        all_x = np.concatenate([x] + views + [e[0] for e in extra])
        all_y = np.concatenate([np.tile(y, 1 + len(views))] + [e[1] for e in extra])
        all_w = np.concatenate([np.tile(parts_w[0], 1 + len(views))] + [e[2] for e in extra])
        scores = head.scores
        head = _fit_one(head.method, all_x, all_y, all_w, n_classes, None, seed)
        head.scores = scores
    weight, bias = head.linear_weights()
    with torch.no_grad():
        head_module.weight.copy_(torch.as_tensor(weight, dtype=head_module.weight.dtype))
        head_module.bias.copy_(torch.as_tensor(bias, dtype=head_module.bias.dtype))
    info = {"method": head.method, "internal_validation_accuracy": head.scores,
            "samples_per_class": counts.tolist()}
    if run_dir is not None:
        from .._atomic import atomic_file

        with atomic_file(run_dir / "fewshot.json") as handle:
            json.dump(info, handle, indent=2)
    return info
