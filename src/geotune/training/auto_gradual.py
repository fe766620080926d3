"""The fine-tuning candidate of `--strategy auto`, trained once: on the search's training split, early-stopped
and scored on its validation split, within a deadline; its best weights are kept on the candidate so that the
final fit reuses them (geotune.training.classify.trained_by_search) instead of training the recipe again."""

from __future__ import annotations

import copy
import time

import numpy as np


def train_finetune_candidate(scorer, candidate, deadline: float) -> None:
    """Train and score ``candidate`` (a one-split search) within ``deadline`` (time.perf_counter() seconds)."""
    import lightning.pytorch as pl
    import torch
    from lightning.pytorch.callbacks import EarlyStopping

    from ..evaluate.metrics import classification_metrics
    from ..models.classifier import build_classifier
    from .auto_budget import BestWeights, TimeLimit, decoded_once
    from .classify import train_one
    from .trainer import progress_callbacks

    started = time.perf_counter()
    cfg = scorer.cfg.model_copy(update=candidate.options)
    samples = decoded_once(scorer.dataset(cfg.image_size), cfg.cache_memory_gb, cfg.workers)
    model_config = {"backbone": cfg.backbone, "in_chans": samples.channels, "classes": scorer.classes,
                    "head": cfg.head}
    model, _ = build_classifier(model_config, cfg.pretrained, cfg.weights)
    (train_idx, val_idx), = scorer.folds
    limit, best = TimeLimit(deadline), BestWeights()
    callbacks = [limit, best, *progress_callbacks()]
    if cfg.patience:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=cfg.patience, mode="min"))
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    logits, _ = train_one(cfg, model, samples, scorer.y, np.ones(len(scorer.y), dtype=np.float32), train_idx,
                          val_idx, scorer.run_dir, quiet=True, callbacks=callbacks)
    proba = torch.softmax(logits.float(), 1).numpy()
    metrics = classification_metrics(scorer.y[val_idx], proba.argmax(1), scorer.classes)
    candidate.macro_f1, candidate.accuracy = float(metrics["macro_f1"]), float(metrics["accuracy"])
    candidate.n_val, candidate.proba, candidate.val_index = len(val_idx), proba, np.asarray(val_idx)
    candidate.trained_state = copy.deepcopy(model.state_dict())
    candidate.val_logits = logits
    candidate.seconds = candidate.cost = time.perf_counter() - started
    candidate.head_seconds = 0.0  # the final fit reuses this model
    candidate.detail = {"epochs_run": limit.epochs_run, "best_epoch": best.best_epoch,
                        "stopped_by_time_limit": limit.stopped_early, "epoch_seconds": limit.epoch_seconds}
    candidate.status = "scored"
