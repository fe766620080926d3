"""Held-out scores of a log model: leave one group out (wells or areas) beside a random split of the same
rows, or one validation split of whole wells. Every fit is a clone of the same estimator on rows of one
shared feature table (estimator.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.base import clone

from ..config import TrainConfig
from . import costs
from . import decode as hmm
from . import progress
from .estimator import LogsClassifier
from .scoring import score
from .table import WellRows


@dataclass
class Validation:
    """What validation leaves for the final fit and the saved model: the metrics, the held-out rows and
    their probabilities (for the temperature and the costs), the CNN's epochs of the main fit, notes."""

    metrics: dict
    held_out: dict
    cv: dict | None = None
    epochs: int | None = None
    notes: list[str] = field(default_factory=list)


def _main_fit(base: LogsClassifier, data: WellRows, train, test, run_dir: Path) -> tuple[LogsClassifier, int | None]:
    """The one validated fit on the engine's full trainer (checkpoints in the run folder, --patience on the
    held-out rows, which are all labelled); the epochs it ran when it trained a CNN."""
    from ..training.lightning_fit import epochs_run

    model = clone(base).fit_rows(data, train, val_rows=test, run_dir=run_dir)
    trainer = model.engine_.trainer
    return model, (epochs_run(trainer) if trainer is not None else None)


def leave_one_group_out(base: LogsClassifier, data: WellRows, groups: np.ndarray, cfg: TrainConfig,
                        adjacency, cost) -> Validation:
    """Each group held out in turn (a group with no label has nothing to score: no fold of its own), then
    the same model on a random split of the same rows: how much a random split flatters it."""
    from ..data.splits import leave_one_group_out as folds_of, train_val_split
    from ..evaluate.metrics import summarise_folds

    y_all, classes, decode = data.y, data.classes, base.decode
    score_exclude = {str(g) for g in cfg.score_exclude}
    held_out: dict = {}
    per_group, oof, unsmoothed = {}, np.full(len(y_all), -1), []
    folds = [fold for fold in folds_of(groups) if fold[0] not in score_exclude and (y_all[fold[2]] >= 0).any()]
    for i, (name, train_idx, test_idx) in enumerate(folds, 1):
        progress.stage(f"fold {i}/{len(folds)}: holding out {name}")
        model = clone(base).fit_rows(data, train_idx)
        raw_proba = model.proba_rows(data, test_idx, decoded=False)
        proba = model.decode_rows(raw_proba, data.wells[test_idx])
        scored = y_all[test_idx] >= 0
        oof[test_idx] = proba.argmax(1)
        held_out.setdefault("rows", []).append(test_idx[scored])
        held_out.setdefault("proba", []).append(proba[scored].astype(np.float32))
        per_group[name] = score(y_all[test_idx][scored], proba.argmax(1)[scored], classes, adjacency=adjacency)
        unsmoothed.append(score(y_all[test_idx][scored], raw_proba.argmax(1)[scored], classes)["micro_f1"])
        del model  # its inputs (with this fold's estimates) need not outlive the fold
        progress.stage(f"fold {i}/{len(folds)}: {name} accuracy {per_group[name]['accuracy']:.3f}")
    cv_summary = summarise_folds(per_group, "micro_f1")
    grouped_plain = float(np.mean(unsmoothed))
    scored_rows = np.flatnonzero((y_all >= 0) & ~np.isin(groups, list(score_exclude)))
    tr, va = train_val_split(y_all[scored_rows], cfg.val_split, cfg.seed)
    extra_train = np.flatnonzero((y_all >= 0) & np.isin(groups, list(score_exclude)))
    # scattered rows are not stretches of well: no decoding here, and none in the grouped score it is set
    # against either (the grouped score with decoding is the headline)
    progress.stage("random split of the same rows (for comparison)")
    model = clone(base).fit_rows(data, np.concatenate([scored_rows[tr], extra_train]))
    random_proba = model.proba_rows(data, scored_rows[va], decoded=False)
    random_f1 = score(y_all[scored_rows[va]], random_proba.argmax(1), classes)["micro_f1"]
    if cost is not None:
        held_out["random_split_mean_cost_argmax"] = costs.mean_cost(y_all[scored_rows[va]], random_proba.argmax(1),
                                                                    cost)
    cv_summary.update({"random_split_micro_f1": random_f1, "grouped_unsmoothed_micro_f1": grouped_plain,
                       "gap_random_minus_grouped": random_f1 - grouped_plain, "smooth": base.smooth,
                       "decode": decode,
                       "macro_f1_mean": float(np.mean([m["macro_f1"] for m in per_group.values()])),
                       "accuracy_mean": float(np.mean([m["accuracy"] for m in per_group.values()])),
                       "excluded_from_scoring": sorted(score_exclude)})
    if adjacency:
        cv_summary["adjacent_accuracy_mean"] = float(np.mean([m["adjacent_accuracy"] for m in per_group.values()]))
    pooled = (oof >= 0) & (y_all >= 0)
    metrics = score(y_all[pooled], oof[pooled], classes, adjacency=adjacency)
    metrics["evaluation"] = "leave-one-group-out, out-of-fold predictions pooled"
    metrics["cv_summary"] = cv_summary
    notes = [f"random split micro F1 {random_f1:.3f} vs grouped {grouped_plain:.3f} (gap "
             f"{random_f1 - grouped_plain:+.3f}, both undecoded); grouped with {decode} decoding {cv_summary['mean']:.3f}"]
    return Validation(metrics, held_out, {"per_group": per_group, "summary": cv_summary}, notes=notes)


def validation_split(base: LogsClassifier, data: WellRows, groups: np.ndarray, cfg: TrainConfig, adjacency,
                     run_dir: Path) -> Validation:
    """One split: whole wells held out whenever there are several (a random split of depth samples
    flatters the model), else random rows."""
    from ..data.splits import train_val_split

    y_all = data.y
    rows = np.flatnonzero(y_all >= 0)
    use_groups = groups[rows] if len(np.unique(groups[rows])) >= 2 else None
    tr, va = train_val_split(y_all[rows], cfg.val_split, cfg.seed, use_groups)
    progress.stage("validation fit" + (" (held-out wells)" if use_groups is not None else " (random rows)"))
    model, epochs = _main_fit(base, data, rows[tr], rows[va], run_dir)
    proba = model.proba_rows(data, rows[va], decoded=False)
    if use_groups is not None:  # held-out wells are whole stretches of well: decoded
        if base.decode == "hmm":  # as before the split: transitions from the rows the members learnt from
            known = np.full(len(y_all), -1)
            known[model.train_rows_] = y_all[model.train_rows_]
            model.transitions_, model.priors_ = hmm.transitions(known, data.wells, len(data.classes))
        proba = model.decode_rows(proba, data.wells[rows[va]])
    metrics = score(y_all[rows[va]], proba.argmax(1), data.classes, proba, adjacency)
    metrics["evaluation"] = "grouped validation split" if use_groups is not None else "random validation split"
    return Validation(metrics, {"rows": [rows[va]], "proba": [proba]}, epochs=epochs)


def patience_epochs(base: LogsClassifier, data: WellRows, groups: np.ndarray, cfg: TrainConfig,
                    run_dir: Path) -> int | None:
    """With --cv logo, --patience picks the CNN's epochs on a validation split of whole wells, as without it."""
    from ..data.splits import train_val_split

    rows = np.flatnonzero(data.y >= 0)
    tr, va = train_val_split(data.y[rows], cfg.val_split, cfg.seed, groups[rows])
    return _main_fit(base, data, rows[tr], rows[va], run_dir)[1]
