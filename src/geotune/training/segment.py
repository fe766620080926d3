"""`geotune train --task segment`: pixel segmentation of seismic sections (or any single-band images).

Data: ``--data`` sections as .npy/.npz (N x H x W, or N x C x H x W) or a SEG-Y volume (one section per
inline); ``--labels`` integer masks of the same shape (.npy/.npz, or a SEG-Y / .npy label volume in the
SEG-Y's (inline, crossline, sample) shape). Model: U-Net with a pretrained timm encoder. Training sees
random square windows (``--image-size``, default 96) with horizontal flips and small shifts; vertical
flips are off by default because seismic has a direction (depth). Validation predicts whole sections
with the same sliding windows that `geotune predict` uses.

Data are streamed (``geotune.data.sections``): a .npy is memory-mapped and a SEG-Y read one window's
traces at a time, so a survey larger than memory trains. Training runs on Lightning
(``training.segment_module``) through ``make_trainer``: --devices/--num-nodes (DDP), --accelerator,
--precision, --resume, --patience and checkpoints behave as for classification.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import progress
from .._atomic import atomic_file
from ..config import TrainConfig
from ..data.windows import random_window
from ..data.sections import load_pairs
from ..errors import ConfigError, DataError, GeotuneWarning
from ..evaluate.segmentation import IOU_THRESHOLDS, map_iou, segmentation_metrics

__all__ = ["fit", "run_segment_demo", "make_loss", "balanced_class_weights", "load_pairs", "random_window",
           "map_iou", "segmentation_metrics", "IOU_THRESHOLDS", "DEFAULT_IMAGE_SIZE", "LOSSES",
           "mask_class_names", "resolve_class_names"]

DEFAULT_IMAGE_SIZE = 96
LOSSES = ("ce", "dice", "focal", "dice+ce")


# ---------------------------------------------------------------- losses


def make_loss(name: str, n_classes: int, class_weights: np.ndarray | None):
    """The training loss as a module (its class weights move to the training device with it)."""
    import segmentation_models_pytorch as smp
    import torch

    if name not in LOSSES:
        raise ConfigError(f"--loss must be one of {', '.join(LOSSES)} for --task segment, got {name!r}")
    weight = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
    if name == "ce":
        return torch.nn.CrossEntropyLoss(weight=weight)
    if name == "dice":
        return smp.losses.DiceLoss("multiclass", from_logits=True)  # overlap-based: thin faults count as much as salt
    if name == "focal":
        return smp.losses.FocalLoss("multiclass", gamma=2.0)  # down-weights the easy background pixels
    from .segment_module import SumOfLosses

    return SumOfLosses(torch.nn.CrossEntropyLoss(weight=weight), smp.losses.DiceLoss("multiclass", from_logits=True))


def balanced_class_weights(counts: np.ndarray) -> np.ndarray:
    """Inverse square-root frequency from per-class pixel counts, mean 1: rare classes (faults) weigh more
    without swamping the rest."""
    counts = np.asarray(counts, dtype=np.float64) + 1.0
    weights = 1.0 / np.sqrt(counts / counts.sum())
    return (weights / weights.mean()).astype(np.float32)


# ---------------------------------------------------------------- class names

CLASS_NAME_KEYS = ("class_names", "classes")


def mask_class_names(labels: str | os.PathLike | None) -> list[str] | None:
    """Class names stored with the masks: a ``class_names`` array in a labels .npz, or a JSON beside the
    labels (``masks.npy`` -> ``masks.json``) holding ``{"class_names": [...]}`` (or ``"classes"``, as
    `geotune predict` writes beside a .npy). None when neither is there."""
    if labels is None:
        return None
    path = Path(labels)
    if path.suffix.lower() == ".npz" and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as archive:
                if "class_names" in archive.files:
                    return [str(v) for v in archive["class_names"].reshape(-1).tolist()]
        except (ValueError, OSError) as exc:
            raise DataError(f"cannot be read as a NumPy archive ({exc})", path) from exc
    sidecar = path.with_suffix(".json")
    if not sidecar.is_file():
        return None
    try:
        payload = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"class names file is not readable JSON ({exc})", sidecar) from exc
    key = next((k for k in CLASS_NAME_KEYS if isinstance(payload, dict) and k in payload), None)
    if key is None:
        return None  # a JSON about something else
    names = payload[key]
    if not isinstance(names, list) or not all(isinstance(n, (str, int)) for n in names):
        raise DataError(f'"{key}" must be a list of names, class 0 first', sidecar)
    return [str(n) for n in names]


def resolve_class_names(names: list[str] | None, n_classes: int, labels, given: bool) -> list[str]:
    """The names of classes 0..n_classes-1; ``class_<i>`` (with a warning) only when no name is known."""
    where = "--class-names" if given else f"the class names stored with {labels}"
    if names:
        if len(names) < n_classes:
            raise DataError(f"{where} name {len(names)} classes but the masks hold class numbers up to "
                            f"{n_classes - 1}", labels)
        if len(set(names)) != len(names):
            raise DataError(f"{where} repeat a name: {names}", labels)
        return [str(n) for n in names]
    warnings.warn(f"{labels}: the masks' classes have no names and are called class_0 .. class_{n_classes - 1}; "
                  f"name them with --class-names or a {Path(str(labels)).with_suffix('.json').name} beside the "
                  'masks holding {"class_names": [...]}', GeotuneWarning, stacklevel=2)
    return [f"class_{i}" for i in range(n_classes)]


# ---------------------------------------------------------------- training


def fit(cfg: TrainConfig) -> dict:
    """Train on streamed windows through Lightning, validate on whole sections, save RUN/model (rank 0);
    returns ``model_dir`` and ``metrics``."""
    import lightning.pytorch as pl

    from .. import modeldir
    from ..data import seismic
    from ..data.section_datamodule import SectionDataModule
    from ..data.section_dataset import SectionDataset, WindowDataset
    from ..data.sections import open_pairs, scan_labels
    from ..data.splits import train_val_split
    from ..evaluate.segmentation import metrics_from_confusion
    from ..models.segmentation import build_segmentation_model, load_pretrained_encoder
    from ..predict.segmenter import limit_threads
    from .classify import ddp_agreement
    from .segment_module import SegmentationModule, StepLimit
    from .trainer import make_trainer, resume_checkpoint

    if not cfg.data or not cfg.labels:
        raise ConfigError("--task segment needs --data (sections or volume) and --labels (masks of the same shape)")
    if not cfg.out:
        raise ConfigError("--out is required")
    started = time.monotonic()
    progress.stage("reading sections and masks")
    images, masks = open_pairs(cfg.data, cfg.labels)
    counts = scan_labels(masks, cfg.labels)  # (sections, classes), one streamed pass over the masks
    names = cfg.class_names or mask_class_names(cfg.labels)
    n_classes = int(max(counts.shape[1], len(names or [])))
    if n_classes < 2:
        raise DataError("labels hold a single class; segmentation needs at least two", cfg.labels)
    counts = np.pad(counts, ((0, 0), (0, n_classes - counts.shape[1])))
    classes = resolve_class_names(names, n_classes, cfg.labels, given=bool(cfg.class_names))
    size = int(cfg.image_size or DEFAULT_IMAGE_SIZE)
    if size % 32:
        raise ConfigError(f"--image-size must be a multiple of 32 for the U-Net encoder, got {size}")
    percentile = float(cfg.clip_percentile)
    clip = seismic.clip_range(images.stats_sample(), percentile)

    n = images.n
    if (cfg.split or ("tail" if seismic.is_segy(cfg.data) else "random")) == "tail":
        n_val = max(1, int(round(n * cfg.val_split)))  # neighbouring inlines leak; hold out a block
        train_idx, val_idx = np.arange(n - n_val), np.arange(n - n_val, n)
    else:
        strata = (counts[:, 1:].sum(1) > 0).astype(int)
        train_idx, val_idx = train_val_split(strata, cfg.val_split, cfg.seed)
    if len(train_idx) == 0:
        raise DataError(f"{n} section(s) are too few to hold out {cfg.val_split:.0%} for validation", cfg.data)

    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    limit_threads(cfg.threads)
    arch = cfg.arch
    model = build_segmentation_model(cfg.backbone, n_classes, images.channels, arch)
    source = load_pretrained_encoder(model, cfg.backbone, cfg.weights) if cfg.pretrained else "random initialisation"
    weights = balanced_class_weights(counts[train_idx].sum(0)) if cfg.class_weights else None
    height, width = images.shape
    windows_per_section = max(1, int(np.ceil(height / size) * np.ceil(width / size)))
    train = WindowDataset(images, masks, train_idx, size, windows_per_section, cfg.augment, cfg.seed, clip)
    val = SectionDataset(images, masks, val_idx, clip)
    data = SectionDataModule(train, val, cfg.batch_size, cfg.workers, cfg.seed)
    budget = cfg.max_minutes  # a wall-clock budget: the schedule runs on time instead of steps
    budget_s = None if budget is None else float(budget) * 60
    max_steps = cfg.max_steps  # a step cap (benchmarks, smoke runs on big surveys)
    module = SegmentationModule(model, make_loss(cfg.loss, n_classes, weights), n_classes, cfg.lr, cfg.weight_decay,
                                size, val_batch=max(cfg.batch_size, 16), budget_s=budget_s, max_steps=max_steps)
    callbacks = [] if max_steps is None else [StepLimit(max_steps)]
    if budget_s is not None:
        from datetime import timedelta

        from lightning.pytorch.callbacks import Timer

        module.timer = Timer(duration=timedelta(seconds=budget_s), interval="step", verbose=False)
        callbacks.append(module.timer)
    run_dir = Path(cfg.out)
    trainer = make_trainer(cfg, run_dir, callbacks)
    start = "pretrained encoder" if cfg.pretrained else "random initialisation"  # the weights file: config.json
    progress.stage(f"training {arch} ({cfg.backbone}, {start}) on {len(train_idx)} sections, {len(train)} "
                   f"windows an epoch; validating on {len(val_idx)} whole sections; classes {', '.join(classes)}")
    train_started = time.monotonic()
    trainer.fit(module, datamodule=data, ckpt_path=resume_checkpoint(cfg, run_dir), weights_only=True)
    validation_started = time.monotonic()
    if module.scores is None or module.scores["step"] != trainer.global_step:
        trainer.validate(module, datamodule=data, verbose=False)  # stopped mid-epoch: score the final weights
    scores = module.scores
    metrics = metrics_from_confusion(scores["confusion"], classes, scores["map_iou"])
    metrics.update({"val_loss": scores["val_loss"], "n_train_sections": int(len(train_idx)),
                    "n_val_sections": int(len(val_idx)),
                    "epochs_run": round(trainer.global_step / max(1, int(trainer.num_training_batches)), 2),
                    "train_steps": int(trainer.global_step),
                    "windows_per_epoch": len(train), "train_seconds": round(module.train_seconds, 2),
                    "windows_per_second": round(trainer.global_step * cfg.batch_size / max(module.train_seconds, 1e-9), 2),
                    "train_minutes": round((time.monotonic() - started) / 60, 2),
                    "train_loop_minutes": round((validation_started - train_started) / 60, 2),
                    "weights_source": source, "history": module.history})
    if trainer.world_size > 1:
        metrics["ddp"] = ddp_agreement(trainer, model)
        if trainer.global_rank != 0:
            return {"model_dir": str(run_dir / "model"), "metrics": metrics, "rank": trainer.global_rank}
    model.cpu()
    config = {
        "task": "segment",
        "backbone": cfg.backbone,
        "arch": arch,
        "in_chans": int(images.channels),
        "classes": classes,
        "image_size": size,
        "overlap": 0.5,
        "normalisation": seismic.normalisation_spec(percentile),
        "input_layout": "sections (N, H, W) depth down; SEG-Y: one section per inline (sample x crossline)",
        "pretrained": bool(cfg.pretrained),
        "weights_source": source,
        "train": cfg.to_dict(),
    }
    folder = modeldir.save(run_dir / "model", config, tensors=model.state_dict(), metrics=metrics)
    return {"model_dir": str(folder), "metrics": metrics}


# ---------------------------------------------------------------- demo


# (sections, height, width, epochs) of the segmentation demo
SEGMENT_DEMO_QUICK = (48, 64, 64, 4)
SEGMENT_DEMO_FULL = (120, 64, 128, 10)


def run_segment_demo(out: str, quick: bool = False) -> dict:
    """Fine-tune the pretrained encoder and a random-init one on synthetic sections; print IoU per class."""
    from ..data.synthetic import LABEL_NAMES, make_sections

    out_path = Path(out)
    n, height, width, epochs = SEGMENT_DEMO_QUICK if quick else SEGMENT_DEMO_FULL
    images, labels = make_sections(n, height, width, seed=7)
    data_dir = out_path / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    np.save(data_dir / "sections.npy", images)
    np.save(data_dir / "labels.npy", labels)
    with atomic_file(data_dir / "labels.json") as handle:
        json.dump({"class_names": list(LABEL_NAMES)}, handle)
    results: dict[str, Any] = {}
    for name, pretrained in (("pretrained", True), ("random_init", False)):
        cfg = TrainConfig(data=str(data_dir / "sections.npy"), labels=str(data_dir / "labels.npy"),
                          out=str(out_path / name), task="segment", pretrained=pretrained, epochs=epochs,
                          batch_size=16, lr=2e-3, image_size=64, loss="dice+ce", class_weights=True,
                          seed=0).validate()  # class names from data/labels.json, as a user's masks would carry
        progress.stage(f"segment demo: training the {name.replace('_', ' ')} encoder ({epochs} epochs)")
        results[name] = fit(cfg)
    print(f"{'class':12} {'IoU pretrained':>15} {'IoU random init':>16}")
    for cls in LABEL_NAMES:
        print(f"{cls:12} {results['pretrained']['metrics']['iou'][cls]:15.3f} "
              f"{results['random_init']['metrics']['iou'][cls]:16.3f}")
    print(f"{'mean':12} {results['pretrained']['metrics']['mean_iou']:15.3f} "
          f"{results['random_init']['metrics']['mean_iou']:16.3f}")
    return {"task": "segment", "out": str(out_path),
            "pretrained": results["pretrained"]["metrics"], "random_init": results["random_init"]["metrics"],
            "model_dirs": {k: v["model_dir"] for k, v in results.items()}}
