"""Costs of mistakes: reading a cost matrix in a stated class order, least-expected-cost decisions,
calibration, and the scores in metrics.json and at prediction."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geotune import modeldir
from geotune.errors import ConfigError
from geotune.logs import costs
from geotune.logs.las import LogsWarning
from geotune.logs.model import LogsModel
from geotune.logs.synthetic import make_wells
from logs_helpers import fit_small_logo

CLASSES = ["limestone", "sandstone", "shale", "siltstone"]


def test_npy_needs_its_order_and_is_rearranged_to_the_model_classes(tmp_path):
    matrix = np.arange(16, dtype=float).reshape(4, 4)
    np.save(tmp_path / "c.npy", matrix)
    with pytest.raises(ConfigError, match="cost_classes"):
        costs.load(tmp_path / "c.npy", CLASSES)
    order = ["shale", "sandstone", "siltstone", "limestone"]
    arranged = costs.load(tmp_path / "c.npy", CLASSES, ",".join(order))
    # true limestone (file row 3) predicted as shale (file column 0)
    assert arranged[0, 2] == matrix[3, 0]
    assert arranged[2, 3] == matrix[0, 2]  # true shale predicted as siltstone
    with pytest.raises(ConfigError, match="no row/column for class"):
        costs.load(tmp_path / "c.npy", CLASSES + ["coal"], order)


def test_csv_and_json_name_their_classes(tmp_path):
    table = pd.DataFrame([[0, 2.0], [1.0, 0]], index=["30000.0", "65000"], columns=["30000", "65000"])
    table.index = ["30000", "65000"]
    table.to_csv(tmp_path / "c.csv")
    assert costs.load(tmp_path / "c.csv", ["65000", "30000"]).tolist() == [[0, 1.0], [2.0, 0]]
    (tmp_path / "c.json").write_text(json.dumps({"classes": [30000, 65000, 99000], "matrix": [[0, 1, 1], [3, 0, 1],
                                                                                              [1, 1, 0]]}))
    with pytest.warns(LogsWarning, match="99000"):
        assert costs.load(tmp_path / "c.json", ["30000", "65000"]).tolist() == [[0, 1], [3, 0]]
    (tmp_path / "bad.json").write_text(json.dumps({"classes": ["a"], "matrix": [[-1]]}))
    with pytest.raises(ConfigError, match="non-negative"):
        costs.load(tmp_path / "bad.json", ["a"])


def test_least_expected_cost_differs_from_the_most_probable():
    proba = np.array([[0.6, 0.4], [0.9, 0.1]])
    cost = np.array([[0.0, 1.0], [5.0, 0.0]])  # calling class 1 class 0 is five times worse
    # row 0: predicting 0 costs 0.4*5 = 2.0, predicting 1 costs 0.6; row 1: 0.5 vs 0.9
    assert costs.decide(proba, cost).tolist() == [1, 0]
    y = np.array([1, 0])
    report = costs.report(y, proba, cost, np.array(["a", "b"]))
    assert report["mean_cost"] == 0.0 and report["mean_cost_argmax"] == 2.5 and report["score"] == -0.0
    assert report["per_group"]["a"]["mean_cost_argmax"] == 5.0


def test_temperature_softens_overconfident_probabilities():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    right = rng.random(2000) < 0.7  # right 70 % of the time, but claims 99 %
    predicted = np.where(right, y, 1 - y)
    proba = np.where(predicted[:, None] == np.arange(2), 0.99, 0.01)
    t = costs.fit_temperature(proba, y)
    assert t > 1.5
    assert costs.calibrate(proba, t).max(1).mean() == pytest.approx(0.7, abs=0.03)


def test_training_with_a_cost_matrix_scores_and_decides_with_it(tmp_path):
    table = make_wells(3, 80, seed=4, missing_pe_wells=0)
    table.to_csv(tmp_path / "wells.csv", index=False)
    # missing limestone is very costly: the model should call limestone more often than arg-max does
    matrix = np.ones((4, 4)) - np.eye(4)
    matrix[0, 1:] = 30.0
    np.save(tmp_path / "cost.npy", matrix)
    summary = fit_small_logo(tmp_path / "wells.csv", tmp_path / "run", cost_matrix=str(tmp_path / "cost.npy"),
                             cost_classes=CLASSES)
    block = summary["metrics"]["cost"]
    assert sorted(block["per_group"]) == ["WELL-1", "WELL-2", "WELL-3"]
    assert block["score"] == -block["mean_cost"] and block["temperature"] > 0
    # the temperature is chosen for the decisions on these held-out rows: never costlier than arg-max there
    assert block["mean_cost"] <= block["mean_cost_argmax"]
    assert block["accuracy_argmax"] == pytest.approx(summary["metrics"]["accuracy"])  # the same held-out rows
    metrics = json.loads((tmp_path / "run" / "model" / "metrics.json").read_text())
    assert metrics["cost"]["mean_cost"] == pytest.approx(block["mean_cost"])
    folder, config = modeldir.load_config(tmp_path / "run")
    model = LogsModel.load(folder, config)
    proba = model.predict_proba(table)
    decided = model.predict(table)
    assert (decided == "limestone").sum() >= (proba.argmax(1) == 0).sum()


def _leaning(rng, n, right_share):
    """Two classes; the model leans 60/40 and is right ``right_share`` of the time."""
    y = rng.integers(0, 2, n)
    top = np.where(rng.random(n) < right_share, y, 1 - y)
    proba = np.where(top[:, None] == np.arange(2), 0.6, 0.4)
    return proba, y


def test_with_costs_the_temperature_is_chosen_for_the_decisions_and_falls_back_to_arg_max():
    rng = np.random.default_rng(3)
    cost = np.array([[0.0, 1.0], [2.5, 0.0]])  # calling class 1 class 0 costs 2.5 times more
    # the 60/40 lean is right 95 % of the time: hedging towards class 1 throws away right answers
    proba, y = _leaning(rng, 4000, 0.95)
    t = costs.fit_temperature(proba, y, cost)
    assert t == costs.ARGMAX_TEMPERATURE
    assert (costs.decide(costs.calibrate(proba, t), cost) == proba.argmax(1)).all()
    assert costs.fit_temperature(proba, y) > 0.05  # without costs: the log-loss temperature, as before
    # right only 55 % of the time: a 60/40 lean towards class 0 does not outweigh the 2.5-times cost
    proba, y = _leaning(rng, 4000, 0.55)
    t = costs.fit_temperature(proba, y, cost)
    chosen = costs.decide(costs.calibrate(proba, t), cost)
    assert t != costs.ARGMAX_TEMPERATURE
    assert costs.mean_cost(y, chosen, cost) < costs.mean_cost(y, proba.argmax(1), cost)
