"""Which columns of a log table are not logs, and how label values become class names.

Real exports carry columns that must never reach the model as curves: the interpreter's confidence in
the label (it is derived from the label, FORCE 2020's ``..._CONFIDENCE``) and map coordinates (they
name the place, so a model that learns them cannot transfer to a new area). Both stay in the table for
validation groups and shift checks; they are only kept out of the features, with a warning.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .las import warn

COORDINATE_NAMES = {"X_LOC", "Y_LOC", "X", "Y", "EASTING", "NORTHING", "LAT", "LON", "LONG", "LATITUDE",
                    "LONGITUDE", "UTM_X", "UTM_Y", "XCOORD", "YCOORD", "X_COORD", "Y_COORD"}
X_NAMES = ("X_LOC", "x_loc", "X", "EASTING", "UTM_X", "XCOORD", "X_COORD", "LON", "LONGITUDE")
Y_NAMES = ("Y_LOC", "y_loc", "Y", "NORTHING", "UTM_Y", "YCOORD", "Y_COORD", "LAT", "LATITUDE")
_DERIVED = re.compile(r"CONFIDENCE|INTERP", re.IGNORECASE)


def not_logs(frame: pd.DataFrame, label: str, source=None) -> set[str]:
    """Columns to keep out of the features by default: coordinates and label-derived interpretation columns."""
    out = {c for c in frame.columns if str(c).upper() in COORDINATE_NAMES}
    out |= {c for c in frame.columns if c != label and _DERIVED.search(str(c))}
    if out:
        warn(f"columns kept out of the features (coordinates name the place; confidence columns come from the "
             f"label): {', '.join(sorted(map(str, out)))}; give extra: features to choose columns yourself", source)
    return out


def label_names(values: pd.Series) -> pd.Series:
    """Label values as class names: whole numbers read as floats from LAS (30000.0) become ``30000``."""
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=float)
        finite = np.isfinite(numbers)
        if finite.any() and np.all(numbers[finite] == np.round(numbers[finite])):
            out = pd.Series([str(int(v)) if f else None for v, f in zip(numbers, finite)], index=values.index,
                            dtype=object)
            return out
    return pd.Series([str(v) if pd.notna(v) else None for v in values], index=values.index, dtype=object)


def find_column(frame: pd.DataFrame, names) -> str | None:
    for name in names:
        if name in frame.columns:
            return name
    return None
