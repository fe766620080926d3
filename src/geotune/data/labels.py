"""Label values as strings, and the sorted class list a classifier is trained on."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from ..errors import DataError


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
