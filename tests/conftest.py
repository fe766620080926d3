"""Shared fixtures: the team's data folder (skipped when absent) and small synthetic inputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("GEOTUNE_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip with a message saying how to provide it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA} (set GEOTUNE_SHARED_DATA to run these tests)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_dataset(shared_data):
    """``shared_dataset(name)`` -> ../shared/data/name, skipping the test when that data set is absent.

    A fixture (not a plain function) so that every test reaching the team's data takes ``shared_data``
    and is marked ``shared_data`` by ``pytest_collection_modifyitems`` below."""

    def find(name: str) -> Path:
        path = shared_data / name
        if not path.exists():
            pytest.skip(f"{path} not found (set GEOTUNE_SHARED_DATA to the team's data folder)")
        return path

    return find


def needs_shared_data(item) -> bool:
    """Whether a collected test takes the shared data fixtures (directly or through another fixture)."""
    return "shared_data" in getattr(item, "fixturenames", ())


@pytest.fixture(autouse=True)
def quiet_progress(monkeypatch):
    """Commands run in-process print progress lines; tests of other things expect only their own output.
    Tests of progress itself delete the variable (``monkeypatch.delenv("GEOTUNE_PROGRESS")``)."""
    monkeypatch.setenv("GEOTUNE_PROGRESS", "0")


@pytest.hookimpl(tryfirst=True)  # before -m selects, so that `-m shared_data` / `-m "not shared_data"` see the mark
def pytest_collection_modifyitems(config, items):
    for item in items:
        if needs_shared_data(item) and item.get_closest_marker("shared_data") is None:
            item.add_marker(pytest.mark.shared_data)


@pytest.fixture(scope="session")
def tiny_patches(tmp_path_factory) -> dict:
    """Synthetic seismic patches in the Keras seed layout: 4 classes, 12 per class to train, 6 to test."""
    import numpy as np

    from geotune.data.synthetic import make_patches

    folder = tmp_path_factory.mktemp("tiny_patches")
    paths = {}
    for split, n, seed in (("train", 12, 0), ("test", 6, 1)):
        x, y, classes = make_patches(n, 32, seed)
        paths[f"{split}_data"] = folder / f"{split}_data.npy"
        paths[f"{split}_labels"] = folder / f"{split}_labels.npy"
        np.save(paths[f"{split}_data"], x)
        np.save(paths[f"{split}_labels"], np.asarray(classes)[y])
    paths["classes"] = classes
    return paths


@pytest.fixture(scope="session")
def tiny_run(tiny_patches, tmp_path_factory) -> Path:
    """A trained linear-probe run on ``tiny_patches`` (32 px), shared by tests that only read it."""
    from geotune import finetune

    out = tmp_path_factory.mktemp("runs") / "tiny"
    finetune(tiny_patches["train_data"], out, labels=tiny_patches["train_labels"], image_size=32, epochs=8,
             batch_size=16, strategy="linear-probe")  # the default (auto) is tested in test_strategy_auto.py
    return out


def pytest_configure(config):
    # Under pytest-xdist each worker gets one thread: two workers on two cores with two threads each
    # oversubscribe the CPU and make training steps several times slower.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)
