"""NumPy arrays in, the Keras seed layout included: train_data.npy + train_labels.npy (N x H x W [x C]).

``array_dataset`` checks the files and returns a lazy ``ArrayDataset`` (``.npy`` memory-mapped, ``.npz``
loaded); ``read_arrays`` decodes everything into a ``SampleSet`` (small inputs only)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from .array_dataset import ArrayDataset, find_non_finite
from .labels import label_array
from .sampleset import SampleSet
from .scaling import SCALINGS, choose_scaling

NPZ_DATA_KEYS = ("X", "x", "data", "images", "train_data")
NPZ_LABEL_KEYS = ("y", "labels", "train_labels")


NPY_MAGIC = b"\x93NUMPY"


def load_array(path: Path) -> np.ndarray:
    if path.stat().st_size == 0:
        raise DataError("is empty (0 bytes)", path)
    with open(path, "rb") as handle:
        if handle.read(len(NPY_MAGIC)) != NPY_MAGIC:  # a CSV or text saved as .npy: say so, not "needs pickle"
            raise DataError("is not a NumPy .npy file (it lacks the .npy header; save it with numpy.save)", path)
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r")
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "python objects" in str(exc).lower():
            raise DataError("holds Python objects (needs pickle, which geotune never loads); save numbers or "
                            "fixed-width strings", path) from exc
        raise DataError(f"is not a readable .npy file ({exc})", path) from exc
    except (OSError, EOFError) as exc:
        raise DataError(f"is not a readable .npy file ({exc})", path) from exc


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    try:
        archive = np.load(path, allow_pickle=False)
        keys = archive.files
        data_key = next((k for k in NPZ_DATA_KEYS if k in keys), None)
        if data_key is None:
            raise DataError(f"has no data array (looked for {', '.join(NPZ_DATA_KEYS)}; found {', '.join(keys)})", path)
        label_key = next((k for k in NPZ_LABEL_KEYS if k in keys), None)
        names = [str(n) for n in archive["class_names"]] if "class_names" in keys else None
        return archive[data_key], (archive[label_key] if label_key else None), names
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"is not a readable .npz archive ({exc})", path) from exc


def to_nchw(array: np.ndarray, path: Path) -> np.ndarray:
    """N x H x W -> N x 1 x H x W; N x H x W x C (C <= 16) -> N x C x H x W; N x C x H x W kept."""
    if array.ndim == 3:
        return array[:, None]
    if array.ndim == 4:
        if array.shape[-1] <= 16 and array.shape[1] > 16:
            return np.moveaxis(array, -1, 1)
        if array.shape[1] <= 16:
            return array
        raise DataError(f"cannot tell the channel axis of shape {array.shape}; use N x H x W x C", path)
    raise DataError(f"expected N x H x W or N x H x W x C samples, got shape {array.shape}", path)


def default_labels_path(data: Path) -> Path | None:
    """train_data.npy -> train_labels.npy beside it (the seed layout)."""
    if "_data" in data.stem:
        candidate = data.with_name(data.stem.replace("_data", "_labels") + data.suffix)
        if candidate.is_file():
            return candidate
    return None


def array_dataset(path: Path, labels: str | os.PathLike | None, image_size: int, require_labels: bool = True,
                  scaling: str | None = None) -> ArrayDataset:
    names = None
    files = [path]
    if path.suffix.lower() == ".npz":
        data, label_values, names = _read_npz(path)
        labels_source = path
    else:
        data = load_array(path)
        labels_path = Path(labels) if labels else default_labels_path(path)
        label_values = None
        labels_source = labels_path
        if labels_path is not None:
            if not labels_path.is_file():
                raise DataError("labels file not found", labels_path)
            label_values = np.asarray(load_array(labels_path))
    if labels and path.suffix.lower() == ".npz":
        labels_source = Path(labels)
        label_values = np.asarray(load_array(labels_source))
    if data.dtype.kind not in "biuf":
        raise DataError(f"holds {data.dtype} values; expected numbers", path)
    if len(data) == 0:
        raise DataError("holds no samples", path)
    data = to_nchw(data, path)
    if label_values is not None:
        label_values = np.asarray(label_values)
        if label_values.ndim != 1:
            raise DataError(f"labels must be one value per sample, got shape {label_values.shape}", labels_source)
        if len(label_values) != len(data):
            raise DataError(f"has {len(label_values)} labels but the data has {len(data)} samples", labels_source)
        if names is not None and np.issubdtype(label_values.dtype, np.integer) and label_values.max() < len(names):
            label_values = np.asarray(names, dtype=object)[label_values]
        label_values = label_array(label_values, labels_source)
    elif require_labels:
        raise DataError("no labels: pass --labels FILE.npy (one label per sample), or name the data *_data.npy "
                        "beside a *_labels.npy", path)
    if scaling is not None and scaling not in SCALINGS:
        raise DataError(f"unknown scaling {scaling!r}; expected one of {SCALINGS}")
    probe = np.asarray(data[: min(len(data), 64)])
    find_non_finite(data, path)  # streamed, so a bad sample is refused before training starts
    chosen, dtype_max = choose_scaling(data.dtype, probe)
    return ArrayDataset(data, image_size, scaling or chosen, dtype_max, label_values, path, files)


def read_arrays(path: Path, labels: str | os.PathLike | None, image_size: int, require_labels: bool = True,
                scaling: str | None = None) -> SampleSet:
    return array_dataset(path, labels, image_size, require_labels, scaling).to_sampleset()


def read_groups(path: str | os.PathLike, n: int) -> np.ndarray:
    """One group name per sample from a .npy (wells, surveys, blocks), as strings; checked against ``n`` samples."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path)
    groups = np.asarray(load_array(path))
    if groups.ndim != 1 or len(groups) != n:
        raise DataError(f"holds {groups.shape} values; --groups needs one group per sample ({n})", path)
    return groups.astype(str)
