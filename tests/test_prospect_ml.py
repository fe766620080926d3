"""ML prospectivity on a synthetic area with a known rule: it learns the rule, states its sampling,
keeps negatives away from deposits, and survives a save/load without pickle."""

import json

import numpy as np
import pytest

from geotune.prospect import EvidenceStack, MLProspectivity, deposit_auc, read_deposits
from geotune.prospect.synthetic import make_synthetic_area


@pytest.fixture(scope="module")
def area(tmp_path_factory):
    paths = make_synthetic_area(tmp_path_factory.mktemp("area"), shape=(40, 50), n_deposits=40, seed=4)
    stack = EvidenceStack.from_files([paths["fault_dist"], paths["host"], paths["anomaly"], paths["noise"]])
    return stack, read_deposits(paths["deposits"])


@pytest.mark.parametrize("method", ["logistic", "gbm", "rf"])
def test_learns_the_rule_and_round_trips(area, method):
    stack, deposits = area
    model = MLProspectivity(method, n_members=2, seed=0).fit(stack, deposits)
    proba, spread = model.predict_both(stack)
    rows, cols = deposits.cells(stack.grid)
    assert deposit_auc(proba, rows, cols) > 0.7
    assert np.all(spread[stack.mask] >= 0) and np.nanmax(spread) > 0
    assert "negatives" in model.sampling_ and "1 km" in model.sampling_
    payload = json.loads(json.dumps(model.to_dict()))  # must be plain JSON
    again = MLProspectivity.from_dict(payload, model.member_files())
    assert np.allclose(again.predict_proba(stack), proba, equal_nan=True)


def test_logistic_finds_fault_distance_unfavourable(area):
    stack, deposits = area
    model = MLProspectivity("logistic", n_members=1).fit(stack, deposits)
    names = model.encoder_.feature_names
    coef = model.members_[0]["coef"]
    assert coef[names.index("fault_dist")] < 0
    assert abs(coef[names.index("noise")]) < abs(coef[names.index("fault_dist")])


def test_probability_is_per_unit_cell(area):
    stack, deposits = area
    proba = MLProspectivity("logistic", n_members=1).fit(stack, deposits).predict_proba(stack)
    # rescaled from the sampled ratio to the population: about N(D) deposits over the area's unit cells
    expected = len(deposits) / stack.mask.sum()
    assert 0.3 * expected < np.nanmean(proba) < 3 * expected


def test_region_keeps_training_inside(area):
    stack, deposits = area
    region = np.zeros(stack.shape, dtype=bool)
    region[:, :25] = True
    model = MLProspectivity("logistic", n_members=1).fit(stack, deposits, region=region)
    rows, cols = deposits.cells(stack.grid)
    assert str((cols < 25).sum()) + " deposit points" in model.sampling_
    assert np.isnan(model.predict_proba(stack, region=~region)[:, :25]).all()


def test_gbm_draws_twenty_negatives_per_deposit(tmp_path):
    # 80 deposits: gbm 20 each (1600), logistic 10 each, raised to the floor of 1000
    paths = make_synthetic_area(tmp_path, shape=(120, 120), n_deposits=80, seed=1)
    stack = EvidenceStack.from_files([paths["fault_dist"], paths["host"]])
    deposits = read_deposits(paths["deposits"])
    gbm = MLProspectivity("gbm", n_members=1).fit(stack, deposits)
    logistic = MLProspectivity("logistic", n_members=1).fit(stack, deposits)
    assert len(deposits) == 80
    assert "; 1600 negatives per member" in gbm.sampling_
    assert "; 1000 negatives per member" in logistic.sampling_
    assert "; 500 negatives" in MLProspectivity("gbm", n_members=1, n_negatives=500).fit(stack, deposits).sampling_


def test_gbm_is_monotone_in_a_declared_favourable_end(area, tmp_path):
    stack, deposits = area
    paths = {layer.name: layer.path for layer in stack.layers}
    declared = EvidenceStack.from_files(list(paths.values()), favourable={"fault_dist": "low", "noise": "high"})
    model = MLProspectivity("gbm", n_members=2, seed=0).fit(declared, deposits)
    names = model.encoder_.feature_names
    assert model.encoder_.monotone == [{"fault_dist": -1, "noise": 1}.get(n, 0) for n in names]
    # sweep each constrained feature with the others held at a deposit's values
    base = model.encoder_.transform({l.name: l.array[deposits.cells(stack.grid)[0][:1],
                                                     deposits.cells(stack.grid)[1][:1]] for l in declared.layers})
    for feature, sign in (("fault_dist", -1), ("noise", 1)):
        x = np.repeat(base, 50, axis=0)
        x[:, names.index(feature)] = np.linspace(-3, 3, 50)
        for member in model.members_:
            step = np.diff(member.predict_proba(x)[:, 1])
            assert np.all(sign * step >= -1e-12)
    # without a declared end nothing is constrained
    free = MLProspectivity("gbm", n_members=1).fit(stack, deposits)
    assert not any(free.encoder_.monotone)
