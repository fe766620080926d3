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

from ..data.classify_datamodule import EpochSeededSampler  # noqa: F401  (re-exported)
from .augment import augment_batch
from .depthwise import fast_depthwise_grad


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
        # One copy to the model's dtype and channels_last (the faster layout for CPU and GPU convolutions here);
        # a no-op for batches the data module already delivers that way.
        x = x.to(dtype=self.model.normalize.mean.dtype, memory_format=torch.channels_last)
        with fast_depthwise_grad(self.model):
            return self.model(x)

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
    horizontal flip when augmenting) and epochs run only the trainable stages. Batches carry sample indices.

    Only the current boundary's activations are kept (a step down recomputes them from the inputs, which is
    cheaper than holding every boundary at once), in RAM up to ``memory_budget`` bytes and in a disk-backed
    ``np.memmap`` under ``cache_dir`` above it; ``release_cache()`` deletes them.
    """

    def __init__(self, model: nn.Module, inputs, stages: list[nn.Module], cache_batch: int = 64,
                 cache_dir=None, memory_budget: float = 2e9, workers: int = 0, **kwargs):
        super().__init__(model, **kwargs)
        self.inputs = inputs  # a dataset (or array) of C x S x S samples in [0, 1]
        self.stages = stages
        self.cache_batch, self.workers = cache_batch, workers
        self.cache_dir, self.memory_budget = cache_dir, float(memory_budget)
        self._cache = None  # views x N x C x H x W float16: a CPU tensor or an np.memmap
        self._cache_file = None
        self._boundary: int | None = None

    @property
    def cache_on_disk(self) -> bool:
        return isinstance(self._cache, np.memmap)

    def _ensure_cache(self) -> None:
        from ..models.staging import first_trainable_stage

        boundary = first_trainable_stage(self.stages)
        if boundary == self._boundary:
            return
        self.release_cache()  # at most one boundary's activations at a time
        self._cache = self._compute_cache(boundary)
        self._boundary = boundary

    def _allocate(self, shape: tuple, boundary: int):
        if 2 * int(np.prod(shape)) <= self.memory_budget:
            return torch.empty(shape, dtype=torch.float16)
        import tempfile
        from pathlib import Path

        folder = Path(self.cache_dir) if self.cache_dir is not None else Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        rank = self.global_rank if self._trainer is not None else 0
        self._cache_file = folder / f"activations-rank{rank}-stage{boundary}.f16"
        return np.memmap(self._cache_file, dtype=np.float16, mode="w+", shape=shape)

    def _compute_cache(self, boundary: int):
        from .features import sample_batches

        flips = [False, True] if self.augment else [False]
        cache, start = None, 0
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            for batch in sample_batches(self.inputs, self.cache_batch, self.workers):
                for v, flip in enumerate(flips):
                    x = batch.to(self.device)
                    x = self.model.normalize(x.flip(-1) if flip else x).contiguous(memory_format=torch.channels_last)
                    for stage in self.stages[:boundary]:
                        x = stage(x)
                    x = x.to(torch.float16).cpu()
                    if cache is None:
                        cache = self._allocate((len(flips), len(self.inputs), *x.shape[1:]), boundary)
                    if isinstance(cache, np.memmap):
                        cache[v, start:start + len(x)] = x.numpy()
                    else:
                        cache[v, start:start + len(x)] = x
                start += len(batch)
        if isinstance(cache, np.memmap):
            cache.flush()
        self.model.train(was_training)
        return cache

    def release_cache(self) -> None:
        """Drop the cached activations and delete their file, if they were on disk."""
        self._cache, self._boundary = None, None  # the last reference: the mapping closes with it
        if self._cache_file is not None:
            self._cache_file.unlink(missing_ok=True)
            self._cache_file = None

    def _gather(self, index: torch.Tensor, view: torch.Tensor | None) -> torch.Tensor:
        views = view if view is not None and self._cache.shape[0] > 1 else torch.zeros_like(index)
        if isinstance(self._cache, np.memmap):
            return torch.from_numpy(np.asarray(self._cache[views.cpu().numpy(), index.cpu().numpy()]))
        return self._cache[views.cpu(), index.cpu()]

    def forward_indices(self, index: torch.Tensor, view: torch.Tensor | None = None):
        x = self._gather(index, view).to(self.device).float().contiguous(memory_format=torch.channels_last)
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
