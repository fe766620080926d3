"""The well-log 1D CNN on the Lightning engine (``--task logs --model-type cnn|ensemble``).

The recipe is the one the CNN was tuned with: AdamW (weight decay 1e-3), cosine learning-rate decay over
the run's epochs, cross-entropy with label smoothing 0.05 (and balanced class weights with
--class-weights), and small Gaussian noise on the inputs (logs differ between logging tools). The noise
is drawn from (seed, epoch, batch), so a resumed run sees the same noise.
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from torch import nn

from ..config import TrainConfig
from .lightning_fit import EpochLossLog

NOISE = 0.05
LABEL_SMOOTHING = 0.05
WEIGHT_DECAY = 1e-3


class LogsCNNModule(EpochLossLog, pl.LightningModule):
    def __init__(self, net: nn.Module, epochs: int, lr: float, seed: int, class_weight: np.ndarray | None = None):
        super().__init__()
        self.net = net
        self.epochs, self.lr, self.seed = epochs, lr, seed
        weight = torch.empty(0) if class_weight is None else torch.as_tensor(class_weight, dtype=torch.float32)
        self.register_buffer("class_weight", weight)

    def forward(self, x):
        return self.net(x)

    def _loss(self, logits, y):
        weight = self.class_weight if self.class_weight.numel() else None
        return nn.functional.cross_entropy(logits, y, weight=weight, label_smoothing=LABEL_SMOOTHING)

    def training_step(self, batch, batch_idx):
        x, y = batch
        generator = torch.Generator().manual_seed(self.seed * 7919 + self.current_epoch * 100003 + batch_idx)
        x = x + NOISE * torch.randn(x.shape, generator=generator).to(x)
        loss = self._loss(self(x), y)
        self.remember_loss(loss, len(y))
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log_dict({"val_loss": nn.functional.cross_entropy(logits, y),
                       "val_acc": (logits.argmax(1) == y).float().mean()},
                      prog_bar=True, on_epoch=True, sync_dist=True, batch_size=len(y))

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=WEIGHT_DECAY)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, self.epochs))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


def fit_logs_cnn(train, n_classes: int, cfg: TrainConfig, *, class_weight: np.ndarray | None = None,
                 width: int = 32, val=None, run_dir: Path | None = None, epochs: int | None = None):
    """Train a fresh ``LogCNN`` on ``train`` (a labelled Dataset of (C, L) windows, e.g. ``logs.cnn.WellWindows``).

    With ``run_dir`` the fit is a main one (``make_trainer``: devices, precision, checkpoints, --resume, and
    --patience when ``val`` is given); without, a quiet single-device fit (cross-validation folds).
    Returns (network on the CPU in eval mode, trainer)."""
    from ..models.logs_cnn import build_log_cnn
    from .lightning_fit import fit_module

    epochs = epochs or cfg.epochs
    torch.manual_seed(cfg.seed)  # the same initial weights on every rank and every rerun
    net = build_log_cnn(train.n_channels, n_classes, width)
    module = LogsCNNModule(net, epochs, cfg.lr, cfg.seed, class_weight)
    trainer = fit_module(cfg, module, train, val, run_dir, quiet=run_dir is None, max_epochs=epochs, min_batch=2)
    net.cpu().eval()
    return net, trainer
