"""The well-log sequence network: a small 1D CNN that classifies the centre sample of a depth window."""

from __future__ import annotations

import torch
from torch import nn


class LogCNN(nn.Module):
    """Three convolutions over depth; the head sees the centre sample's features and the window's mean and max."""

    def __init__(self, n_channels: int, n_classes: int, width: int = 32, dropout: float = 0.3):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(n_channels, width, 5, padding=2), nn.BatchNorm1d(width), nn.ReLU(),
            nn.Conv1d(width, width, 5, padding=2, dilation=1), nn.BatchNorm1d(width), nn.ReLU(),
            nn.Conv1d(width, width, 3, padding=2, dilation=2), nn.BatchNorm1d(width), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(3 * width, n_classes))

    def forward(self, x):
        h = self.body(x)
        centre = h[:, :, h.shape[-1] // 2]
        return self.head(torch.cat([centre, h.mean(-1), h.amax(-1)], dim=1))


def build_log_cnn(n_channels: int, n_classes: int, width: int = 32, dropout: float = 0.3) -> LogCNN:
    return LogCNN(n_channels, n_classes, width, dropout)
