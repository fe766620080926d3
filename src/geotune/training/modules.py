"""LightningModules for the fine-tuning strategies, and the gradual-unfreezing callback.

Unfreezing is a pure function of the epoch (not a sequence of events), and the optimizer holds every
parameter group from the start, so a resumed run restores exactly the same trainable set and
optimizer groups: Lightning's own fine-tuning callbacks lose this on resume.
"""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import torch
from torch import nn
from torch.utils.data import Sampler

from .augment import augment_batch
from .depthwise import fast_depthwise_grad


class EpochSeededSampler(Sampler):
    """A shuffle that depends only on (seed, epoch), so a resumed run sees the same order."""

    def __init__(self, n: int, seed: int):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100003 + self.epoch)
        return iter(torch.randperm(self.n, generator=generator).tolist())

    def __len__(self) -> int:
        return self.n


def make_optimizer(name: str, groups, lr: float, weight_decay: float):
    # foreach=True explicitly: on CPU builds of torch 2.14 the default implementation measured ~10x slower
    # per step (benchmarks/results/optimizer_step.json).
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay, foreach=True)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, weight_decay=weight_decay, foreach=True)
    return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay, foreach=True)


class _ClassifierSteps(pl.LightningModule):
    """Shared loss / logging for both modules; batches are (x, y, sample_weight)."""

    def __init__(self, class_weights: torch.Tensor | None, label_smoothing: float = 0.0):
        super().__init__()
        self.register_buffer("class_weights", class_weights if class_weights is not None else torch.empty(0))
        self.label_smoothing = label_smoothing

    def _loss(self, logits, y, w):
        weights = self.class_weights if self.class_weights.numel() else None
        per_sample = nn.functional.cross_entropy(logits, y, weight=weights, reduction="none",
                                                 label_smoothing=self.label_smoothing)
        return (per_sample * w).sum() / w.sum().clamp_min(1e-8)

    def validation_step(self, batch, batch_idx):
        x, y, w = batch
        logits = self(x)
        loss = nn.functional.cross_entropy(logits, y)
        acc = (logits.argmax(1) == y).float().mean()
        self.log_dict({"val_loss": loss, "val_acc": acc}, prog_bar=True, on_epoch=True, sync_dist=True,
                      batch_size=len(y))


class HeadModule(_ClassifierSteps):
    """Trains only the head, on cached backbone features."""

    def __init__(self, head: nn.Module, lr: float, optimizer: str, weight_decay: float,
                 class_weights: torch.Tensor | None = None):
        super().__init__(class_weights)
        self.head = head
        self.lr, self.optimizer_name, self.weight_decay = lr, optimizer, weight_decay

    def forward(self, features):
        return self.head(features)

    def training_step(self, batch, batch_idx):
        x, y, w = batch
        loss = self._loss(self(x), y, w)
        self.log("train_loss", loss, prog_bar=True, on_epoch=True, on_step=False, batch_size=len(y))
        return loss

    def configure_optimizers(self):
        return make_optimizer(self.optimizer_name, self.head.parameters(), self.lr, self.weight_decay)


class FineTuneModule(_ClassifierSteps):
    """Trains the backbone too (``gradual`` or ``full``), with per-batch augmentation."""

    def __init__(self, model: nn.Module, lr: float, optimizer: str, weight_decay: float, strategy: str,
                 lr_decay: float = 0.3, unfreeze_every: int = 1, seed: int = 0, augment: bool = True,
                 class_weights: torch.Tensor | None = None):
        super().__init__(class_weights)
        self.model = model.to(memory_format=torch.channels_last)
        self.lr, self.optimizer_name, self.weight_decay = lr, optimizer, weight_decay
        self.strategy, self.lr_decay, self.unfreeze_every = strategy, lr_decay, unfreeze_every
        self.seed, self.augment = seed, augment
        self.groups = backbone_groups(model.backbone)  # bottom -> top

    def forward(self, x):
        with fast_depthwise_grad(self.model):
            return self.model(x.contiguous(memory_format=torch.channels_last))

    def training_step(self, batch, batch_idx):
        x, y, w = batch
        if self.augment:
            generator = torch.Generator().manual_seed(self.seed * 7919 + self.current_epoch * 100003 + batch_idx)
            x = augment_batch(x, generator)
        loss = self._loss(self(x), y, w)
        self.log("train_loss", loss, prog_bar=True, on_epoch=True, on_step=False, batch_size=len(y))
        return loss

    def trainable_groups(self, epoch: int) -> int:
        """How many backbone groups (from the top) train at ``epoch``: 0 while only the head trains."""
        if self.strategy == "full":
            return len(self.groups)
        return min(len(self.groups), epoch // max(1, self.unfreeze_every))

    def apply_unfreeze(self, epoch: int) -> None:
        open_groups = self.trainable_groups(epoch)
        frozen = self.groups[: len(self.groups) - open_groups]
        for group in self.groups:
            trainable = group not in frozen
            for param in group["params"]:
                param.requires_grad_(trainable)
            for module in group["norms"]:
                module.train(trainable and self.training)  # frozen BatchNorm keeps its running statistics

    def configure_optimizers(self):
        head_lr = self.lr
        param_groups = [{"params": list(self.model.head.parameters()), "lr": head_lr, "name": "head"}]
        for depth, group in enumerate(reversed(self.groups)):  # top first
            lr = head_lr * (self.lr_decay ** (depth + 1)) if self.strategy == "gradual" else head_lr
            param_groups.append({"params": group["params"], "lr": lr, "name": group["name"]})
        return make_optimizer(self.optimizer_name, param_groups, self.lr, self.weight_decay)


class GradualUnfreeze(pl.Callback):
    """Sets the trainable set at the start of every epoch from the epoch number alone."""

    def on_train_epoch_start(self, trainer, pl_module):
        pl_module.apply_unfreeze(trainer.current_epoch)


def backbone_groups(backbone: nn.Module) -> list[dict]:
    """The backbone's parameter groups bottom to top (timm's coarse group matcher: stem, stages, head conv)."""
    from timm.models import group_parameters

    names = group_parameters(backbone, backbone.group_matcher(coarse=True))
    params = dict(backbone.named_parameters())
    modules = dict(backbone.named_modules())
    groups = []
    for gid in sorted(names):
        prefixes = {n.rsplit(".", 1)[0] for n in names[gid]}
        norms = [modules[p] for p in sorted(prefixes) if isinstance(modules.get(p), nn.modules.batchnorm._BatchNorm)]
        groups.append({"name": f"backbone.{gid}", "params": [params[n] for n in names[gid]], "norms": norms})
    return groups


def class_weight_tensor(y: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights (balanced), as scikit-learn's class_weight='balanced'."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    weights = len(y) / (n_classes * np.maximum(counts, 1))
    return torch.tensor(weights, dtype=torch.float32)


class CachedGradualModule(FineTuneModule):
    """Gradual unfreezing that runs the frozen part of the backbone once per unfreezing step, not once per
    batch: the activations entering the lowest trainable stage are cached for every sample (and for its
    horizontal flip when augmenting) and epochs run only the trainable stages. Batches carry sample indices."""

    def __init__(self, model: nn.Module, inputs: torch.Tensor, stages: list[nn.Module], cache_batch: int = 64,
                 **kwargs):
        super().__init__(model, **kwargs)
        self.inputs = inputs  # N x C x S x S, float16 in [0, 1]
        self.stages = stages
        self.cache_batch = cache_batch
        self._cache: torch.Tensor | None = None
        self._caches: dict[int, torch.Tensor] = {}
        self._boundary: int | None = None

    def _boundaries_ahead(self) -> list[int]:
        """The lowest trainable stage for every epoch still to run (the schedule is a function of the epoch)."""
        from ..models.staging import first_trainable_stage

        saved = [p.requires_grad for p in self.model.parameters()]
        first = self.trainer.current_epoch if self._trainer is not None else 0
        last = self.trainer.max_epochs if self._trainer is not None else first + 1
        boundaries = set()
        for epoch in range(first, max(first + 1, last)):
            self.apply_unfreeze(epoch)
            boundaries.add(first_trainable_stage(self.stages))
        for p, flag in zip(self.model.parameters(), saved):
            p.requires_grad_(flag)
        return sorted(boundaries)

    def _ensure_cache(self) -> None:
        """One pass through the frozen stages stores the activations at every boundary the schedule will use,
        so each later unfreezing step costs nothing extra."""
        from ..models.staging import first_trainable_stage

        boundary = first_trainable_stage(self.stages)
        if boundary == self._boundary:
            return
        if boundary not in self._caches:
            wanted = [b for b in self._boundaries_ahead() if b <= boundary] or [boundary]
            self._caches = self._compute_caches(sorted(set(wanted) | {boundary}))
        for stale in [b for b in self._caches if b > boundary]:
            del self._caches[stale]  # boundaries only move down: higher ones are done with
        self._cache, self._boundary = self._caches[boundary], boundary

    def _compute_caches(self, boundaries: list[int]) -> dict[int, torch.Tensor]:
        views = [False, True] if self.augment else [False]
        deepest = max(boundaries)
        per_boundary: dict[int, list] = {b: [[] for _ in views] for b in boundaries}
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            for v, flip in enumerate(views):
                for start in range(0, len(self.inputs), self.cache_batch):
                    x = self.inputs[start:start + self.cache_batch].to(self.device).float()
                    x = self.model.normalize(x.flip(-1) if flip else x).contiguous(memory_format=torch.channels_last)
                    for index in range(deepest + 1):
                        if index in per_boundary:
                            per_boundary[index][v].append(x.to(torch.float16))
                        if index < len(self.stages) and index < deepest:
                            x = self.stages[index](x)
        self.model.train(was_training)
        return {b: torch.stack([torch.cat(chunks) for chunks in views_]) for b, views_ in per_boundary.items()}

    def forward_indices(self, index: torch.Tensor, view: torch.Tensor | None = None):
        x = self._cache[view if view is not None else 0, index] if self._cache.shape[0] > 1 else self._cache[0, index]
        x = x.float().contiguous(memory_format=torch.channels_last)
        with fast_depthwise_grad(self.model):
            for stage in self.stages[self._boundary:]:
                x = stage(x)
            return self.model.head(self.model.backbone.forward_head(x, pre_logits=True))

    def on_train_epoch_start(self):
        self._ensure_cache()

    def training_step(self, batch, batch_idx):
        index, y, w = batch
        view = None
        if self.augment and self._cache.shape[0] > 1:
            generator = torch.Generator().manual_seed(self.seed * 7919 + self.current_epoch * 100003 + batch_idx)
            view = torch.randint(0, self._cache.shape[0], (len(index),), generator=generator)
        loss = self._loss(self.forward_indices(index, view), y, w)
        self.log("train_loss", loss, prog_bar=True, on_epoch=True, on_step=False, batch_size=len(y))
        return loss

    def validation_step(self, batch, batch_idx):
        index, y, w = batch
        self._ensure_cache()
        logits = self.forward_indices(index)
        loss = nn.functional.cross_entropy(logits, y)
        acc = (logits.argmax(1) == y).float().mean()
        self.log_dict({"val_loss": loss, "val_acc": acc}, prog_bar=True, on_epoch=True, sync_dist=True,
                      batch_size=len(y))
