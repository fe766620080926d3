"""The segmentation LightningModule: windows in, loss out; whole validation sections scored by sliding windows.

Recipe: AdamW, a one-cycle learning-rate factor (warm-up then cosine) applied every step, on steps or,
with a wall-clock budget, on the time spent (shared by every DDP rank, so their learning rates agree).
Validation predicts each whole section the way `geotune predict` does and accumulates a confusion
matrix in torchmetrics (ranks sync at the end of the epoch); val_loss is the pixel cross-entropy of those
blended probabilities.
"""

from __future__ import annotations

import math
import time

import lightning.pytorch as pl
import numpy as np
import torch
from torch import nn
from torchmetrics import MeanMetric, SumMetric
from torchmetrics.classification import MulticlassConfusionMatrix

from ..evaluate.segmentation import map_iou_scores, mean_iou
from ..predict.segmenter import torch_predict_fn
from ..predict.tiling import predict_tiled
from .modules import make_optimizer


def one_cycle(progress: float, warmup: float = 0.05) -> float:
    """Learning-rate factor: linear warm-up, then cosine decay to ~0 at the end of the run."""
    if progress < warmup:
        return 0.1 + 0.9 * progress / warmup
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / (1 - warmup)))) + 1e-3


class SumOfLosses(nn.Module):
    """``dice+ce``: the losses added, kept as submodules so their class weights follow the device."""

    def __init__(self, *losses: nn.Module):
        super().__init__()
        self.losses = nn.ModuleList(losses)

    def forward(self, logits, target):
        return sum(loss(logits, target) for loss in self.losses)


class StepLimit(pl.Callback):
    """Ends training after ``max_steps`` optimizer steps (every rank counts the same steps)."""

    def __init__(self, max_steps: int):
        self.max_steps = int(max_steps)

    def on_train_batch_end(self, trainer, pl_module, *args):
        if trainer.global_step >= self.max_steps:
            trainer.should_stop = True


class SegmentationModule(pl.LightningModule):
    def __init__(self, model: nn.Module, loss: nn.Module, n_classes: int, lr: float, weight_decay: float,
                 window: int, val_batch: int = 16, overlap: float = 0.5, budget_s: float | None = None,
                 max_steps: int | None = None):
        super().__init__()
        self.model, self.loss = model, loss
        self.n_classes, self.lr, self.weight_decay = n_classes, lr, weight_decay
        self.window, self.val_batch, self.overlap = window, val_batch, overlap
        self.budget_s, self.max_steps = budget_s, max_steps
        self.timer = None  # lightning's Timer callback when there is a budget (set by the caller)
        self.time_progress = 0.0
        self.confusion = MulticlassConfusionMatrix(n_classes, validate_args=False)
        self.val_loss_sum, self.val_pixels = SumMetric(), SumMetric()
        self.map_sum, self.map_count = SumMetric(), SumMetric()
        self.train_loss = MeanMetric()
        self.history: list[dict] = []
        self.scores: dict | None = None  # the last validation: confusion, map_iou, val_loss, step
        self._val_loss: float | None = None
        self._val_mean_iou = float("nan")
        self.train_seconds = 0.0  # wall time in training epochs (data loading included), validation excluded
        self._epoch_started, self._val_seconds = None, 0.0

    def forward(self, x):
        return self.model(x)

    # ------------------------------------------------------------ training

    def configure_optimizers(self):
        optimizer = make_optimizer("adamw", self.model.parameters(), self.lr, self.weight_decay)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        if self.max_steps:
            total = min(total, int(self.max_steps))  # the cycle completes within the step cap

        def factor(step: int) -> float:
            return one_cycle(self.time_progress if self.budget_s else step / total)

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_train_epoch_start(self):
        self._epoch_started, self._val_seconds = time.monotonic(), 0.0
        self._val_loss = None  # an epoch cut short by the budget has no validation of its own

    def on_train_batch_start(self, batch, batch_idx):
        if self.budget_s and self.timer is not None:
            progress = self.timer.time_elapsed("train") / self.budget_s
            self.time_progress = float(self.trainer.strategy.broadcast(progress))  # rank 0's clock for all

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss(self.model(x), y)
        self.train_loss.update(loss.detach())
        return loss

    def on_train_epoch_end(self):
        if self._epoch_started is not None:
            self.train_seconds += time.monotonic() - self._epoch_started - self._val_seconds
        train_loss = float(self.train_loss.compute())
        self.train_loss.reset()
        self.log("train_loss", train_loss, sync_dist=False)
        batches = max(1, int(self.trainer.num_training_batches))
        epochs = round(self.trainer.global_step / batches, 2)
        entry = {"epoch": epochs, "train_loss": train_loss}
        if self._val_loss is not None:
            entry["val_loss"] = self._val_loss
            if not math.isnan(self._val_mean_iou):
                entry["val_mean_iou"] = self._val_mean_iou
        self.history.append(entry)

    # ------------------------------------------------------------ validation

    def on_validation_epoch_start(self):
        self._val_started = time.monotonic()

    def validation_step(self, batch, batch_idx):
        image, mask = batch  # (1, C, H, W) normalised, (1, H, W)
        proba = predict_tiled(torch_predict_fn(self.model), image[0].float().cpu().numpy(), self.window,
                              self.n_classes, self.overlap, self.val_batch)
        predicted = proba.argmax(0)
        truth = mask[0].cpu().numpy()
        picked = np.take_along_axis(proba, truth[None], 0)[0]
        self.val_loss_sum.update(float(-np.log(np.clip(picked, 1e-7, 1.0)).sum()))  # floats: any device
        self.val_pixels.update(float(truth.size))
        self.confusion.update(torch.from_numpy(predicted).to(self.device), mask[0])
        if self.n_classes == 2:
            scores = map_iou_scores((truth == 1)[None], (predicted == 1)[None])
            self.map_sum.update(float(scores.sum()))
            self.map_count.update(float(len(scores)))

    def on_validation_epoch_end(self):
        # compute() gathers every rank's counts (a rank with no section contributes zeros)
        confusion = self.confusion.compute().cpu().numpy().astype(np.int64)
        pixels = float(self.val_pixels.compute())
        val_loss = float(self.val_loss_sum.compute()) / pixels if pixels else float("nan")
        count = float(self.map_count.compute()) if self.n_classes == 2 else 0.0
        map_value = float(self.map_sum.compute()) / count if count else None
        for metric in (self.confusion, self.val_loss_sum, self.val_pixels, self.map_sum, self.map_count):
            metric.reset()
        self._val_loss = val_loss
        self._val_mean_iou = mean_iou(confusion)
        self._val_seconds += time.monotonic() - self._val_started
        self.log("val_loss", val_loss, prog_bar=True, sync_dist=False)  # already the same on every rank
        if not math.isnan(self._val_mean_iou):
            self.log("val_mean_iou", self._val_mean_iou, prog_bar=True, sync_dist=False)
        self.scores = {"confusion": confusion, "map_iou": map_value, "val_loss": val_loss,
                       "step": int(self.trainer.global_step)}

    # ------------------------------------------------------------ resume

    def on_save_checkpoint(self, checkpoint):
        checkpoint["segment_history"] = list(self.history)

    def on_load_checkpoint(self, checkpoint):
        self.history = list(checkpoint.get("segment_history", []))
