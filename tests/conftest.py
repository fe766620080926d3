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


def shared_dataset(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} not found (set GEOTUNE_SHARED_DATA to the team's data folder)")
    return path
