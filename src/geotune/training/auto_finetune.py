"""Fine-tuning candidates of `--strategy auto` on tiny data (a class under ``auto.TINY_CLASS`` samples).

Probes on frozen features are cheap but cap what tiny data can give: on F3 fault patches with 5 % of the
labels `--strategy full` (224 px) once beat the best probe (0.811 against 0.768 fault F1, one draw; over five
draws it averaged 0.584 against 0.604 and swung 0.51-0.70). So after the probes, full fine-tuning of a backbone at
the small input size near the patches' own (cheap: 45 px patches train at 64 px) is scored on the very same
cross-validation folds, when the budget holds it (the folds and the final fit on every label). There is no
validation split to stop on, so it trains a fixed number of epochs, and the final fit repeats them on all
labels. The folds stop early when the candidate is clearly behind the best probe on the samples seen so far,
or when the throughput measured on the first fold says the rest cannot fit in the budget.
"""

from __future__ import annotations

import copy
import time

import numpy as np

from ..config import TrainConfig
from .auto import COST_PER_PIXEL, Candidate, candidate_sizes, short

# Fixed (no validation split to stop on; the final fit on every label trains as many) and a learning rate
# below the default 1e-3: on F3 5 % (draw 0) the final fit's test fault F1 at 1e-3 swung between 0.58 and 0.79
# from one even epoch to the next, at 3e-4 it rose steadily to 0.76 at epoch 12 (benchmarks/results/strategy_auto.md).
TINY_EPOCHS = 12
TINY_LR = 3e-4
# A training step costs about this many forward passes (Lite0, 64 px, batch 32: 2.8 s against 0.7 s here).
TRAIN_PASS_COST = 4.0
# The candidate's folds stop once its macro F1 on the samples seen so far (at least two folds) is this far
# below the best probe's on the same samples: about three misclassified samples of 60.
CLEARLY_BEHIND = 0.10
MIN_FOLDS_BEFORE_STOPPING = 2


def tiny_candidate(cfg: TrainConfig, probes: list[Candidate], side: int, imbalanced: bool) -> Candidate | None:
    """Full fine-tuning at the small size, of the backbone whose probe scored best there; None when the user
    chose a probe-only path (few-shot head, unlabelled data, augmented views) or nothing was scored."""
    from ..models.backbones import spec_for

    given = cfg.model_fields_set
    if {"fewshot", "unlabelled", "augment_views"} & given:
        return None
    scored = [c for c in probes if c.status == "scored"]
    if not scored:
        return None
    if "image_size" in given and cfg.image_size:
        size = cfg.image_size
    else:
        size = candidate_sizes(side, spec_for(scored[0].options["backbone"]).input_size)[0]
    at_size = [c for c in scored if c.options["image_size"] == size] or scored
    backbone = max(at_size, key=lambda c: c.macro_f1).options["backbone"]
    options = {"strategy": "full", "backbone": backbone, "image_size": size,
               "epochs": cfg.epochs if "epochs" in given else TINY_EPOCHS,
               "lr": cfg.lr if "lr" in given else TINY_LR, "patience": None}
    if imbalanced and "class_weights" not in given:
        options["class_weights"] = True
    name = (f"{short(backbone)} {size}px, full fine-tuning, {options['epochs']} epochs"
            + (", class weights" if options.get("class_weights") else ""))
    return Candidate(name, options, "fine-tune")


def estimate_seconds(scorer, candidate: Candidate) -> float:
    """Seconds the folds and the final fit on every label should take, from the frozen-feature throughput
    measured on the probes (0 before any measurement)."""
    if scorer.seconds_per_pixel is None:
        return 0.0
    o = candidate.options
    per_pass = COST_PER_PIXEL.get(o["backbone"], 1.5) * o["image_size"] ** 2 * scorer.seconds_per_pixel
    folds = sum(len(train) * TRAIN_PASS_COST + len(val) for train, val in scorer.folds)
    n = len(scorer.y)
    final = n * TRAIN_PASS_COST + n * scorer.cfg.val_split  # the final fit still validates on a share each epoch
    return o["epochs"] * per_pass * (folds + final)


def fit_fold(scorer, cand_cfg: TrainConfig, samples, train_idx, val_idx, built: dict) -> np.ndarray:
    """Class probabilities of ``val_idx`` after fine-tuning, on ``train_idx``, a copy of the pretrained model
    (built on the first fold and kept in ``built``)."""
    import lightning.pytorch as pl
    import torch

    from ..models.classifier import build_classifier
    from .classify import train_one

    if "model" not in built:
        model_config = {"backbone": cand_cfg.backbone, "in_chans": samples.channels, "classes": scorer.classes,
                        "head": cand_cfg.head}
        built["model"], _ = build_classifier(model_config, cand_cfg.pretrained, cand_cfg.weights)
    pl.seed_everything(scorer.cfg.seed, workers=True, verbose=False)
    model = copy.deepcopy(built["model"])
    logits, _ = train_one(cand_cfg, model, samples, scorer.y, np.ones(len(scorer.y), dtype=np.float32),
                          train_idx, val_idx, scorer.run_dir, quiet=True)
    return torch.softmax(logits.float(), 1).numpy()


def score(scorer, candidate: Candidate, rival: Candidate, deadline: float) -> None:
    """Score ``candidate`` on ``scorer``'s folds, fold by fold; stop when it is clearly behind ``rival`` (the
    best probe, on the same samples) or when the rest would end after ``deadline`` (time.perf_counter())."""
    from ..evaluate.metrics import classification_metrics

    started = time.perf_counter()
    cand_cfg = scorer.cfg.model_copy(update=candidate.options)
    samples = scorer.dataset(cand_cfg.image_size)
    built: dict = {}
    y, n_classes = scorer.y, len(scorer.classes)
    proba = np.zeros((len(y), n_classes), dtype=np.float64)
    seen = np.zeros(len(y), dtype=bool)
    rival_proba = np.zeros_like(proba)
    rival_proba[rival.val_index] = rival.proba
    for done, (train_idx, val_idx) in enumerate(scorer.folds, start=1):
        proba[val_idx] = fit_fold(scorer, cand_cfg, samples, train_idx, val_idx, built)
        seen[val_idx] = True
        if done == len(scorer.folds):
            break
        index = np.flatnonzero(seen)
        mine = _macro_f1(y[index], proba[index], scorer.classes)
        theirs = _macro_f1(y[index], rival_proba[index], scorer.classes)
        per_fold = (time.perf_counter() - started) / done
        rest = per_fold * (len(scorer.folds) - done) + per_fold * len(y) / max(len(train_idx), 1)
        how_far = f"after {done} of {len(scorer.folds)} folds"
        if done >= MIN_FOLDS_BEFORE_STOPPING and mine < theirs - CLEARLY_BEHIND:
            candidate.status = (f"stopped {how_far}: macro F1 {mine:.3f} against {theirs:.3f} for "
                                f"{rival.name} on the same {len(index)} samples")
            candidate.seconds = time.perf_counter() - started
            return
        if time.perf_counter() + rest > deadline:
            candidate.status = f"skipped: budget ({how_far}, {per_fold:.0f} s each)"
            candidate.seconds = time.perf_counter() - started
            return
    index = np.flatnonzero(seen)
    metrics = classification_metrics(y[index], proba[index].argmax(1), scorer.classes)
    candidate.macro_f1, candidate.accuracy = float(metrics["macro_f1"]), float(metrics["accuracy"])
    candidate.n_val, candidate.proba, candidate.val_index = len(index), proba[index], index
    candidate.seconds = candidate.head_seconds = candidate.cost = time.perf_counter() - started
    candidate.status = "scored"


def _macro_f1(y: np.ndarray, proba: np.ndarray, classes: list) -> float:
    from ..evaluate.metrics import classification_metrics

    return float(classification_metrics(y, proba.argmax(1), classes)["macro_f1"])
