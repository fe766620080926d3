"""The cheap adaptation: recompute every batch-norm layer's running mean and variance on the target data
(AdaBN, Li et al. 2016). No weights change; features of the new survey are then normalised by its own
statistics instead of ImageNet's."""

from __future__ import annotations

import time

import torch
from torch import nn


def batchnorm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def recalibrate_batchnorm(backbone: nn.Module, normalize: nn.Module, batches, deadline: float | None = None,
                          on_batch=None) -> int:
    """Reset the running statistics and re-estimate them as plain averages over ``batches`` (no gradients).
    Stops early at ``deadline`` (time.monotonic()); returns the number of samples seen."""
    layers = batchnorm_layers(backbone)
    saved = [(m.momentum, m.training) for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over every batch seen
    backbone.eval()
    for m in layers:
        m.train()
    seen = 0
    try:
        with torch.no_grad():
            for step, batch in enumerate(batches, 1):
                backbone(normalize(batch.float()))
                seen += len(batch)
                if on_batch is not None:
                    on_batch(step)
                if deadline is not None and time.monotonic() > deadline:
                    break
    finally:
        for m, (momentum, training) in zip(layers, saved):
            m.momentum = momentum
            m.train(training)
    return seen
