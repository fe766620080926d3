"""Callbacks of a pretraining run: the wall-clock budget and one progress line per pass."""

from __future__ import annotations

import time

import lightning.pytorch as pl

from ..logs import progress


class TimeBudget(pl.Callback):
    """Stop after the batch that crosses ``deadline`` (time.monotonic()); the budget is per invocation, so a
    resumed run gets its own (Lightning's Timer would carry the elapsed time over from the checkpoint)."""

    def __init__(self, deadline: float):
        self.deadline, self.stopped, self.first_step = deadline, False, None

    def on_train_start(self, trainer, pl_module):
        self.first_step = trainer.global_step  # > 0 when resumed from a checkpoint

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if time.monotonic() >= self.deadline:
            self.stopped = True
            trainer.should_stop = True


class EpochLines(pl.Callback):
    """``pass N: loss ..., z_std ...`` after every pass (Lightning's bar shows only on a terminal)."""

    def on_train_epoch_end(self, trainer, pl_module):
        shown = ", ".join(f"{k} {float(v):.4f}" for k, v in trainer.callback_metrics.items())
        progress.stage(f"pass {trainer.current_epoch + 1}: {shown} ({trainer.global_step} steps)")
