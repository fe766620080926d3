"""Classification heads on pooled backbone features."""

from __future__ import annotations

import torch
from torch import nn


def build_head(kind: str, in_features: int, n_classes: int, hidden: int = 1024) -> nn.Module:
    """``linear``: one layer (the default). ``seed``: Dense(1024, ReLU) -> Dense(N), the Keras recipe's head
    (its global average pooling is the backbone's own)."""
    if kind == "linear":
        return nn.Linear(in_features, n_classes)
    if kind == "seed":
        return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, n_classes))
    raise ValueError(f"unknown head {kind!r}")


class Normalize(nn.Module):
    """Per-channel (x - mean) / std inside the model, so exports and every caller preprocess alike."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class GeoClassifier(nn.Module):
    """[0, 1] inputs -> normalise -> backbone (pooled features) -> head -> logits."""

    def __init__(self, backbone: nn.Module, head: nn.Module, mean, std):
        super().__init__()
        self.normalize = Normalize(mean, std)
        self.backbone = backbone
        self.head = head

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.normalize(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
