"""The sequence model: a small 1D CNN that classifies each depth sample from a window of logs around it.

Inputs per sample: every log curve standardised with the training mean and spread, a 0/1 channel
per curve saying whether it was measured (so a curve missing from a whole well is seen as missing,
not as an average value), indicator curves, relative position and one-hot categories. Windows are
cut within one well, when a batch asks for them (``WellWindows``); the well's ends are padded by repeating
the end sample. The network is ``geotune.models.logs_cnn``; it trains through
``geotune.training.logs_module``.
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


class WellWindows:
    """The depth window around each chosen row, cut within its own well, built when asked for (a torch
    Dataset: ``ds[i]`` is the (C, 2*half+1) window of row ``rows[i]``, with its label when labels are set).

    Rows of one well are contiguous in ``values``; a well's ends are padded by repeating the end sample.
    Only the (n, C) channels are held, not n windows of 2*half+1 samples each."""

    def __init__(self, values: np.ndarray, wells: np.ndarray, half: int, rows: np.ndarray | None = None,
                 labels: np.ndarray | None = None, _bounds: tuple | None = None):
        self.values = np.ascontiguousarray(values, dtype=np.float32)
        self.half = int(half)
        if _bounds is None:
            wells = np.asarray(wells)
            block = np.concatenate([[0], np.cumsum(wells[1:] != wells[:-1])]) if len(wells) else np.zeros(0, int)
            starts = np.flatnonzero(np.r_[True, wells[1:] != wells[:-1]]) if len(wells) else np.zeros(0, int)
            stops = np.r_[starts[1:], len(wells)] if len(wells) else np.zeros(0, int)
            _bounds = (starts[block], stops[block] - 1)
        self.first, self.last = _bounds
        self.rows = np.arange(len(self.values)) if rows is None else np.asarray(rows)
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self.offsets = np.arange(-self.half, self.half + 1)

    @property
    def n_channels(self) -> int:
        return self.values.shape[1]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):
        import torch

        row = self.rows[i]
        window = torch.from_numpy(np.ascontiguousarray(
            self.values[np.clip(row + self.offsets, self.first[row], self.last[row])].T))
        return window if self.labels is None else (window, int(self.labels[i]))

    def __getitems__(self, indices):
        """A whole batch at once, one gather (the DataLoader's collate_fn passes it through)."""
        import torch

        index = np.asarray(indices)
        windows = torch.from_numpy(self._gather(self.rows[index]))
        return windows if self.labels is None else (windows, torch.from_numpy(self.labels[index]))

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        index = np.clip(rows[:, None] + self.offsets[None, :], self.first[rows, None], self.last[rows, None])
        return np.ascontiguousarray(self.values[index].transpose(0, 2, 1))

    def select(self, index, labels: np.ndarray | None = None) -> "WellWindows":
        """The windows of ``rows[index]`` (labels: one per selected row, or taken along)."""
        if labels is None and self.labels is not None:
            labels = self.labels[index]
        return WellWindows(self.values, None, self.half, self.rows[index], labels, (self.first, self.last))

    def labelled(self, labels: np.ndarray) -> "WellWindows":
        """The same windows with one label per row."""
        return WellWindows(self.values, None, self.half, self.rows, labels, (self.first, self.last))

    def unlabelled(self) -> "WellWindows":
        return WellWindows(self.values, None, self.half, self.rows, None, (self.first, self.last))

    def array(self) -> np.ndarray:
        """(n, C, 2*half+1), every window at once (for small inputs and checks)."""
        return self._gather(self.rows)


def windows(values: np.ndarray, wells: np.ndarray, half: int) -> WellWindows:
    """The window around each sample, cut within its own well (a lazy Dataset; ``.array()`` materialises)."""
    return WellWindows(values, wells, half)


def predict_proba(net, x: "WellWindows", batch_size: int = 512) -> np.ndarray:
    import torch
    from torch.utils.data import DataLoader

    net.eval()
    source = x.unlabelled()
    out = []
    with torch.no_grad():
        for batch in DataLoader(source, batch_size=batch_size, collate_fn=lambda b: b):
            out.append(torch.softmax(net(batch), dim=1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))
