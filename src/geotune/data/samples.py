"""A set of image-like samples ready for a backbone, whatever file they came from.

Every reader returns a ``SampleSet``: samples resized to one square size, scaled to [0, 1] and stored
channels-first as float16 (half the memory; a backbone's own precision is not affected), with labels,
optional groups and the identifying columns that predictions carry forward.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DataError

# How raw values become [0, 1]; recorded in the model config so prediction repeats it.
SCALINGS = ("range", "robust")


@dataclass
class SampleSet:
    x: np.ndarray  # N x C x S x S float16 in [0, 1]
    labels: np.ndarray | None  # N original label values (str), or None for unlabelled data
    ids: list[str]
    source: str
    groups: np.ndarray | None = None
    table: dict[str, list] = field(default_factory=dict)  # identifying columns kept for predictions
    scaling: str = "range"

    def __len__(self) -> int:
        return len(self.x)

    @property
    def channels(self) -> int:
        return int(self.x.shape[1])

    def subset(self, index: Sequence[int]) -> "SampleSet":
        index = np.asarray(index)
        return SampleSet(
            self.x[index],
            None if self.labels is None else self.labels[index],
            [self.ids[i] for i in index],
            self.source,
            None if self.groups is None else self.groups[index],
            {k: [v[i] for i in index] for k, v in self.table.items()},
            self.scaling,
        )


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


def label_array(values: Sequence, path: str | os.PathLike) -> np.ndarray:
    """Labels as strings (ints keep their digits); mixed ints and strings are refused."""
    values = np.asarray(values)
    if values.dtype == object:
        kinds = {type(v).__name__ for v in values.tolist()}
        if len(kinds) > 1:
            raise DataError(f"labels mix types ({', '.join(sorted(kinds))}); use all integers or all strings", path)
    if np.issubdtype(values.dtype, np.floating):
        if not np.isfinite(values).all() or not np.all(values == np.round(values)):
            raise DataError("labels must be integers or strings, found non-integer numbers", path)
        values = values.astype(np.int64)
    return np.asarray([str(v) for v in values.tolist()], dtype=object)


def class_names(labels: np.ndarray, path: str | os.PathLike) -> list[str]:
    """Sorted class names; integer-like labels sort numerically."""
    unique = sorted(set(labels.tolist()), key=lambda v: (0, int(v), "") if _is_int(v) else (1, 0, v))
    if len(unique) < 2:
        raise DataError(f"only one class ({unique[0] if unique else 'none'}) in the labels; "
                        "training needs at least two", path)
    return [str(u) for u in unique]


def _is_int(value: str) -> bool:
    try:
        int(value)
        return True
    except ValueError:
        return False


def load_samples(data: str | os.PathLike, labels: str | os.PathLike | None = None, image_size: int = 224,
                 require_labels: bool = True, scaling: str | None = None, group_by: str | None = None,
                 channels: int | None = None) -> SampleSet:
    """Read any supported image-like source: a class-per-folder tree, a CSV manifest, a folder or list of
    images, or arrays (.npy N x H x W [x C], .npz with X/y)."""
    from . import arrays, images

    path = Path(data)
    if not path.exists():
        raise DataError("no such file or folder", path)
    if path.is_dir():
        return images.read_folder(path, image_size, require_labels=require_labels, channels=channels)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return images.read_manifest(path, image_size, require_labels=require_labels, group_by=group_by,
                                    channels=channels)
    if group_by:
        raise DataError(f"--group-by {group_by} needs a CSV manifest with that column (path,label,{group_by})", path)
    if suffix in (".npy", ".npz"):
        return arrays.read_arrays(path, labels, image_size, require_labels=require_labels, scaling=scaling)
    if suffix in images.IMAGE_SUFFIXES:
        return images.read_files([path], image_size, channels=channels)
    raise DataError(f"unsupported input type {suffix or '(no extension)'}: give an image folder, a CSV manifest, "
                    "images, or .npy/.npz arrays", path)
