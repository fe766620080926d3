"""``geotune pretrain``: adapt a pretrained backbone to unlabelled data of the target survey and write a weights
file that ``geotune train --weights`` loads.

Methods: ``simsiam`` (two-view self-supervised training through Lightning of the backbone's top ``stages``,
keeping the batch-norm statistics it started with unless ``batchnorm="recompute"``) and ``bn`` (the batch-norm
statistics recomputed on the data alone, AdaBN: seconds, the cheap baseline, which on F3 faults *hurts* frozen
features: benchmarks/results/seismic_transfer_fewlabels.md).
Training runs until ``epochs`` passes or ``minutes`` of wall clock, whichever comes first; a rolling checkpoint
beside the output (OUT.pretrain/checkpoints/last.ckpt) lets ``resume`` continue an interrupted run.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError

METHODS = ("simsiam", "bn")
BATCHNORM = ("keep", "recompute")


@dataclass
class PretrainOptions:
    data: str
    out: str
    backbone: str = "tf_efficientnet_lite0"
    weights: str | None = None  # start from this file instead of the backbone's ImageNet weights
    method: str = "simsiam"
    minutes: float = 20.0
    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-4
    stages: int | None = 2  # simsiam: train the backbone's top parameter groups only (None: all of it)
    batchnorm: str = "keep"  # simsiam: keep the start's statistics, or recompute them on the data at the end
    image_size: int | None = None
    window: int | None = None  # SEG-Y: window size in samples (default: image_size)
    bn_samples: int = 4096  # samples used to recompute the batch-norm statistics
    seed: int = 0
    resume: bool = False
    workers: int = 0
    accelerator: str = "auto"


def work_dir(out: str | Path) -> Path:
    """Checkpoints and logs of a pretraining run: OUT.pretrain/ beside the weights file."""
    out = Path(out)
    return out.with_name(out.name + ".pretrain")


def pretrain(options: PretrainOptions) -> dict:
    """Run the chosen method and write the weights file; returns a summary (also stored in its metadata)."""
    from ..data.classify_datamodule import plain_worker_errors

    with plain_worker_errors():  # samples are decoded in DataLoader workers: a bad file surfaces there
        return _pretrain(options)


def _pretrain(options: PretrainOptions) -> dict:
    import torch

    from ..models.backbones import channel_stats, create_backbone, spec_for
    from ..models.heads import Normalize
    from .pretrain_data import open_unlabelled
    from .pretrain_weights import save_weights

    if options.method not in METHODS:
        raise DataError(f"unknown pretraining method {options.method!r}; expected one of {', '.join(METHODS)}")
    if options.batchnorm not in BATCHNORM:
        raise DataError(f"unknown batch-norm choice {options.batchnorm!r}; expected one of {', '.join(BATCHNORM)}")
    started = time.monotonic()
    deadline = started + options.minutes * 60
    torch.manual_seed(options.seed)
    spec = spec_for(options.backbone)
    size = options.image_size or spec.input_size
    dataset = open_unlabelled(options.data, size, options.window, seed=options.seed)
    if len(dataset) < 2:
        raise DataError(f"holds {len(dataset)} sample(s); pretraining needs at least 2", options.data)
    backbone, source = create_backbone(options.backbone, pretrained=True, weights=options.weights,
                                       in_chans=dataset.channels)
    normalize = Normalize(channel_stats(spec.mean, dataset.channels), channel_stats(spec.std, dataset.channels))
    summary = {"method": options.method, "backbone": options.backbone, "started_from": source,
               "data": str(Path(options.data).resolve()), "samples": len(dataset), "in_chans": dataset.channels,
               "image_size": size, "scaling": dataset.scaling}
    if options.method == "simsiam":
        summary.update(_simsiam(options, backbone, normalize, dataset, deadline))
    recompute = options.method == "bn" or options.batchnorm == "recompute"
    summary["batchnorm"] = "recomputed on the data" if recompute else "kept from the start"
    # the features train will compute are of plain (not augmented) patches: their statistics, not the views'
    summary["bn_samples"] = (_recalibrate(options, backbone, normalize, dataset,
                                          deadline if options.method == "bn" else None) if recompute else 0)
    summary["seconds"] = round(time.monotonic() - started, 1)
    summary["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    save_weights(options.out, backbone.state_dict(), summary)
    summary["out"] = str(options.out)
    return summary


def _recalibrate(options, backbone, normalize, dataset, deadline) -> int:
    import torch
    from torch.utils.data import DataLoader, Subset

    from ..logs import progress
    from .pretrain_bn import recalibrate_batchnorm

    backbone.cpu()
    rng = torch.Generator().manual_seed(options.seed)
    chosen = torch.randperm(len(dataset), generator=rng)[:options.bn_samples].tolist()
    loader = DataLoader(Subset(dataset, chosen), batch_size=64, num_workers=options.workers)
    total = len(loader)
    return recalibrate_batchnorm(backbone, normalize, loader, deadline,
                                 on_batch=lambda step: progress.stage("batch-norm statistics, batch", step, total))


def _simsiam(options, backbone, normalize, dataset, deadline) -> dict:
    import torch
    from torch.utils.data import DataLoader

    from ..config import TrainConfig
    from ..data.classify_datamodule import EpochSeededSampler
    from .pretrain_callbacks import EpochLines, TimeBudget
    from .pretrain_simsiam import SimSiamModule
    from .trainer import make_trainer, resume_checkpoint

    folder = work_dir(options.out)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = TrainConfig(out=str(folder), epochs=options.epochs, resume=options.resume, seed=options.seed,
                      accelerator=options.accelerator, batch_size=options.batch_size, lr=options.lr)
    batch = min(options.batch_size, len(dataset))
    loader = DataLoader(dataset, batch_size=batch, sampler=EpochSeededSampler(len(dataset), options.seed),
                        drop_last=True, num_workers=options.workers, persistent_workers=options.workers > 0)
    module = SimSiamModule(backbone, normalize, options.lr, weight_decay=1e-4, seed=options.seed,
                           freeze_bn_stats=options.batchnorm == "keep", stages=options.stages)
    budget = TimeBudget(deadline)
    trainer = make_trainer(cfg, folder, [budget, EpochLines()])
    trainer.fit(module, train_dataloaders=loader, ckpt_path=resume_checkpoint(cfg, folder), weights_only=True)
    logged = {k: round(float(v), 4) for k, v in trainer.callback_metrics.items() if isinstance(v, torch.Tensor)}
    return {"epochs": trainer.current_epoch, "steps": trainer.global_step, "batch_size": batch,
            "lr": options.lr, "stages": "all" if options.stages is None else options.stages,
            "trainable_parameters": sum(p.numel() for p in module.backbone_params), "stopped_by": "time budget" if budget.stopped else "epochs",
            "resumed_from_step": budget.first_step or 0,
            "minutes": options.minutes, "final": logged}
