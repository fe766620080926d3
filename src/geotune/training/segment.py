"""`geotune train --task segment`: pixel segmentation of seismic sections (or any single-band images).

Data: ``--data`` sections as .npy/.npz (N x H x W, or N x C x H x W) or a SEG-Y volume (one section per
inline); ``--labels`` integer masks of the same shape (.npy/.npz, or a SEG-Y / .npy label volume in the
SEG-Y's (inline, crossline, sample) shape). Model: U-Net with a pretrained timm encoder. Training sees
random square windows (``--image-size``, default 96) with horizontal flips and small shifts; vertical
flips are off by default because seismic has a direction (depth). Validation predicts whole sections
with the same sliding windows that `geotune predict` uses.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..config import TrainConfig
from ..errors import ConfigError, DataError

DEFAULT_IMAGE_SIZE = 96
LOSSES = ("ce", "dice", "focal", "dice+ce")
IOU_THRESHOLDS = np.arange(0.5, 0.96, 0.05)


# ---------------------------------------------------------------- data


def load_pairs(data: str | os.PathLike, labels: str | os.PathLike | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(images N x C x H x W float32 raw amplitudes, masks N x H x W int64 or None)``."""
    from ..data import seismic

    if labels is not None and not Path(labels).is_file():
        raise DataError("no such file", labels)
    images = load_images(data)
    if labels is None:
        return images, None
    label_path = Path(labels)
    if seismic.is_segy(label_path):
        masks = seismic.read_sections(label_path)
    else:
        masks = np.asarray(seismic.read_array(label_path))
        if seismic.is_segy(data) and masks.ndim == 3 and masks.shape != images.shape[:1] + images.shape[2:]:
            info = seismic.inspect_segy(data)
            if info.kind == "3d" and masks.shape == info.shape:  # (il, xl, sample) as segyio reads it
                masks = masks.transpose(0, 2, 1)
        masks = seismic.as_sections(masks, label_path) if masks.ndim in (2, 3) else masks
    expected = (images.shape[0],) + images.shape[2:]
    if masks.shape != expected:
        raise DataError(f"labels have shape {masks.shape} but the data {data} gives sections of shape {expected}",
                        label_path)
    if not np.issubdtype(masks.dtype, np.integer):
        if not np.all(np.isfinite(masks)) or not np.all(np.mod(masks, 1) == 0):
            raise DataError("labels must be integer class numbers (0, 1, ...), found fractional values", label_path)
    masks = masks.astype(np.int64)
    if masks.min() < 0:
        raise DataError(f"labels must be class numbers >= 0, found {masks.min()}", label_path)
    return images, masks


def load_images(data: str | os.PathLike) -> np.ndarray:
    from ..data import seismic

    path = Path(data)
    if seismic.is_segy(path):
        sections = seismic.read_sections(path)
    else:
        array = seismic.read_array(path)
        if array.ndim == 4:
            return np.asarray(array, dtype=np.float32)
        sections = seismic.as_sections(np.asarray(array), path)
    return np.asarray(sections, dtype=np.float32)[:, None]


# ---------------------------------------------------------------- losses and augmentation


def make_loss(name: str, n_classes: int, class_weights: np.ndarray | None):
    import segmentation_models_pytorch as smp
    import torch

    if name not in LOSSES:
        raise ConfigError(f"--loss must be one of {', '.join(LOSSES)} for --task segment, got {name!r}")
    weight = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
    ce = torch.nn.CrossEntropyLoss(weight=weight)
    dice = smp.losses.DiceLoss("multiclass", from_logits=True)  # overlap-based: thin faults count as much as salt
    focal = smp.losses.FocalLoss("multiclass", gamma=2.0)  # down-weights the easy background pixels
    if name == "ce":
        return ce
    if name == "dice":
        return dice
    if name == "focal":
        return focal
    return lambda logits, target: ce(logits, target) + dice(logits, target)


def balanced_class_weights(masks: np.ndarray, n_classes: int) -> np.ndarray:
    """Inverse square-root frequency, mean 1: rare classes (faults) weigh more without swamping the rest."""
    counts = np.bincount(masks.ravel(), minlength=n_classes).astype(np.float64) + 1.0
    weights = 1.0 / np.sqrt(counts / counts.sum())
    return (weights / weights.mean()).astype(np.float32)


def random_window(image: np.ndarray, mask: np.ndarray, size: int, rng: np.random.Generator,
                  augment: bool, shift: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A ``size`` window from (C, H, W) / (H, W), reflect-padded when smaller; shifts and left-right flips."""
    _, height, width = image.shape
    margin = shift if augment else 0  # room for a small shift; larger inputs get it from the random crop
    pad_h, pad_w = max(0, size + margin - height), max(0, size + margin - width)
    top, left = (pad_h // 2, pad_w // 2)
    pads = ((top, pad_h - top), (left, pad_w - left))
    if pad_h or pad_w:
        mode = "reflect" if min(height, width) > 1 else "edge"
        image = np.pad(image, ((0, 0),) + pads, mode=mode)
        mask = np.pad(mask, pads, mode=mode)
    r = int(rng.integers(0, image.shape[1] - size + 1)) if augment else (image.shape[1] - size) // 2
    c = int(rng.integers(0, image.shape[2] - size + 1)) if augment else (image.shape[2] - size) // 2
    image, mask = image[:, r:r + size, c:c + size], mask[r:r + size, c:c + size]
    if augment and rng.random() < 0.5:
        image, mask = image[:, :, ::-1], mask[:, ::-1]
    return np.ascontiguousarray(image), np.ascontiguousarray(mask)


# ---------------------------------------------------------------- metrics


def segmentation_metrics(masks: np.ndarray, predicted: np.ndarray, classes: list[str],
                         max_pixels: int = 1_000_000) -> dict:
    """Pixel metrics (the shared classification keys), per-class and mean IoU and, for two classes,
    the TGS/Kaggle score ``map_iou``."""
    from ..evaluate.metrics import classification_metrics

    n = len(classes)
    truth, pred = masks.reshape(-1), predicted.reshape(-1)
    confusion = np.bincount(truth * n + pred, minlength=n * n).reshape(n, n)
    if truth.size > max_pixels:  # sklearn on every pixel is slow; a fixed sample keeps the scores stable
        picks = np.random.default_rng(0).choice(truth.size, max_pixels, replace=False)
        truth, pred = truth[picks], pred[picks]
    result = classification_metrics(truth, pred, classes)
    result["n_pixels"] = int(masks.size)
    result["confusion_matrix"] = confusion.tolist()  # over every pixel
    result["accuracy"] = float(np.trace(confusion) / max(confusion.sum(), 1))
    tp = np.diag(confusion).astype(float)
    union = confusion.sum(0) + confusion.sum(1) - tp
    iou = {name: (float(tp[i] / union[i]) if union[i] else float("nan")) for i, name in enumerate(classes)}
    result["iou"] = iou
    present = [v for v in iou.values() if not math.isnan(v)]
    result["mean_iou"] = float(np.mean(present)) if present else float("nan")
    if n == 2:
        result["map_iou"] = map_iou(masks == 1, predicted == 1)
    return result


def map_iou(truth: np.ndarray, predicted: np.ndarray) -> float:
    """TGS salt score: per image, precision averaged over IoU thresholds 0.5..0.95; an image with an
    empty true mask scores 1 if the prediction is empty too, else 0; then the mean over images."""
    truth = truth.reshape(truth.shape[0], -1)
    predicted = predicted.reshape(predicted.shape[0], -1)
    inter = np.logical_and(truth, predicted).sum(1)
    union = np.logical_or(truth, predicted).sum(1)
    scores = np.empty(len(truth))
    empty = union == 0
    scores[empty] = 1.0
    iou = inter[~empty] / union[~empty]
    scores[~empty] = (iou[:, None] > IOU_THRESHOLDS[None, :]).mean(1)
    return float(scores.mean())


# ---------------------------------------------------------------- training


def fit(cfg: TrainConfig) -> dict:
    """Train, validate on whole sections, save RUN/model; returns ``model_dir`` and ``metrics``."""
    import torch

    from .. import modeldir
    from ..data import seismic
    from ..data.splits import train_val_split
    from ..models.segmentation import build_segmentation_model, load_pretrained_encoder
    from ..predict.segmenter import limit_threads, predict_sections

    if not cfg.data or not cfg.labels:
        raise ConfigError("--task segment needs --data (sections or volume) and --labels (masks of the same shape)")
    if not cfg.out:
        raise ConfigError("--out is required")
    started = time.monotonic()
    extra = dict(cfg.extra or {})
    images, masks = load_pairs(cfg.data, cfg.labels)
    n_classes = int(max(masks.max() + 1, len(extra.get("class_names") or [])))
    if n_classes < 2:
        raise DataError("labels hold a single class; segmentation needs at least two", cfg.labels)
    classes = [str(c) for c in (extra.get("class_names") or [f"class_{i}" for i in range(n_classes)])]
    size = int(cfg.image_size or DEFAULT_IMAGE_SIZE)
    if size % 32:
        raise ConfigError(f"--image-size must be a multiple of 32 for the U-Net encoder, got {size}")
    percentile = float(extra.get("clip_percentile", 99.0))
    low, high = seismic.clip_range(seismic.sample_for_stats(images), percentile)
    images = seismic.normalise(images, low, high)

    n = len(images)
    if extra.get("split", "tail" if seismic.is_segy(cfg.data) else "random") == "tail":
        n_val = max(1, int(round(n * cfg.val_split)))  # neighbouring inlines leak; hold out a block
        train_idx, val_idx = np.arange(n - n_val), np.arange(n - n_val, n)
    else:
        strata = (masks.reshape(n, -1) > 0).any(1).astype(int)
        train_idx, val_idx = train_val_split(strata, cfg.val_split, cfg.seed)
    if len(train_idx) == 0:
        raise DataError(f"{n} section(s) are too few to hold out {cfg.val_split:.0%} for validation", cfg.data)

    torch.manual_seed(cfg.seed)
    limit_threads(extra.get("threads"))
    in_chans = images.shape[1]
    arch = str(extra.get("arch", "unet"))
    model = build_segmentation_model(cfg.backbone, n_classes, in_chans, arch)
    source = load_pretrained_encoder(model, cfg.backbone, cfg.weights) if cfg.pretrained else "random initialisation"
    weights = balanced_class_weights(masks[train_idx], n_classes) if cfg.class_weights else None
    loss_fn = make_loss(cfg.loss, n_classes, weights)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    windows_per_image = max(1, int(np.ceil(images.shape[2] / size) * np.ceil(images.shape[3] / size)))
    steps_per_epoch = max(1, int(np.ceil(len(train_idx) * windows_per_image / cfg.batch_size)))
    budget = extra.get("max_minutes")  # a wall-clock budget: the schedule runs on time instead of steps
    budget_s = None if budget is None else float(budget) * 60
    total_steps = cfg.epochs * steps_per_epoch
    rng = np.random.default_rng(cfg.seed)
    history = []
    epochs_done = 0
    step_count = 0
    train_started = time.monotonic()
    for epoch in range(cfg.epochs):
        model.train()
        order = rng.permutation(np.repeat(train_idx, windows_per_image))
        running, seen = 0.0, 0
        for step in range(steps_per_epoch):
            picks = order[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            progress = step_count / total_steps if budget_s is None else (time.monotonic() - train_started) / budget_s
            if len(picks) == 0 or progress >= 1.0:
                break
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr * _one_cycle(progress)
            pairs = [random_window(images[i], masks[i], size, rng, cfg.augment) for i in picks]
            x = torch.from_numpy(np.stack([p[0] for p in pairs]))
            y = torch.from_numpy(np.stack([p[1] for p in pairs]))
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            running += float(loss.detach())
            seen += 1
            step_count += 1
        if seen:
            epochs_done = epoch + 1 if seen == steps_per_epoch else epoch + seen / steps_per_epoch
            history.append({"epoch": round(epochs_done, 2), "train_loss": running / seen})
        if seen < steps_per_epoch:
            break
    validation_started = time.monotonic()
    model.eval()
    predicted = predict_sections(model, images[val_idx], size, n_classes, batch_size=max(cfg.batch_size, 16)).argmax(1)
    metrics = segmentation_metrics(masks[val_idx], predicted, classes)
    metrics.update({"n_train_sections": int(len(train_idx)), "n_val_sections": int(len(val_idx)),
                    "epochs_run": round(epochs_done, 2), "train_steps": step_count,
                    "train_minutes": round((time.monotonic() - started) / 60, 2),
                    "train_loop_minutes": round((validation_started - train_started) / 60, 2),
                    "weights_source": source, "history": history})
    config = {
        "task": "segment",
        "backbone": cfg.backbone,
        "arch": arch,
        "in_chans": int(in_chans),
        "classes": classes,
        "image_size": size,
        "overlap": 0.5,
        "normalisation": seismic.normalisation_spec(percentile),
        "input_layout": "sections (N, H, W) depth down; SEG-Y: one section per inline (sample x crossline)",
        "pretrained": bool(cfg.pretrained),
        "weights_source": source,
        "train": cfg.to_dict(),
    }
    folder = modeldir.save(Path(cfg.out) / "model", config, tensors=model.state_dict(), metrics=metrics)
    return {"model_dir": str(folder), "metrics": metrics}


def _one_cycle(progress: float, warmup: float = 0.05) -> float:
    """Learning-rate factor: linear warm-up, then cosine decay to ~0 at the end of the run."""
    if progress < warmup:
        return 0.1 + 0.9 * progress / warmup
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / (1 - warmup)))) + 1e-3


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
    results: dict[str, Any] = {}
    for name, pretrained in (("pretrained", True), ("random_init", False)):
        cfg = TrainConfig(data=str(data_dir / "sections.npy"), labels=str(data_dir / "labels.npy"),
                          out=str(out_path / name), task="segment", pretrained=pretrained, epochs=epochs,
                          batch_size=16, lr=2e-3, image_size=64, loss="dice+ce", class_weights=True, seed=0,
                          extra={"class_names": list(LABEL_NAMES)}).validate()
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
