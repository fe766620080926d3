"""Validation groups that are areas, not wells: how well a model carries to a new area.

Leave-one-well-out keeps the held-out well's neighbours in training, so it measures the next well in the
same field. ``cv_group`` (``--cv-group``) names a coarser group, every well of which is held out at once:

- ``quadrant``: the leading number of the well name (Norwegian ``25/11-15`` -> 25, ``31_2-7`` -> 31);
  neighbouring quadrant numbers with fewer than ``cv_min_wells`` wells are merged (32, 33, 34, 35, 36 ->
  ``32-36``), so no fold rests on one well;
- ``spatial-blocks``: wells clustered on their coordinates (``X_LOC``/``Y_LOC`` or similar columns) into
  ``cv_blocks`` compact blocks (k-means on the well positions);
- any other value: a column of the table (a header field such as the field name), constant within a well.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from .columns import X_NAMES, Y_NAMES, find_column

MIN_WELLS = 3  # a held-out area of fewer wells than this is one well's score again
BLOCKS = 3


def quadrant(name: str) -> int | None:
    match = re.match(r"\s*(\d+)\s*[/_\- ]", str(name))
    return int(match.group(1)) if match else None


def merge_small(numbers: dict[str, int], min_wells: int) -> dict[str, str]:
    """Well -> group label, neighbouring quadrant numbers merged until each group holds ``min_wells`` wells
    (a short tail joins the group before it)."""
    counts = pd.Series(numbers).value_counts().sort_index()
    groups: list[list[int]] = []
    current: list[int] = []
    for q, n in counts.items():
        current.append(int(q))
        if sum(counts[c] for c in current) >= min_wells:
            groups.append(current)
            current = []
    if current:
        if groups:
            groups[-1] += current
        else:
            groups.append(current)
    label = {}
    for members in groups:
        text = str(members[0]) if len(members) == 1 else f"{members[0]}-{members[-1]}"
        label.update({q: text for q in members})
    return {well: label[q] for well, q in numbers.items()}


def area_groups(frame: pd.DataFrame, well: str, how: str, min_wells: int = MIN_WELLS, blocks: int = BLOCKS,
                seed: int = 42, source=None) -> np.ndarray:
    """One group label per row of ``frame`` (rows of a well share it)."""
    wells = frame[well].astype(str)
    if how == "quadrant":
        numbers = {w: quadrant(w) for w in pd.unique(wells)}
        unnamed = [w for w, q in numbers.items() if q is None]
        if unnamed:
            raise DataError(f"cv_group quadrant: no quadrant number at the start of well name(s) "
                            f"{', '.join(unnamed[:5])}; use spatial-blocks or a column", source)
        mapping = merge_small(numbers, min_wells)
        return wells.map(mapping).to_numpy()
    if how == "spatial-blocks":
        x, y = find_column(frame, X_NAMES), find_column(frame, Y_NAMES)
        if x is None or y is None:
            raise DataError("cv_group spatial-blocks needs well coordinates (X_LOC/Y_LOC, EASTING/NORTHING, ...)",
                            source)
        where = frame.groupby(wells, sort=False)[[x, y]].median()
        unplaced = where.index[where.isna().any(axis=1)].tolist()
        if unplaced:
            raise DataError(f"cv_group spatial-blocks: well(s) {', '.join(unplaced[:5])} have no coordinates",
                            source)
        n = min(int(blocks), len(where))
        if n < 2:
            raise ConfigError("cv_group spatial-blocks needs at least two wells and cv_blocks >= 2")
        from sklearn.cluster import KMeans

        labels = KMeans(n_clusters=n, n_init=10, random_state=seed).fit_predict(where.to_numpy(dtype=float))
        # blocks numbered west to east by their centre, so names do not depend on k-means' labelling
        centres = pd.Series(where.iloc[:, 0].to_numpy()).groupby(labels).mean().sort_values()
        rank = {label: i + 1 for i, label in enumerate(centres.index)}
        mapping = {w: f"block-{rank[label]}" for w, label in zip(where.index, labels)}
        return wells.map(mapping).to_numpy()
    column = find_column(frame, [how, how.upper(), how.lower()])
    if column is None:
        raise DataError(f"cv_group {how!r} is neither quadrant, spatial-blocks nor a column of the data", source)
    values = frame[column].astype(str)
    mixed = values.groupby(wells, sort=False).nunique()
    if (mixed > 1).any():
        raise DataError(f"cv_group column {column!r} changes within well(s) "
                        f"{', '.join(mixed.index[mixed > 1][:5])}; an area group must hold whole wells", source)
    return values.to_numpy()
