"""Fit a LightningModule on torch Datasets the way every geotune task does.

A main fit goes through ``make_trainer`` (so --devices/--num-nodes, --accelerator, --precision, --resume,
--patience and the rolling checkpoint mean the same for every task); inner fits (cross-validation folds,
estimator calls from Python) use a quiet single-device trainer with no files.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..config import TrainConfig


def fit_module(cfg: TrainConfig, module, train, val=None, run_dir: Path | None = None, *, quiet: bool = False,
               max_epochs: int | None = None, callbacks=(), min_batch: int = 1):
    """Train ``module`` on the Dataset ``train`` (validated on ``val`` when given); returns the trainer.

    Shuffling is an ``EpochSeededSampler`` (the order depends on seed and epoch only, so a resumed run sees
    the same batches). ``min_batch``: a last batch smaller than this is dropped (BatchNorm needs two samples).
    A Dataset with ``__getitems__`` returns whole batches (``pre_batched`` collates them as they are).
    Without ``val`` there is no validation loss, so --patience does not apply to that fit.
    """
    import warnings

    from torch.utils.data import DataLoader

    from .modules import EpochSeededSampler

    warnings.filterwarnings("ignore", ".*validation_step.*but have no.*val_dataloader.*")  # refits have no val rows

    inner = quiet or run_dir is None
    world = 1 if inner else cfg.devices * cfg.num_nodes
    per_rank = math.ceil(len(train) / world)  # DistributedSampler pads every rank to the same count
    loader_args = {"batch_size": cfg.batch_size, "num_workers": cfg.workers, "persistent_workers": cfg.workers > 0}
    if hasattr(train, "__getitems__"):  # the Dataset builds whole batches itself (one gather, not one per row)
        loader_args["collate_fn"] = pre_batched
    train_loader = DataLoader(train, sampler=EpochSeededSampler(len(train), cfg.seed),
                              drop_last=0 < per_rank % cfg.batch_size < min_batch, **loader_args)
    val_loader = DataLoader(val, **loader_args) if val is not None else None
    if inner:
        import lightning.pytorch as pl

        from .trainer import quiet_lightning

        quiet_lightning()
        trainer = pl.Trainer(max_epochs=max_epochs or cfg.epochs,
                             accelerator="cpu" if cfg.accelerator == "auto" else cfg.accelerator, devices=1,
                             logger=False, enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, num_sanity_val_steps=0, callbacks=list(callbacks))
        trainer.fit(module, train_loader, val_loader)
        return trainer
    from .trainer import make_trainer, resume_checkpoint

    run_cfg = cfg if val is not None else cfg.model_copy(update={"patience": None})
    trainer = make_trainer(run_cfg, Path(run_dir), callbacks, max_epochs=max_epochs)
    trainer.fit(module, train_loader, val_loader, ckpt_path=resume_checkpoint(cfg, Path(run_dir)), weights_only=True)
    return trainer


def pre_batched(batch):
    """collate_fn for Datasets whose ``__getitems__`` already returns a batch."""
    return batch


def epochs_run(trainer) -> int:
    """How many epochs a fit finished (fewer than asked when early stopping ended it)."""
    return max(1, int(trainer.current_epoch))


class EpochLossLog:
    """Logs the epoch's mean training loss once, at the epoch's end: ``self.log`` on every step of these
    small networks cost more than the step itself (profiled: ~9 ms a call against ~3 ms of compute)."""

    def remember_loss(self, loss, n: int) -> None:
        sums = getattr(self, "_loss_sums", None)
        value = loss.detach() * n
        self._loss_sums = (value, n) if sums is None else (sums[0] + value, sums[1] + n)

    def on_train_epoch_end(self):
        sums = getattr(self, "_loss_sums", None)
        if sums is not None:
            self.log("train_loss", sums[0] / sums[1], prog_bar=True)
            self._loss_sums = None
