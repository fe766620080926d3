"""The sequence model: a small 1D CNN that classifies each depth sample from a window of logs around it.

Inputs per sample: every log curve standardised with the training mean and spread, a 0/1 channel
per curve saying whether it was measured (so a curve missing from a whole well is seen as missing,
not as an average value), indicator curves, relative position and one-hot categories. Windows are
cut within one well; the well's ends are padded by repeating the end sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .features import FeatureSpec


def channel_names(spec: FeatureSpec) -> list[str]:
    names = list(spec.curves) + [f"{c}_present" for c in spec.curves] + list(spec.indicators) + ["relpos_well"]
    for column, cats in spec.categorical.items():
        names += [f"{column}={c}" for c in cats]
    return names


def channels(frame: pd.DataFrame, spec: FeatureSpec, well: str, depth: str | None,
             mean: np.ndarray | None = None, std: np.ndarray | None = None):
    """(n, C) per-sample channels; returns (channels, mean, std) — mean/std computed when not given."""
    n = len(frame)
    curves = np.column_stack([frame[c].to_numpy(dtype=float) if c in frame else np.full(n, np.nan)
                              for c in spec.curves]) if spec.curves else np.zeros((n, 0))
    if mean is None:
        mean = np.nan_to_num(np.nanmean(curves, axis=0)) if len(curves) else np.zeros(curves.shape[1])
        std = np.nan_to_num(np.nanstd(curves, axis=0), nan=1.0)
        std[std == 0] = 1.0
    present = ~np.isnan(curves)
    scaled = np.where(present, (curves - mean) / std, 0.0)
    parts = [scaled, present.astype(float)]
    for flag in spec.indicators:
        values = frame[flag].to_numpy(dtype=float) if flag in frame else np.full(n, np.nan)
        parts.append(np.nan_to_num(values - np.nanmean(values) if np.isfinite(values).any() else values)[:, None])
    relpos = np.zeros(n)
    for _, rows in frame.groupby(well, sort=False):
        idx = frame.index.get_indexer(rows.index)
        if depth is not None and depth in rows and len(rows) > 1:
            d = rows[depth].to_numpy(dtype=float)
            span = np.nanmax(d) - np.nanmin(d)
            relpos[idx] = (d - np.nanmin(d)) / span if span > 0 else np.linspace(0, 1, len(rows))
        else:
            relpos[idx] = np.linspace(0, 1, len(rows)) if len(rows) > 1 else 0.0
    parts.append(relpos[:, None])
    for column, cats in spec.categorical.items():
        values = frame[column].astype(str).to_numpy() if column in frame else np.full(n, "")
        parts.append(np.stack([(values == c).astype(float) for c in cats], axis=1))
    return np.concatenate(parts, axis=1).astype(np.float32), mean, std


def windows(values: np.ndarray, wells: np.ndarray, half: int) -> np.ndarray:
    """(n, C, 2*half+1): the window around each sample, cut within its own well."""
    out = np.empty((len(values), values.shape[1], 2 * half + 1), dtype=np.float32)
    start = 0
    boundaries = np.flatnonzero(wells[1:] != wells[:-1]) + 1
    for stop in list(boundaries) + [len(values)]:
        block = np.pad(values[start:stop], ((half, half), (0, 0)), mode="edge")
        view = np.lib.stride_tricks.sliding_window_view(block, 2 * half + 1, axis=0)  # (m, C, L)
        out[start:stop] = view
        start = stop
    return out


def build_net(n_channels: int, n_classes: int, width: int = 32, dropout: float = 0.3):
    import torch
    from torch import nn

    class LogCNN(nn.Module):
        def __init__(self):
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

    return LogCNN()


def train(x: np.ndarray, y: np.ndarray, n_classes: int, epochs: int = 30, batch_size: int = 64, lr: float = 1e-3,
          seed: int = 42, class_weight: np.ndarray | None = None, width: int = 32):
    import torch
    from torch import nn

    from .threads import threads

    torch.set_num_threads(threads())  # small convolutions: extra threads only contend for busy cores
    torch.manual_seed(seed)
    generator = np.random.default_rng(seed)
    net = build_net(x.shape[1], n_classes, width)
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, epochs))
    weight = None if class_weight is None else torch.tensor(class_weight, dtype=torch.float32)
    loss_fn = nn.CrossEntropyLoss(weight=weight, label_smoothing=0.05)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    net.train()
    for _ in range(epochs):
        order = generator.permutation(len(x))
        for i in range(0, len(order), batch_size):
            batch = torch.from_numpy(order[i:i + batch_size])
            if len(batch) < 2:
                continue
            inputs = xt[batch]
            inputs = inputs + 0.05 * torch.randn_like(inputs)  # small noise: logs differ between tools
            optimiser.zero_grad()
            loss_fn(net(inputs), yt[batch]).backward()
            optimiser.step()
        scheduler.step()
    net.eval()
    return net


def predict_proba(net, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    import torch

    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(torch.softmax(net(torch.from_numpy(x[i:i + batch_size])), dim=1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))
