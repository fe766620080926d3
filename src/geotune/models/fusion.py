"""Multimodal fusion networks over cached embeddings (image / seismic) and tabular or log features.

    build_fusion_net("late", ...)   one small encoder per modality; their embeddings are concatenated
                                    and a head classifies them (the trainer applies modality dropout
                                    through ``drop`` so that neither input is leaned on alone)
    build_fusion_net("early", ...)  the baseline: all inputs concatenated, one MLP
    frozen_patch_embedder(...)      a tiny fixed conv net that turns patches into embeddings once,
                                    standing in for a backbone in tests and benchmarks

Inputs are a mapping modality name -> (n, d) tensor. The estimator around these networks (standardisation,
fit on the Lightning engine, save/load) is ``geotune.training.fusion_classifier.FusionClassifier``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..errors import DataError

MODES = ("late", "early")


class LateFusion(nn.Module):
    def __init__(self, names: list[str], dims: dict[str, int], hidden: int, n_classes: int):
        super().__init__()
        self.names = list(names)
        self.encoders = nn.ModuleDict({
            n: nn.Sequential(nn.Linear(dims[n], hidden), nn.ReLU(), nn.Dropout(0.2)) for n in self.names})
        self.head = nn.Linear(hidden * len(self.names), n_classes)

    def forward(self, inputs: dict, drop: torch.Tensor | None = None):
        """``drop``: (batch, modalities) 0/1, zeroing a modality's encoding for that row (modality dropout)."""
        parts = []
        for i, n in enumerate(self.names):
            h = self.encoders[n](inputs[n])
            if drop is not None:
                h = h * drop[:, i:i + 1]
            parts.append(h)
        return self.head(torch.cat(parts, dim=1))


class EarlyFusion(nn.Module):
    def __init__(self, names: list[str], dims: dict[str, int], hidden: int, n_classes: int):
        super().__init__()
        self.names = list(names)
        self.mlp = nn.Sequential(nn.Linear(sum(dims[n] for n in self.names), hidden), nn.ReLU(), nn.Dropout(0.2),
                                 nn.Linear(hidden, n_classes))

    def forward(self, inputs: dict, drop: torch.Tensor | None = None):
        return self.mlp(torch.cat([inputs[n] for n in self.names], dim=1))


def build_fusion_net(mode: str, names: list[str], dims: dict[str, int], hidden: int, n_classes: int) -> nn.Module:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return (LateFusion if mode == "late" else EarlyFusion)(names, dims, hidden, n_classes)


def frozen_patch_embedder(n_filters: int = 16, seed: int = 0):
    """A fixed (never trained) two-layer conv net: patches (n, H, W) -> embeddings (n, 4 * n_filters).

    Random convolution filters with rectification and pooled statistics are a cheap, deterministic
    texture descriptor; a pretrained backbone's pooled features can be cached and fused the same way.
    """
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
