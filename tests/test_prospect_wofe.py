"""Weights of evidence on tiny synthetic grids: the weights against hand counts, the posterior and
its variance, cumulative thresholds from either end, and spatial block CV keeping blocks apart."""

import math

import numpy as np
import pytest

from geotune.prospect import EvidenceStack, WeightsOfEvidence, block_folds, deposit_auc, spatial_block_cv
from geotune.prospect.synthetic import make_synthetic_area
from geotune.prospect.wofe import WofEWarning


def _binary_case():
    # 10 x 10 cells of 1 km^2; the left 3 columns are the favourable class with 4 of 5 deposits
    layer = np.zeros((10, 10))
    layer[:, :3] = 1
    rows = np.array([0, 2, 5, 9, 4])
    cols = np.array([0, 1, 2, 0, 8])
    return EvidenceStack.from_arrays({"b": layer}), (rows, cols)


def test_binary_weights_match_hand_counts():
    stack, deposits = _binary_case()
    model = WeightsOfEvidence(unit_cell_km2=1.0).fit(stack, deposits)
    present = [row for row in model.weights_table("b") if row["class"] == 1][0]
    # N(T)=100, N(D)=5, N(B)=30, N(B&D)=4
    wplus = math.log((4 / 5) / (26 / 95))
    wminus = math.log((1 / 5) / (69 / 95))
    assert present["wplus"] == pytest.approx(wplus)
    assert present["wminus"] == pytest.approx(wminus)
    assert present["s_wplus"] == pytest.approx(math.sqrt(1 / 4 + 1 / 26))
    assert present["studc"] == pytest.approx((wplus - wminus) / math.sqrt(1 / 4 + 1 / 26 + 1 + 1 / 69))
    proba = model.predict_proba(stack)
    prior_logit = math.log(5 / 95)
    assert proba[0, 0] == pytest.approx(1 / (1 + math.exp(-(prior_logit + wplus))))
    assert proba[0, 9] == pytest.approx(1 / (1 + math.exp(-(prior_logit + wminus))))
    sigma = model.predict_uncertainty(stack)
    assert sigma[0, 0] == pytest.approx(proba[0, 0] * math.sqrt(1 / 5 + 1 / 4 + 1 / 26))


def test_unit_cell_changes_weights_but_not_ranking():
    stack, deposits = _binary_case()
    small = WeightsOfEvidence(unit_cell_km2=0.25).fit(stack, deposits)
    big = WeightsOfEvidence(unit_cell_km2=1.0).fit(stack, deposits)
    assert small.weights_table("b")[1]["wplus"] != pytest.approx(big.weights_table("b")[1]["wplus"])
    rows, cols = deposits
    assert deposit_auc(small.predict_proba(stack), rows, cols) == pytest.approx(
        deposit_auc(big.predict_proba(stack), rows, cols))


def test_continuous_layer_cut_from_the_favourable_end():
    distance = np.tile(np.arange(20, dtype=float) * 100.0, (20, 1))  # metres, grows to the right
    rows = np.arange(0, 20, 2)
    cols = np.array([0, 1, 2, 1, 0, 2, 3, 1, 0, 15])
    assert EvidenceStack.from_arrays({"dist": distance + 0.5})["dist"].kind == "continuous"
    stack = EvidenceStack.from_arrays({"dist": distance}, kinds={"dist": "continuous"})  # 20 integers: say so
    model = WeightsOfEvidence().fit(stack, (rows, cols))
    spec = model.layers_[0]
    assert spec["favourable"] == "low"  # tested from both ends, low distances win
    assert 100.0 <= spec["threshold"] <= 300.0  # most deposits lie in the first four columns
    proba = model.predict_proba(stack)
    assert proba[5, 0] > proba[5, 19]
    high = EvidenceStack.from_arrays({"dist": distance}, kinds={"dist": "continuous"}, favourable={"dist": "high"})
    with pytest.warns(WofEWarning, match="cut from the high end: no threshold reaches"):
        forced = WeightsOfEvidence().fit(high, (rows, cols))
    assert forced.layers_[0]["favourable"] == "high"
    assert forced.layers_[0]["threshold"] is None  # high distances are unfavourable here: the layer gets no weight


def test_categorical_unseen_class_weighs_nothing():
    units = np.repeat(np.arange(4.0), 25).reshape(10, 10)
    stack = EvidenceStack.from_arrays({"unit": units})
    assert stack["unit"].kind == "categorical"
    model = WeightsOfEvidence().fit(stack, (np.array([0, 1, 2, 5]), np.array([1, 2, 3, 4])))
    other = EvidenceStack.from_arrays({"unit": np.full((10, 10), 7.0)})
    assert np.allclose(model.predict_proba(other), model.prior_)


def test_roundtrip_through_json_dict():
    stack, deposits = _binary_case()
    model = WeightsOfEvidence().fit(stack, deposits)
    again = WeightsOfEvidence.from_dict(model.to_dict())
    assert np.allclose(again.predict_proba(stack), model.predict_proba(stack))


def test_block_folds_balance_deposits_and_cover_grid():
    rng = np.random.default_rng(1)
    rows, cols = rng.integers(0, 40, 30), rng.integers(0, 40, 30)
    folds = block_folds((40, 40), rows, cols, n_folds=3, block_cells=8, seed=0)
    counts = np.bincount(folds[rows, cols], minlength=3)
    assert counts.min() >= 8 and counts.sum() == 30
    # whole blocks belong to one fold
    assert all(len(np.unique(folds[r:r + 8, c:c + 8])) == 1 for r in range(0, 40, 8) for c in range(0, 40, 8))


def test_spatial_cv_never_trains_on_held_out_deposits(tmp_path):
    paths = make_synthetic_area(tmp_path, shape=(40, 50), n_deposits=30, seed=3)
    stack = EvidenceStack.from_files([paths["fault_dist"], paths["host"], paths["anomaly"]])
    from geotune.prospect import read_deposits

    deposits = read_deposits(paths["deposits"])
    seen = []

    class Spy(WeightsOfEvidence):
        def fit(self, stack, deposits, region=None):
            seen.append((deposits, region))
            return super().fit(stack, deposits, region)

    cv = spatial_block_cv(Spy, stack, deposits, n_folds=3, block_km=10)
    for k, (train, region) in enumerate(seen):
        assert not (cv["folds"][train] == k).any()  # no training deposit from the held-out fold
        assert not (region & (cv["folds"] == k)).any()
    assert sum(f["n_test_deposits"] for f in cv["folds_detail"]) == 30
    assert np.isfinite(cv["oof_map"][stack.mask]).all()
    assert 0.5 < cv["auc_pooled"] <= 1.0


def test_block_offset_shifts_the_lattice():
    from geotune.prospect import block_folds

    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 40, 60), rng.integers(0, 40, 60)
    plain = block_folds((40, 40), rows, cols, 3, 10, seed=1)
    shifted = block_folds((40, 40), rows, cols, 3, 10, seed=1, offset_cells=(5, 5))
    assert len(np.unique(plain[0:10, 0:10])) == 1 and len(np.unique(shifted[5:15, 5:15])) == 1
    assert len(np.unique(shifted[0:5, 0:5])) == 1  # the first block is cut short by the offset
    assert not np.array_equal(plain, shifted)
