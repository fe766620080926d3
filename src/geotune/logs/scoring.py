"""Scores of log predictions: classification metrics, adjacent-facies accuracy and the cost of held-out decisions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from . import costs
from .las import warn


def load_adjacency(value, classes: list[str]) -> dict[str, list[str]] | None:
    """The adjacency table (a mapping, or a JSON file of one): class -> classes counted as nearly right."""
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"adjacency table is not readable JSON ({exc})", path) from exc
    if not isinstance(value, dict):
        raise ConfigError("adjacency must map a class to a list of adjacent classes")
    table = {str(k): [str(v) for v in vs] for k, vs in value.items()}
    unknown = sorted((set(table) | {v for vs in table.values() for v in vs}) - set(classes))
    if unknown:
        warn(f"adjacency table names classes not in the data: {', '.join(unknown)}; ignored")
    return table


def adjacent_accuracy(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str], adjacency: dict) -> float:
    """Share of samples predicted as the true facies or one the table calls adjacent to it."""
    ok = y_true == y_pred
    for i, name in enumerate(classes):
        near = [classes.index(c) for c in adjacency.get(name, []) if c in classes]
        ok |= (y_true == i) & np.isin(y_pred, near)
    return float(ok.mean()) if len(ok) else float("nan")


def score(y_true, y_pred, classes, proba=None, adjacency=None) -> dict:
    """The house metrics (``classification_metrics``), plus adjacent accuracy when a table is given."""
    from ..evaluate.metrics import classification_metrics

    metrics = classification_metrics(y_true, y_pred, classes, proba)
    if adjacency:
        metrics["adjacent_accuracy"] = adjacent_accuracy(np.asarray(y_true), np.asarray(y_pred), classes, adjacency)
    return metrics


def cost_scores(held_out: dict, y_all: np.ndarray, groups: np.ndarray, cost: np.ndarray) -> tuple[dict, float]:
    """Cost of the held-out decisions, pooled and per group, with the temperature fitted on the same
    held-out probabilities (one scalar; it is what the saved model decides with)."""
    rows = np.concatenate(held_out["rows"])
    proba = np.concatenate(held_out["proba"]).astype(float)
    temperature = costs.fit_temperature(proba, y_all[rows], cost)
    return costs.report(y_all[rows], proba, cost, groups[rows], temperature), temperature
