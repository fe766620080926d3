"""Multimodal fusion of cached embeddings (image / seismic) with tabular or log features.

    FusionClassifier(mode="late")   one small encoder per modality; their embeddings are concatenated
                                    and a head classifies them (modality dropout so that neither input
                                    is leaned on alone)
    FusionClassifier(mode="early")  the baseline: all inputs concatenated, one MLP
    frozen_patch_embedder(...)      a tiny fixed conv net that turns patches into embeddings once,
                                    standing in for a backbone in tests and benchmarks

Inputs are a mapping modality name -> (n, d) array (embeddings computed once and cached), so any
backbone's features can be fused. A fitted model saves to a geotune model directory (task "fusion",
weights in safetensors, standardisation in config.json).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import DataError, ModelError

MODES = ("late", "early")


def _check_blocks(blocks: Mapping[str, np.ndarray], names: list[str] | None = None) -> dict[str, np.ndarray]:
    if not blocks:
        raise DataError("fusion needs at least one input modality")
    out = {str(k): np.asarray(v, dtype=np.float32) for k, v in blocks.items()}
    lengths = {k: len(v) for k, v in out.items()}
    if len(set(lengths.values())) != 1:
        raise DataError(f"modalities have different numbers of rows: {lengths}")
    for k, v in out.items():
        if v.ndim != 2:
            raise DataError(f"modality {k!r} must be a 2D (rows x features) array, got shape {v.shape}")
    if names is not None and sorted(out) != sorted(names):
        raise DataError(f"the model was fitted on modalities {sorted(names)}, got {sorted(out)}")
    return out


class FusionClassifier:
    def __init__(self, mode: str = "late", hidden: int = 64, epochs: int = 60, lr: float = 3e-3,
                 batch_size: int = 128, weight_decay: float = 1e-3, modality_dropout: float = 0.2,
                 seed: int = 0):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode, self.hidden, self.epochs, self.lr = mode, hidden, epochs, lr
        self.batch_size, self.weight_decay, self.modality_dropout, self.seed = (batch_size, weight_decay,
                                                                                  modality_dropout, seed)
        self.names: list[str] = []
        self.dims: dict[str, int] = {}
        self.mean: dict[str, np.ndarray] = {}
        self.std: dict[str, np.ndarray] = {}
        self.n_classes = 0
        self.net = None

    # -- network
    def _build(self):
        import torch
        from torch import nn

        names, dims, hidden, mode, n_classes = self.names, self.dims, self.hidden, self.mode, self.n_classes

        class Late(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoders = nn.ModuleDict({
                    n: nn.Sequential(nn.Linear(dims[n], hidden), nn.ReLU(), nn.Dropout(0.2)) for n in names})
                self.head = nn.Linear(hidden * len(names), n_classes)

            def forward(self, inputs, drop=None):
                parts = []
                for i, n in enumerate(names):
                    h = self.encoders[n](inputs[n])
                    if drop is not None:
                        h = h * drop[:, i:i + 1]
                    parts.append(h)
                return self.head(torch.cat(parts, dim=1))

        class Early(nn.Module):
            def __init__(self):
                super().__init__()
                self.mlp = nn.Sequential(nn.Linear(sum(dims.values()), hidden), nn.ReLU(), nn.Dropout(0.2),
                                         nn.Linear(hidden, n_classes))

            def forward(self, inputs, drop=None):
                return self.mlp(torch.cat([inputs[n] for n in names], dim=1))

        return Late() if mode == "late" else Early()

    def _tensors(self, blocks):
        import torch

        return {n: torch.from_numpy(np.nan_to_num((blocks[n] - self.mean[n]) / self.std[n])) for n in self.names}

    # -- estimator API
    def fit(self, blocks: Mapping[str, np.ndarray], y: np.ndarray, n_classes: int | None = None) -> "FusionClassifier":
        import torch
        from torch import nn

        blocks = _check_blocks(blocks)
        y = np.asarray(y, dtype=np.int64)
        if len(y) != len(next(iter(blocks.values()))):
            raise DataError("labels and inputs have different numbers of rows")
        self.names = sorted(blocks)
        self.dims = {n: blocks[n].shape[1] for n in self.names}
        self.mean = {n: np.nanmean(blocks[n], axis=0) for n in self.names}
        self.std = {n: np.where(np.nanstd(blocks[n], axis=0) > 0, np.nanstd(blocks[n], axis=0), 1.0).astype(np.float32)
                    for n in self.names}
        self.n_classes = int(n_classes or y.max() + 1)
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.net = self._build()
        inputs = self._tensors(blocks)
        target = torch.from_numpy(y)
        optimiser = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        loss_fn = nn.CrossEntropyLoss()
        self.net.train()
        for _ in range(self.epochs):
            order = rng.permutation(len(y))
            for i in range(0, len(order), self.batch_size):
                idx = torch.from_numpy(order[i:i + self.batch_size])
                drop = None
                if self.mode == "late" and len(self.names) > 1 and self.modality_dropout > 0:
                    keep = rng.random((len(idx), len(self.names))) >= self.modality_dropout
                    keep[~keep.any(axis=1), rng.integers(len(self.names))] = True  # never drop every modality
                    drop = torch.from_numpy(keep.astype(np.float32))
                optimiser.zero_grad()
                loss_fn(self.net({n: t[idx] for n, t in inputs.items()}, drop), target[idx]).backward()
                optimiser.step()
        self.net.eval()
        return self

    def predict_proba(self, blocks: Mapping[str, np.ndarray]) -> np.ndarray:
        import torch

        if self.net is None:
            raise ModelError("the fusion model is not fitted")
        blocks = _check_blocks(blocks, self.names)
        with torch.no_grad():
            return torch.softmax(self.net(self._tensors(blocks)), dim=1).numpy()

    def predict(self, blocks: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.predict_proba(blocks).argmax(1)

    # -- model directory
    def save(self, folder, classes: list[str] | None = None, metrics: dict | None = None,
             extra: dict | None = None) -> Path:
        """Write a geotune model directory; ``extra`` adds keys to config.json (e.g. the input columns)."""
        from .. import modeldir

        config = {**(extra or {}), "task": "fusion", "mode": self.mode, "hidden": self.hidden, "modalities": self.names,
                  "dims": self.dims, "n_classes": self.n_classes,
                  "classes": classes or [str(i) for i in range(self.n_classes)],
                  "mean": {n: self.mean[n].tolist() for n in self.names},
                  "std": {n: self.std[n].tolist() for n in self.names}}
        return modeldir.save(folder, config, tensors=self.net.state_dict(), metrics=metrics or {})

    @classmethod
    def load(cls, folder) -> "FusionClassifier":
        from .. import modeldir

        folder, config = modeldir.load_config(folder)
        if config.get("task") != "fusion":
            raise ModelError(f"not a fusion model (task {config.get('task')!r})", folder)
        model = cls(mode=config["mode"], hidden=int(config["hidden"]))
        model.names = list(config["modalities"])
        model.dims = {k: int(v) for k, v in config["dims"].items()}
        model.n_classes = int(config["n_classes"])
        model.mean = {n: np.asarray(config["mean"][n], dtype=np.float32) for n in model.names}
        model.std = {n: np.asarray(config["std"][n], dtype=np.float32) for n in model.names}
        model.net = model._build()
        try:
            model.net.load_state_dict(modeldir.load_tensors(folder))
        except RuntimeError as exc:
            raise ModelError(f"weights do not match config.json ({exc})", folder) from exc
        model.net.eval()
        return model


def frozen_patch_embedder(n_filters: int = 16, seed: int = 0):
    """A fixed (never trained) two-layer conv net: patches (n, H, W) -> embeddings (n, 4 * n_filters).

    Random convolution filters with rectification and pooled statistics are a cheap, deterministic
    texture descriptor; a pretrained backbone's pooled features can be cached and fused the same way.
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, n_filters, 3, padding=1), nn.ReLU(),
                        nn.Conv2d(n_filters, 2 * n_filters, 3, padding=1, stride=2), nn.ReLU())
    for p in net.parameters():
        p.requires_grad_(False)
    net.eval()

    def embed(patches: np.ndarray, batch_size: int = 256) -> np.ndarray:
        patches = np.asarray(patches, dtype=np.float32)
        if patches.ndim != 3:
            raise DataError(f"patches must be (n, height, width), got shape {patches.shape}")
        out = []
        with torch.no_grad():
            for i in range(0, len(patches), batch_size):
                h = net(torch.from_numpy(patches[i:i + batch_size, None]))
                out.append(torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1).numpy())
        return np.concatenate(out) if out else np.zeros((0, 4 * n_filters), dtype=np.float32)

    return embed
