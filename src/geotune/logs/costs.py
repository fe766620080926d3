"""Costs of mistakes: a K x K matrix (row = true class, column = predicted class) that scores predictions
and decides them.

Deciding: predict the class with the least expected cost under the calibrated probabilities,
``argmin_j sum_i p_i C[i, j]``, instead of the most probable class. Calibration is one temperature on the
log-probabilities, fitted on held-out (grouped, out-of-fold) predictions. With a cost matrix the temperature
is chosen for the decisions it makes there, arg-max included: on FORCE 2020 areas held out, the log-loss
temperature (about 2: the trees are over-confident) made least-cost decisions cost more than arg-max
(-0.916 against -0.910), and the further decisions moved off the arg-max the worse; chosen for the decisions
(on the other areas), the rule scores -0.909 (benchmarks/results/logs_force2020_quick.md). Where validation
does not support least-cost decisions, the rule falls back to the arg-max. Scoring: the mean
cost of the decisions, per group and pooled; the FORCE 2020 score is minus the mean penalty.

Files: ``.npy`` (the class of each row/column given separately, ``cost_classes``), ``.csv`` (first row and
first column name the classes), or ``.json`` (``{"classes": [...], "matrix": [[...]]}``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .las import warn


def load(path: str | os.PathLike, classes: list[str], order: list | str | None = None) -> np.ndarray:
    """The matrix at ``path`` arranged in ``classes`` order (the model's). ``order``: the classes of the
    file's rows/columns (required for .npy, a list or a comma-separated string)."""
    path = Path(path)
    try:
        suffix = path.suffix.lower()
        if suffix == ".npy":
            matrix = np.load(path, allow_pickle=False)
            if order is None:
                raise ConfigError("a .npy cost matrix needs cost_classes: the class of each row/column, in order",
                                  path)
            names = [s.strip() for s in order.split(",")] if isinstance(order, str) else list(order)
        elif suffix == ".csv":
            import pandas as pd

            table = pd.read_csv(path, index_col=0)
            names = [str(c).strip() for c in table.columns]
            if [str(r).strip() for r in table.index] != names:
                raise ConfigError("cost matrix CSV: the first column must name the same classes as the header, "
                                  "in the same order", path)
            matrix = table.to_numpy(dtype=float)
        elif suffix == ".json":
            payload = json.loads(path.read_text(encoding="utf-8"))
            names, matrix = payload["classes"], np.asarray(payload["matrix"], dtype=float)
        else:
            raise ConfigError("cost matrix must be a .npy, .csv or .json file", path)
    except ConfigError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read the cost matrix ({exc})", path) from exc
    names = [_name(n) for n in names]
    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape != (len(names), len(names)):
        raise ConfigError(f"cost matrix is {matrix.shape}, but {len(names)} classes are named for it", path)
    if not np.isfinite(matrix).all() or (matrix < 0).any():
        raise ConfigError("cost matrix must hold finite, non-negative costs", path)
    missing = [c for c in classes if c not in names]
    if missing:
        raise ConfigError(f"cost matrix has no row/column for class(es) {', '.join(missing)}", path)
    unused = [n for n in names if n not in classes]
    if unused:
        warn(f"cost matrix classes not in the data are ignored: {', '.join(unused)}", path)
    index = [names.index(c) for c in classes]
    return matrix[np.ix_(index, index)]


def _name(value) -> str:
    """30000 and 30000.0 both name class "30000" (labels read from LAS are floats)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def calibrate(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities sharpened or softened by one temperature (softmax of log p / T)."""
    if temperature == 1.0:
        return proba
    logits = np.log(np.clip(proba, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=1, keepdims=True)


# A temperature this small turns the probabilities into the arg-max's one-hot rows: least-cost decisions are
# then the arg-max (a cost matrix is zero on its diagonal). Not 0: a saved temperature of 0 reads as "none"
ARGMAX_TEMPERATURE = 1e-3
# Temperatures a cost matrix's decisions are chosen among, besides the log-loss one (fixed a priori)
DECISION_TEMPERATURES = (ARGMAX_TEMPERATURE, 0.5, 1.0, 1.5, 2.0, 3.0)


def fit_temperature(proba: np.ndarray, y: np.ndarray, cost: np.ndarray | None = None) -> float:
    """The temperature minimising the log loss of ``calibrate(proba, T)`` against ``y``. With ``cost``, the
    temperature (among that one, DECISION_TEMPERATURES and ARGMAX_TEMPERATURE) whose least-cost decisions
    cost least on these rows; the arg-max wins ties, so costs change decisions only where that pays here."""
    from scipy.optimize import minimize_scalar

    def loss(log_t):
        p = calibrate(proba, float(np.exp(log_t)))
        return -np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0)))

    result = minimize_scalar(loss, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    log_loss_t = float(np.exp(result.x))
    if cost is None or not len(y):
        return log_loss_t
    candidates = (ARGMAX_TEMPERATURE,) + tuple(t for t in (log_loss_t,) + DECISION_TEMPERATURES
                                                if t != ARGMAX_TEMPERATURE)
    spent = [mean_cost(y, decide(calibrate(proba, t), cost), cost) for t in candidates]
    return float(candidates[int(np.argmin(spent))])  # first minimum: the arg-max on a tie


def decide(proba: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """The class of least expected cost for each row."""
    return np.argmin(proba @ cost, axis=1)


def mean_cost(y: np.ndarray, predicted: np.ndarray, cost: np.ndarray) -> float:
    return float(cost[y, predicted].mean()) if len(y) else float("nan")


def report(y: np.ndarray, proba: np.ndarray, cost: np.ndarray, groups: np.ndarray | None = None,
           temperature: float = 1.0) -> dict:
    """Mean cost and accuracy of arg-max and least-expected-cost decisions, pooled and per group; ``score``
    is minus the mean cost of the decisions the model makes (the least-cost ones)."""
    calibrated = calibrate(proba, temperature)
    chosen, top = decide(calibrated, cost), proba.argmax(1)

    def block(mask):
        return {"mean_cost": mean_cost(y[mask], chosen[mask], cost),
                "mean_cost_argmax": mean_cost(y[mask], top[mask], cost),
                "accuracy": float(np.mean(chosen[mask] == y[mask])),
                "accuracy_argmax": float(np.mean(top[mask] == y[mask])), "n_samples": int(mask.sum())}

    everything = np.ones(len(y), dtype=bool)
    rule = ("arg-max (least-cost decisions did not pay on held-out rows)" if temperature == ARGMAX_TEMPERATURE
            else "least expected cost under probabilities at this temperature")
    out = {"decision": rule, "temperature": temperature,
           **block(everything)}
    out["score"] = -out["mean_cost"]
    out["score_argmax"] = -out["mean_cost_argmax"]
    if groups is not None:
        out["per_group"] = {str(g): block(groups == g) for g in dict.fromkeys(groups)}
    return out
