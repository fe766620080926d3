"""Any supported image-like source, opened one way: ``open_dataset`` (lazy, for training and streaming) or
``load_samples`` (every sample decoded into a ``SampleSet``, for callers that need arrays).

The scaling, label and container names are re-exported here for the modules that import them from this one.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError
from . import arrays, images
from .labels import class_names, label_array  # noqa: F401  (re-exported)
from .sampleset import SampleDataset, SampleSet  # noqa: F401  (re-exported)
from .scaling import SCALINGS, check_finite, choose_scaling, resize_batch, scale_to_unit  # noqa: F401


def open_dataset(data: str | os.PathLike, labels: str | os.PathLike | None = None, image_size: int = 224,
                 require_labels: bool = True, scaling: str | None = None, group_by: str | None = None,
                 channels: int | None = None, jpeg_draft: bool = True) -> SampleDataset:
    """A lazy dataset over a class-per-folder tree, a CSV manifest, a folder or list of images, or arrays
    (.npy N x H x W [x C], memory-mapped; .npz with X/y). Every input check runs here, before any decoding.
    ``jpeg_draft``: decode JPEGs at the smallest power-of-two reduction still >= ``image_size`` (faster)."""
    dataset = _open(Path(data), labels, image_size, require_labels, scaling, group_by, channels)
    if hasattr(dataset, "jpeg_draft"):
        dataset.jpeg_draft = jpeg_draft
    return dataset


def _open(path: Path, labels, image_size, require_labels, scaling, group_by, channels) -> SampleDataset:
    if not path.exists():
        raise DataError("no such file or folder", path)
    if path.is_dir():
        return images.folder_dataset(path, image_size, require_labels=require_labels, channels=channels)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return images.manifest_dataset(path, image_size, require_labels=require_labels, group_by=group_by,
                                       channels=channels)
    if group_by:
        raise DataError(f"--group-by {group_by} needs a CSV manifest with that column (path,label,{group_by})", path)
    if suffix in (".npy", ".npz"):
        return arrays.array_dataset(path, labels, image_size, require_labels=require_labels, scaling=scaling)
    if suffix in images.IMAGE_SUFFIXES:
        return images.files_dataset([path], image_size, channels=channels)
    raise DataError(f"unsupported input type {suffix or '(no extension)'}: give an image folder, a CSV manifest, "
                    "images, or .npy/.npz arrays", path)


def load_samples(data: str | os.PathLike, labels: str | os.PathLike | None = None, image_size: int = 224,
                 require_labels: bool = True, scaling: str | None = None, group_by: str | None = None,
                 channels: int | None = None, jpeg_draft: bool = True) -> SampleSet:
    """``open_dataset`` decoded into arrays: memory grows with the data, so training does not use it."""
    return open_dataset(data, labels, image_size, require_labels, scaling, group_by, channels,
                        jpeg_draft).to_sampleset()
