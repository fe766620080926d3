"""Test-time augmentation: a classifier's probabilities averaged over flipped and rotated copies of each input.

Thin sections and many seismic patches have no preferred orientation, so a flipped or rotated copy is as
valid an input as the original, and averaging the model's answers over such copies removes part of its
orientation-dependent error. Modes: ``off`` (1 view), ``flips`` (identity, horizontal, vertical and both
flips: 4 views) and ``dihedral`` (those four and the same on the transposed image, i.e. every rotation by a
multiple of 90 degrees with and without a mirror: 8 views). Inputs are square (N x C x S x S), so all
views have the input's shape.
"""

from __future__ import annotations

import numpy as np

TTA_MODES = ("off", "flips", "dihedral")
VIEWS = {"off": 1, "flips": 4, "dihedral": 8}


def view_count(mode: str | None) -> int:
    return VIEWS.get(mode or "off", 1)


def apply_view(x, view: int):
    """View ``view`` (0..7) of a batch N x C x H x W, numpy or torch: bit 0 flips left-right, bit 1 flips
    up-down, bit 2 transposes H and W (view 0 is the batch itself)."""
    if isinstance(x, np.ndarray):
        if view & 1:
            x = x[..., ::-1]
        if view & 2:
            x = x[..., ::-1, :]
        if view & 4:
            x = np.swapaxes(x, -1, -2)
        return np.ascontiguousarray(x)
    if view & 1:
        x = x.flip(-1)
    if view & 2:
        x = x.flip(-2)
    if view & 4:
        x = x.transpose(-1, -2)
    return x.contiguous()


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def averaged_proba(logits_of, x, mode: str | None, temperature: float = 1.0) -> np.ndarray:
    """Mean over the mode's views of softmax(logits_of(view of x) / temperature); ``logits_of`` maps a batch
    (the type of ``x``) to an N x K numpy array of logits."""
    total = None
    for view in range(view_count(mode)):
        proba = softmax(np.asarray(logits_of(apply_view(x, view)), dtype=np.float64), temperature)
        total = proba if total is None else total + proba
    return total / view_count(mode)
