"""A small, quiet leave-one-well-out logs fit shared by the tests of costs and area validation."""

from __future__ import annotations

import warnings

from geotune.config import TrainConfig
from geotune.logs import progress
from geotune.logs.las import LogsWarning
from geotune.logs.pipeline import fit


def fit_small_logo(data, out, **options) -> dict:
    """Few trees (seconds, not minutes), progress lines and LAS warnings off, --cv logo over the wells."""
    progress.enable(False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LogsWarning)
            return fit(TrainConfig(data=str(data), task="logs", label_column="Facies", group_by="Well Name",
                                   cv="logo", out=str(out), gbm_params={"max_iter": 8},
                                   forest_params={"n_estimators": 10}, **options))
    finally:
        progress.enable(None)
