"""A log table made ready for the model: columns found, aliases applied, wells together in depth order.

Every row keeps its input position in ``ROW``, so whatever the preparation reorders, predictions go back to
the rows in the order they came.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .las import WELL, apply_aliases, order_by_depth, read_logs

ROW = "_geotune_row"
WELL_NAMES = ("Well Name", "WELL", "Well", "well", "well_name", "WELL_NAME", "UWI")
DEPTH_NAMES = ("Depth", "DEPTH", "DEPT", "MD", "depth", "TDEP")


def find_column(frame: pd.DataFrame, name: str | None, fallbacks=()) -> str | None:
    """A column by exact name, then case-insensitively, then the first fallback present."""
    if name:
        if name in frame.columns:
            return name
        lower = {str(c).lower(): c for c in frame.columns}
        if str(name).lower() in lower:
            return lower[str(name).lower()]
    for candidate in fallbacks:
        if candidate in frame.columns:
            return candidate
    return None


def prepare(frame: pd.DataFrame, well: str | None, depth: str | None, aliases: dict, keep: set,
            source=None) -> tuple[pd.DataFrame, str, str | None]:
    """Copy with a row number, a well column (one well when there is none), aliases applied, each well in depth order."""
    frame = frame.copy()
    frame[ROW] = np.arange(len(frame))
    if well is None:
        well = WELL if WELL not in frame.columns else "__well__"
        frame[well] = Path(source).stem if source else "well"
    frame[well] = frame[well].astype(str)
    frame = apply_aliases(frame, aliases, keep=keep | {well, ROW} | ({depth} if depth else set()), path=source)
    # rows of one well together, first-appearance order; then depth order within each well
    order = pd.Categorical(frame[well], categories=pd.unique(frame[well]))
    frame = frame.iloc[np.argsort(order.codes, kind="stable")].reset_index(drop=True)
    if depth is not None:
        frame[depth] = pd.to_numeric(frame[depth], errors="coerce")
        frame = order_by_depth(frame, well, depth, source, sort=not isinstance(source, (str, os.PathLike)) or
                               Path(source).suffix.lower() != ".las")
    return frame, well, depth


def read(data) -> tuple[pd.DataFrame, Any]:
    """A table as given, or the logs of a file or folder, and where they came from (None for a table)."""
    if isinstance(data, pd.DataFrame):
        return data, None
    return read_logs(data), data


def class_sort_key(value: str):
    """Classes in numeric order where they are numbers (lithology codes), then by name."""
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def encode_labels(names: pd.Series, classes: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Class indices (-1 where unlabelled) and the classes, sorted by ``class_sort_key`` unless given."""
    labelled = names.notna().to_numpy()
    if classes is None:
        classes = sorted(names[labelled].astype(str).unique().tolist(), key=class_sort_key)
    index_of = {name: i for i, name in enumerate(classes)}
    y = np.full(len(names), -1)
    y[labelled] = names[labelled].astype(str).map(index_of).to_numpy()
    return y, classes


@dataclass
class WellRows:
    """A prepared table and what every fold shares: labels as indices (-1: unlabelled), the model inputs
    computed once (per-well features: one well's values never depend on another's, so sharing them across
    folds leaks nothing), and the source for messages."""

    frame: pd.DataFrame
    well: str
    depth: str | None
    y: np.ndarray
    classes: list[str]
    spec: Any  # the features.FeatureSpec ``x`` was built with
    x: dict
    source: Any = None
    cnn_scale: dict | None = None  # the CNN's channel mean and std over every row (when x holds CNN windows)

    @property
    def wells(self) -> np.ndarray:
        return self.frame[self.well].to_numpy()
