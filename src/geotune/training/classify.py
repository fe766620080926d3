"""Fine-tune an image classifier: data -> split -> strategy -> validation metrics -> RUN/model.

Strategies: ``linear-probe`` (backbone frozen; its features computed once and cached, epochs train only
the head), ``gradual`` (head first, then blocks unfrozen from the top with smaller learning rates lower
down) and ``full``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Subset, TensorDataset

from .. import modeldir
from ..config import TrainConfig
from ..data.classify_datamodule import ClassificationDataModule, plain_worker_errors
from ..data.samples import SampleDataset, class_names, open_dataset
from ..data.splits import leave_one_group_out, train_val_split
from ..evaluate.metrics import classification_metrics, summarise_folds
from ..models.backbones import spec_for
from ..models.classifier import build_classifier
from .calibration import fit_temperature
from .ddp import ddp_agreement
from .features import cache_key, cached_features, feature_device, features_cache_key, sample_batches
from .modules import FineTuneModule, GradualUnfreeze, HeadModule, class_weight_tensor
from .trainer import make_trainer, resume_checkpoint
from .tta import settle_tta


def encode(labels: np.ndarray, classes: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    return np.asarray([index[str(v)] for v in labels], dtype=np.int64)


def fit(cfg: TrainConfig) -> dict:
    with plain_worker_errors():  # pixels are decoded in DataLoader workers: a bad file surfaces there
        if cfg.strategy == "auto":  # search recipes within --time-budget, then train the chosen one
            from .auto import fit_auto

            return fit_auto(cfg, _fit_classifier)
        return _fit_classifier(cfg)


def _fit_classifier(cfg: TrainConfig, search=None) -> dict:
    """``search``: what --strategy auto found (geotune.training.auto.Search), recorded with the metrics."""
    import lightning.pytorch as pl

    run_dir = Path(cfg.out)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    spec = spec_for(cfg.backbone)
    size = cfg.image_size or spec.input_size
    samples = open_dataset(cfg.data, cfg.labels, size, group_by=cfg.group_by)  # lazy: pixels decoded per batch
    if cfg.groups:
        from ..data.arrays import read_groups

        samples.groups = read_groups(cfg.groups, len(samples))
    classes = class_names(samples.labels, cfg.data)
    y = encode(samples.labels, classes)
    model_config = {"task": "classify", "backbone": cfg.backbone, "in_chans": samples.channels, "classes": classes,
                    "head": cfg.head, "image_size": size, "scaling": samples.scaling, "strategy": cfg.strategy,
                    "jpeg_draft": bool(getattr(samples, "jpeg_draft", False))}
    model, source, note = _build_with_recipe_fallback(cfg, model_config)
    model_config["mean"] = model.normalize.mean.flatten().tolist()
    model_config["std"] = model.normalize.std.flatten().tolist()
    train_idx, val_idx = train_val_split(y, cfg.val_split, cfg.seed, samples.groups)
    if search is not None and search.cross_validated:  # tiny data: scored by CV, so train on every label
        train_idx = np.arange(len(y))
    sample_weight = np.ones(len(y), dtype=np.float32)
    summary: dict = {"weights_source": source}
    if note:
        summary["note"] = note

    if cfg.noisy_labels:
        from ..fewlabels.noise import apply_noise_option

        sample_weight, summary["noisy_labels"] = apply_noise_option(cfg, model, samples, y, train_idx, run_dir)
    if cfg.cv == "logo":
        summary["cv"] = leave_one_group_out_scores(cfg, model, samples, y, classes, run_dir, sample_weight)

    reused = trained_by_search(search, val_idx, cfg)
    if reused is not None:  # the search trained this very recipe on this split: keep its model
        model.load_state_dict(reused.trained_state)
        val_logits, trainer = reused.val_logits, None
        summary["final_fit"] = ("the search's fine-tuned model (trained once, early-stopped on the validation split)"
                                if reused.stage == "fine-tune" else "the search's probe (trained once)")
    else:
        val_logits, trainer = train_one(cfg, model, samples, y, sample_weight, train_idx, val_idx, run_dir,
                                        semi_supervised=True)
    y_val = torch.from_numpy(y[val_idx])
    temperature = fit_temperature(val_logits, y_val) if cfg.calibrate else 1.0
    proba = torch.softmax(val_logits / temperature, dim=1).numpy()
    tta_record = None
    if trainer is None or trainer.global_rank == 0:
        requested = tta_request(cfg, search)
        over_budget = cfg.tta == "auto" and requested == "off" and search is not None and not search.cross_validated
        cfg.tta, tta_record, tta_proba = settle_tta(requested, model, Subset(samples, val_idx), y[val_idx],
                                                    temperature, cfg.workers)
        if over_budget:
            tta_record["note"] = "not measured: no time left in the budget"
        proba = proba if tta_proba is None else tta_proba
    metrics = classification_metrics(y_val.numpy(), proba.argmax(1), classes, proba)
    if tta_record is not None:
        metrics["tta"] = tta_record
    grouped_by = cfg.group_by or (Path(cfg.groups).name if cfg.groups else None)
    metrics["evaluated_on"] = "validation split" + (f" (grouped by {grouped_by})" if grouped_by else "")
    if samples.groups is not None:
        metrics["held_out_groups"] = sorted({str(g) for g in np.asarray(samples.groups)[val_idx]})
    if cfg.calibrate:
        raw = torch.softmax(val_logits, dim=1).numpy()
        before = classification_metrics(y_val.numpy(), raw.argmax(1), classes, raw)
        metrics["ece_before_calibration"] = before["ece"]
        metrics["log_loss_before_calibration"] = before["log_loss"]
        metrics["calibration_note"] = "temperature fitted on this same validation split: ECE after is optimistic"
    if "cv" in summary:
        metrics["cv"] = summary["cv"]
    if search is not None:
        metrics = search.finish(metrics, summary)
    for name, used in (("unlabelled", cfg.unlabelled), ("fewshot", cfg.fewshot)):  # fewlabels reports
        if used and cfg.strategy == "linear-probe" and (run_dir / f"{name}.json").is_file():
            metrics[name] = summary[name] = json.loads((run_dir / f"{name}.json").read_text())
    if trainer is not None and trainer.world_size > 1:
        summary["ddp"] = ddp_agreement(trainer, model)
        metrics["ddp"] = summary["ddp"]
        if trainer.global_rank != 0:
            return {**summary, "model_dir": str(run_dir / "model"), "metrics": metrics, "rank": trainer.global_rank}

    model_config.update({
        "temperature": temperature,
        "tta": cfg.tta,
        "weights_source": source,
        "n_train": int(len(train_idx)),
        "n_val": int(len(val_idx)),
        "train": cfg.to_dict(),
    })
    files = {}
    history = run_dir / "logs" / "metrics.csv"
    if history.is_file():
        files["history.csv"] = history.read_bytes()
    if not (search is not None and search.cross_validated):  # cross-validated runs trained on every sample
        # the split itself, so that reports show the samples training held out instead of re-deriving them
        files[modeldir.VALIDATION_SPLIT] = json.dumps({
            "n_samples": int(len(y)), "val_indices": [int(i) for i in val_idx],
            "val_ids": [str(samples.ids[i]) for i in val_idx]}).encode()
    folder = modeldir.save(run_dir / "model", model_config, model.state_dict(), metrics, files)
    cfg.to_yaml(run_dir / "run.yaml")
    return {**summary, "model_dir": str(folder), "metrics": metrics}


def trained_by_search(search, val_idx, cfg=None):
    """The search's chosen candidate when it kept its trained model and was validated on ``val_idx`` (the final
    fit's own split), so that training it again would repeat the same run; else None. Not where the final fit
    trains differently from the search's scoring: pseudo-labels, label-noise weights, or a few-shot head the
    user asked for (whose report the final fit writes)."""
    chosen = None if search is None or search.cross_validated else search.chosen
    if chosen is None or getattr(chosen, "trained_state", None) is None:
        return None
    if cfg is not None and (cfg.unlabelled or cfg.noisy_labels or "fewshot" in getattr(search, "given", ())):
        return None
    return chosen if np.array_equal(np.sort(chosen.val_index), np.sort(val_idx)) else None


def tta_request(cfg, search) -> str:
    """The test-time augmentation to settle: ``auto`` is measured only under --strategy auto with a held-out
    validation split (cross-validated tiny data has none left) and time left in the budget to measure it;
    with fixed strategies it means none."""
    if cfg.tta != "auto":
        return cfg.tta
    if search is None or search.cross_validated or not search.tta_fits():  # not measured: none
        return "off"
    return "auto"


def _build_with_recipe_fallback(cfg, model_config):
    """The seed recipe names ResNet50; where its weights cannot be had, use the offline backbone and say so."""
    from ..errors import WeightsNotFoundError

    try:
        model, source = build_classifier(model_config, cfg.pretrained, cfg.weights)
        return model, source, None
    except WeightsNotFoundError as exc:
        if cfg.recipe != "seed" or cfg.backbone_explicit or cfg.backbone != "resnet50":
            raise
        fallback = "tf_efficientnet_lite0"
        cfg.backbone = model_config["backbone"] = fallback
        model, source = build_classifier(model_config, cfg.pretrained, cfg.weights)
        note = (f"seed recipe: ResNet50 ImageNet weights are not available here ({str(exc).split('. To get')[0]}); "
                f"used {fallback} with {source} instead")
        return model, source, note


def train_one(cfg, model, samples: SampleDataset, y, sample_weight, train_idx, val_idx, run_dir: Path | None,
              semi_supervised: bool = False, quiet: bool = False, callbacks=()):
    """Train ``model`` in place with the configured strategy; return (validation logits, trainer).
    ``callbacks``: extra Lightning callbacks for the fine-tuning strategies (auto's time limit, best weights)."""
    n_classes = int(y.max()) + 1
    class_weights = class_weight_tensor(y[train_idx], n_classes) if cfg.class_weights else None
    if cfg.strategy == "linear-probe":
        return _linear_probe(cfg, model, samples, y, sample_weight, train_idx, val_idx, run_dir, class_weights,
                             semi_supervised, quiet)
    if cfg.strategy == "gradual" and cfg.activation_cache:
        from ..models.staging import split_stages

        stages = split_stages(model.backbone)
        if stages is not None:
            return _cached_gradual(cfg, model, stages, samples, y, sample_weight, train_idx, val_idx, run_dir,
                                   class_weights, quiet, callbacks)
    settle_precision(cfg, model, samples, train_idx)
    data = ClassificationDataModule.from_dataset(samples, y, sample_weight, train_idx, val_idx, cfg.batch_size,
                                                 cfg.workers, cfg.seed)
    module = FineTuneModule(model, cfg.lr, cfg.optimizer, cfg.weight_decay, cfg.strategy, cfg.lr_decay,
                            cfg.unfreeze_every, cfg.seed, cfg.augment, class_weights)
    trainer = _fit(cfg, module, data.train, data.val, run_dir, [GradualUnfreeze(), *callbacks], quiet)
    return _plain_logits(model, Subset(samples, val_idx), workers=cfg.workers), trainer


def _cached_gradual(cfg, model, stages, samples, y, sample_weight, train_idx, val_idx, run_dir, class_weights,
                    quiet, callbacks=()):
    """Gradual unfreezing with the frozen part of the backbone run once per unfreezing step (see
    CachedGradualModule); augmentation is limited to cached horizontal flips. The activations spill to
    RUN/cache/ above ``cache_memory_gb`` and are deleted when training ends."""
    from .modules import CachedGradualModule

    settle_precision(cfg, model, samples, train_idx)
    budget = float(cfg.cache_memory_gb) * 1e9
    module = CachedGradualModule(model, samples, stages, lr=cfg.lr, optimizer=cfg.optimizer,
                                 weight_decay=cfg.weight_decay, strategy=cfg.strategy, lr_decay=cfg.lr_decay,
                                 unfreeze_every=cfg.unfreeze_every, seed=cfg.seed, augment=cfg.augment,
                                 class_weights=class_weights, cache_dir=None if run_dir is None else run_dir / "cache",
                                 memory_budget=budget, workers=cfg.workers)
    labels, weights = torch.from_numpy(y), torch.from_numpy(sample_weight)
    train = TensorDataset(torch.from_numpy(train_idx), labels[train_idx], weights[train_idx])
    val = TensorDataset(torch.from_numpy(val_idx), labels[val_idx], torch.ones(len(val_idx)))
    try:
        trainer = _fit(cfg, module, train, val, run_dir, [GradualUnfreeze(), *callbacks], quiet)
    finally:
        module.release_cache()
    return _plain_logits(model, Subset(samples, val_idx), workers=cfg.workers), trainer


def settle_precision(cfg, model, samples, train_idx) -> None:
    """Set ``cfg.precision`` to what this machine trains fastest in (see precision.choose_precision): on a CPU
    with native bf16 a short probe on a few training samples decides; elsewhere nothing is timed. The choice is
    recorded in the run's config."""
    from .precision import choose_precision, step_timer

    def batch():
        return torch.stack([torch.as_tensor(samples[int(i)]) for i in train_idx[:8]])

    def probe():
        return step_timer(model, batch())()

    chosen = choose_precision(cfg.precision, "precision" in cfg.model_fields_set, cfg.accelerator, probe)
    if chosen != cfg.precision:
        cfg.precision = chosen


def _plain_logits(model, x, batch_size: int = 64, workers: int = 0) -> torch.Tensor:
    model.cpu().eval()
    with torch.no_grad():
        return torch.cat([model(batch.contiguous(memory_format=torch.channels_last))
                          for batch in sample_batches(x, batch_size, workers)])


def _linear_probe(cfg, model, samples, y, sample_weight, train_idx, val_idx, run_dir, class_weights,
                  semi_supervised, quiet):
    cache_dir = run_dir / "cache" if run_dir is not None else None
    base_key = features_cache_key(cfg, samples)
    progress = None if quiet else "computing backbone features once"
    device = feature_device(cfg.accelerator)
    features = cached_features(model, samples, cache_dir, base_key, progress=progress, device=device,
                               workers=cfg.workers)
    train_x, train_y, train_w = [features[train_idx]], [y[train_idx]], [sample_weight[train_idx]]
    for view in range(cfg.augment_views):
        seed = cfg.seed * 1000 + view + 1
        key = cache_key(base_key, "view", seed, np.asarray(train_idx))
        train_x.append(cached_features(model, Subset(samples, train_idx), cache_dir, key, augment_seed=seed,
                                       device=device, workers=cfg.workers))
        train_y.append(y[train_idx])
        train_w.append(sample_weight[train_idx])
    if semi_supervised and cfg.unlabelled:
        from ..fewlabels.semi import pseudo_label_features

        extra_x, extra_y, extra_w = pseudo_label_features(cfg, model, features[train_idx], y[train_idx], run_dir,
                                                          scaling=samples.scaling)
        train_x.append(extra_x)
        train_y.append(extra_y)
        train_w.append(extra_w)
    if cfg.fewshot:  # few-shot head chosen by internal validation (geotune.fewlabels.fewshot)
        from ..fewlabels.fewshot import fit_linear_head

        if fit_linear_head(model.head, train_x, train_y, train_w, cfg.augment_views, cfg.fewshot, cfg.seed,
                           None if quiet else run_dir) is not None:
            with torch.no_grad():
                return model.head(features[val_idx]), None
    train = TensorDataset(torch.cat(train_x), torch.from_numpy(np.concatenate(train_y)),
                          torch.from_numpy(np.concatenate(train_w)))
    val = TensorDataset(features[val_idx], torch.from_numpy(y[val_idx]), torch.ones(len(val_idx)))
    module = HeadModule(model.head, cfg.lr, cfg.optimizer, cfg.weight_decay, class_weights)
    trainer = _fit(cfg, module, train, val, run_dir, [], quiet)
    model.eval()
    with torch.no_grad():
        logits = model.head(features[val_idx])
    return logits, trainer


def _fit(cfg, module, train, val, run_dir, callbacks, quiet):
    data = ClassificationDataModule(train, val, cfg.batch_size, cfg.workers, cfg.seed)
    if quiet or run_dir is None:
        import lightning.pytorch as pl

        from .trainer import quiet_lightning

        quiet_lightning()
        trainer = pl.Trainer(max_epochs=cfg.epochs, accelerator="cpu" if cfg.accelerator == "auto" else cfg.accelerator,
                             devices=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, num_sanity_val_steps=0, callbacks=list(callbacks))
        trainer.fit(module, datamodule=data)
        return trainer
    trainer = make_trainer(cfg, run_dir, callbacks)
    trainer.fit(module, datamodule=data, ckpt_path=resume_checkpoint(cfg, run_dir), weights_only=True)
    return trainer


def leave_one_group_out_scores(cfg, model, samples, y, classes, run_dir, sample_weight) -> dict:
    """One score per held-out group (the model trained on all the others), with mean and spread."""
    initial = copy.deepcopy(model.state_dict())
    per_group = {}
    for group, train_idx, test_idx in leave_one_group_out(samples.groups):
        fold_model = copy.deepcopy(model)
        fold_model.load_state_dict(initial)
        if len(np.unique(y[train_idx])) < 2:
            continue
        logits, _ = train_one(cfg, fold_model, samples, y, sample_weight, train_idx, test_idx, run_dir, quiet=True)
        proba = torch.softmax(logits, 1).numpy()
        per_group[group] = classification_metrics(y[test_idx], proba.argmax(1), classes, proba)
    return {"per_group": per_group, "summary": summarise_folds(per_group, "accuracy"),
            "macro_f1": summarise_folds(per_group, "macro_f1")}
