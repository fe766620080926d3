"""How raw sample values become [0, 1] floats of one square size (the rule is recorded in the model config,
so prediction repeats it exactly)."""

from __future__ import annotations

import os

import numpy as np

from ..errors import DataError

# How raw values become [0, 1]; recorded in the model config so prediction repeats it.
SCALINGS = ("range", "robust")


def scale_to_unit(sample: np.ndarray, scaling: str, dtype_max: float | None = None) -> np.ndarray:
    """Map one sample's raw values to [0, 1].

    ``range``: divide by the integer type's maximum (images). ``robust``: seismic-style amplitudes, clipped
    at the 99th percentile of |x| so that a few spikes do not flatten the rest, with zero mapped to 0.5 so
    polarity survives.
    """
    sample = sample.astype(np.float32, copy=False)
    if scaling == "range":
        return np.clip(sample / float(dtype_max or 1.0), 0.0, 1.0)
    if scaling == "robust":
        limit = float(np.percentile(np.abs(sample), 99.0)) or 1.0
        return np.clip(sample / limit, -1.0, 1.0) * 0.5 + 0.5
    raise DataError(f"unknown scaling {scaling!r}; expected one of {SCALINGS}")


def choose_scaling(dtype: np.dtype, sample_values: np.ndarray | None = None) -> tuple[str, float | None]:
    """Integer data (images) scale by their type's range; floats already in [0, 1] stay; other floats are
    treated as amplitudes (robust scaling)."""
    if np.issubdtype(dtype, np.bool_):
        return "range", 1.0
    if np.issubdtype(dtype, np.integer):
        return "range", float(np.iinfo(dtype).max)
    if sample_values is not None and sample_values.size and sample_values.min() >= 0 and sample_values.max() <= 1:
        return "range", 1.0
    return "robust", None


def resize_batch(x: np.ndarray, size: int) -> np.ndarray:
    """N x C x H x W float32 -> N x C x size x size, bilinear with antialiasing when shrinking."""
    if x.shape[-2:] == (size, size):
        return x
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        shrink = x.shape[-1] > size or x.shape[-2] > size
        out = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False, antialias=shrink)
    return out.clamp_(0.0, 1.0).numpy()


def check_finite(array: np.ndarray, path: str | os.PathLike) -> None:
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array.reshape(len(array), -1)).all(axis=1)).ravel()
        raise DataError(
            f"contains NaN or Inf values (in {len(bad)} sample(s), first at index {int(bad[0])}); "
            "fill or drop them before training",
            path,
        )
