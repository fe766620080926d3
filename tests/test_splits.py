import numpy as np
import pytest

from geotune.data.splits import check_groups_disjoint, leave_one_group_out, train_val_split
from geotune.errors import DataError


def test_stratified_split_keeps_class_proportions_and_is_seeded():
    labels = np.array([0] * 80 + [1] * 20)
    train, val = train_val_split(labels, 0.2, seed=42)
    assert len(val) == 20 and set(train).isdisjoint(val)
    assert np.bincount(labels[val]).tolist() == [16, 4]
    assert np.array_equal(val, train_val_split(labels, 0.2, seed=42)[1])
    assert not np.array_equal(val, train_val_split(labels, 0.2, seed=7)[1])


def test_grouped_split_never_shares_a_group():
    rng = np.random.default_rng(0)
    groups = np.repeat([f"well{i}" for i in range(10)], 30)
    labels = rng.integers(0, 3, len(groups))
    train, val = train_val_split(labels, 0.2, seed=1, groups=groups)
    check_groups_disjoint(groups, train, val)
    assert 0.05 < len(val) / len(groups) < 0.4


def test_leave_one_group_out_covers_every_group_once():
    groups = np.array(["a", "b", "a", "c", "b", "c"])
    folds = list(leave_one_group_out(groups))
    assert [g for g, _, _ in folds] == ["a", "b", "c"]
    held = np.concatenate([test for _, _, test in folds])
    assert sorted(held.tolist()) == list(range(6))
    for group, train, test in folds:
        assert set(groups[test]) == {group} and group not in set(groups[train])
    with pytest.raises(DataError, match="at least two groups"):
        list(leave_one_group_out(np.array(["x", "x"])))


def test_grouped_split_with_fewer_samples_per_class_than_folds_still_keeps_groups_apart():
    labels = np.array(["a", "b", "c", "a", "b", "c", "d", "d", "e", "e", "f", "f"])
    groups = np.array([f"g{i % 4}" for i in range(len(labels))])
    train, val = train_val_split(labels, 0.2, 0, groups)
    assert len(train) and len(val) and len(train) + len(val) == len(labels)
    assert not set(groups[train]) & set(groups[val])
