"""Real seismic patches (LANDMASS-1 subset, ../shared/data): a cached linear probe on a few hundred
patches beats chance (0.25) by a wide margin."""

import numpy as np
import pytest


@pytest.mark.slow
def test_linear_probe_on_landmass_beats_chance_widely(tmp_path, shared_dataset):
    folder = shared_dataset("landmass1_subset_2000")
    archive = np.load(folder / "landmass1_subset_99x99.npz")
    x, y, names = archive["X"], archive["y"], archive["class_names"]
    rng = np.random.default_rng(0)
    # 60 training patches per class from each class's first 375, test on each class's last 50:
    # contiguous blocks, because neighbouring patches overlap.
    train = np.concatenate([rng.choice(np.flatnonzero(y == c)[:375], 60, replace=False) for c in range(4)])
    test = np.concatenate([np.flatnonzero(y == c)[-50:] for c in range(4)])
    np.save(tmp_path / "train_data.npy", x[train])
    np.save(tmp_path / "train_labels.npy", names[y[train]])
    np.save(tmp_path / "test_data.npy", x[test])
    np.save(tmp_path / "test_labels.npy", names[y[test]])

    from geotune.api import evaluate, finetune

    finetune(tmp_path / "train_data.npy", tmp_path / "run", image_size=64, epochs=30, val_split=0.2)
    metrics = evaluate(tmp_path / "run", tmp_path / "test_data.npy", labels=tmp_path / "test_labels.npy")
    assert metrics["accuracy"] > 0.75, metrics["accuracy"]
