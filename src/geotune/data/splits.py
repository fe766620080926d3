"""Train/validation splits shared by every task.

Stratified by default; with groups (wells, surveys, sites) no group is ever on both sides;
leave-one-group-out yields one fold per group. The same seed gives the same split.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from ..errors import DataError


def train_val_split(
    labels: Sequence,
    val_fraction: float = 0.2,
    seed: int = 42,
    groups: Sequence | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val). Stratified by label; grouped when ``groups`` is given."""
    labels = np.asarray(labels)
    n = len(labels)
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"validation fraction must be between 0 and 1, got {val_fraction}")
    if groups is None:
        from sklearn.model_selection import train_test_split

        _, counts = np.unique(labels, return_counts=True)
        stratify = labels if counts.min() >= 2 and round(n * val_fraction) >= len(counts) else None
        train, val = train_test_split(
            np.arange(n), test_size=val_fraction, random_state=seed, shuffle=True, stratify=stratify
        )
        return np.sort(train), np.sort(val)
    groups = np.asarray(groups)
    unique_groups = np.unique(groups)
    if len(unique_groups) < 2:
        raise DataError(f"a grouped split needs at least two groups, found {len(unique_groups)}")
    from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold

    n_splits = int(min(len(unique_groups), max(2, round(1.0 / val_fraction))))
    _, counts = np.unique(labels, return_counts=True)
    if counts.max() < n_splits:  # too few samples per class to stratify the folds: groups only
        splitter = GroupShuffleSplit(n_splits=1, test_size=val_fraction, random_state=seed)
    else:
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    train, val = next(splitter.split(np.zeros(n), labels, groups))
    return np.sort(train), np.sort(val)


def leave_one_group_out(groups: Sequence) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(group name, train indices, held-out indices) for each group in sorted order."""
    groups = np.asarray(groups)
    unique_groups = np.unique(groups)
    if len(unique_groups) < 2:
        raise DataError(f"leave-one-group-out needs at least two groups, found {len(unique_groups)}")
    for group in unique_groups:
        held = groups == group
        yield str(group), np.flatnonzero(~held), np.flatnonzero(held)


def check_groups_disjoint(groups: Sequence, train: np.ndarray, val: np.ndarray) -> None:
    groups = np.asarray(groups)
    shared = set(groups[train]) & set(groups[val])
    if shared:
        raise AssertionError(f"groups on both sides of the split: {sorted(shared)[:5]}")
