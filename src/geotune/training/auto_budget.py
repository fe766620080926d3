"""Time accounting of `--strategy auto` when the data is big enough to fine-tune (issue #21).

On ~1,500 photographs on two cores, gradual fine-tuning is where the accuracy is, and it is also most of the
budget. So the search (a) keeps time for it while it scores probes (a probe that would leave too little is
skipped), (b) fine-tunes at the largest input size whose estimate fits what is left, (c) runs it once: the
candidate trains on the training split, is early-stopped on the validation split (as `--strategy gradual`
itself does) and its best weights become the final model, and (d) stops its epoch loop when the next epoch
would not finish before the deadline, keeping the best epoch so far. Pixels are decoded and resized once
(`decoded_once`), not once per epoch.
"""

from __future__ import annotations

import time

import lightning.pytorch as pl
import numpy as np
import torch

# Fine-tuning input sizes tried, largest first; never above the size the probe chose (the backbone's native).
FINETUNE_SIZES = (224, 192, 160, 128)
# Gradual fine-tuning cost in frozen forward passes over every sample, per epoch on average over 10 epochs:
# the frozen part runs once per unfreezing step (twice: the cached flips) and the trainable top trains
# (forward + backward) on the training split. Measured (benchmarks/auto_budget_epochs.py: Lite0, 128 px, 240
# samples, two loaded cores), epochs 1-5 cost 1.58, 1.58, 1.62, 2.18, 2.74 passes (load ~15) and 1.15, 1.07,
# 1.19, 1.37, 2.02 (load ~9), growing as lower blocks unfreeze; 3 is on the safe side of their mean
# extrapolated to 10 epochs (the time limit, not this estimate, ends the epoch loop).
PASSES_PER_EPOCH = 3.0
# Start fine-tuning only when this share of its epochs fits in what is left (early stopping often ends it
# sooner; the time limit ends it later otherwise, keeping the best epoch). 0.4 of 10 epochs: the head and the
# top three block groups, whose real cost (about 6 passes measured) is half the estimate's 12.
MIN_EPOCH_SHARE = 0.4
# The next epoch is predicted to take the last one's time times this (more blocks train as unfreezing goes on):
EPOCH_GROWTH = 1.35  # measured growth between consecutive epochs: 1.03, 1.35, 1.26
# Seconds kept for writing the model directory after the search.
SAVE_SECONDS = 5.0


def finetune_seconds(forward_seconds: float, epochs: int) -> float:
    """Estimated seconds of gradual fine-tuning from one frozen forward pass over every sample."""
    return forward_seconds * (1.0 + PASSES_PER_EPOCH * epochs)


def finetune_size(forward_seconds_at, largest: int, epochs: int, seconds_left: float) -> int | None:
    """The largest size (<= ``largest``) whose fine-tuning estimate, for MIN_EPOCH_SHARE of ``epochs``, fits
    ``seconds_left``; ``forward_seconds_at(size)`` is one frozen forward pass over every sample at that size."""
    sizes = [largest] + [s for s in FINETUNE_SIZES if s < largest]
    for size in sizes:
        if finetune_seconds(forward_seconds_at(size), epochs) * MIN_EPOCH_SHARE <= seconds_left:
            return size
    return None


def tta_seconds(forward_seconds_per_sample: float, n_val: int) -> float:
    """The final fit's test-time augmentation check: seven more views of the validation split."""
    return 7 * n_val * forward_seconds_per_sample


class TimeLimit(pl.Callback):
    """Stops training at an epoch's end when the next epoch would not finish by ``deadline``
    (time.perf_counter() seconds), and after any step once the deadline has passed."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.epoch_started = time.perf_counter()
        self.epochs_run = 0
        self.epoch_seconds: list[float] = []
        self.stopped_early = False

    def on_train_epoch_start(self, trainer, pl_module):
        self.epoch_started = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if time.perf_counter() > self.deadline:
            trainer.should_stop = self.stopped_early = True

    def on_train_epoch_end(self, trainer, pl_module):
        self.epochs_run += 1
        now = time.perf_counter()
        self.epoch_seconds.append(round(now - self.epoch_started, 1))
        if now + EPOCH_GROWTH * (now - self.epoch_started) > self.deadline:
            trainer.should_stop = self.stopped_early = True


class BestWeights(pl.Callback):
    """Keeps (in memory) the weights of the epoch with the lowest validation loss and puts them back when
    training ends, so a run stopped by time or patience ends on its best epoch, not its last."""

    def __init__(self):
        self.best = float("inf")
        self.best_epoch: int | None = None
        self.state: dict | None = None

    def on_validation_end(self, trainer, pl_module):
        loss = trainer.callback_metrics.get("val_loss")
        if loss is None or trainer.sanity_checking:
            return
        if float(loss) < self.best:
            self.best, self.best_epoch = float(loss), trainer.current_epoch
            self.state = {k: v.detach().clone() for k, v in pl_module.model.state_dict().items()}

    def on_fit_end(self, trainer, pl_module):
        if self.state is not None:
            pl_module.model.load_state_dict(self.state)


class DecodedSamples(torch.utils.data.Dataset):
    """A lazy sample dataset decoded and resized once into memory (float16, as its items are), so that epochs
    and the activation cache's recomputation do not decode every image again. Metadata pass through."""

    def __init__(self, samples, workers: int = 0, batch_size: int = 64):
        from .features import sample_batches

        self.samples = samples
        self.x = None
        start = 0
        for batch in sample_batches(samples, batch_size, workers):
            if self.x is None:
                self.x = torch.empty((len(samples), *batch.shape[1:]), dtype=torch.float16)
            self.x[start:start + len(batch)] = batch.to(torch.float16)
            start += len(batch)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.x[index]

    def __getattr__(self, name):
        if name in ("samples", "x") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.samples, name)


def decoded_once(samples, memory_gb: float, workers: int = 0):
    """``samples`` decoded into memory when they fit in ``memory_gb`` (else the lazy dataset itself)."""
    if isinstance(samples, np.ndarray) or not len(samples):
        return samples
    first = np.asarray(samples[0])
    if 2 * first.size * len(samples) > memory_gb * 1e9:
        return samples
    return DecodedSamples(samples, workers)
