"""Weights of evidence on small grids with known counts: W+, W-, their variances, contrast and studentised
contrast against hand-computed values; classes without deposits and all-deposit thresholds get no
weight; categorical merging; the cut methods and the studentised-contrast threshold."""

import math
import warnings

import numpy as np
import pytest

from geotune.errors import DataError
from geotune.prospect import EvidenceStack, WeightsOfEvidence
from geotune.prospect.wofe import WofEWarning


def _classes_case():
    # 10 x 10 cells of 1 km^2. Class 1: 40 cells, 6 deposits; class 2: 30 cells, 3 deposits;
    # class 3: 29 cells, no deposit; class 4: one cell, no deposit. N(T) = 100, N(D) = 9.
    grid = np.ones((10, 10))
    grid[4:7, :] = 2
    grid[7:, :] = 3
    grid[9, 9] = 4
    rows = np.array([0, 1, 2, 3, 3, 0, 4, 5, 6])
    cols = np.array([0, 1, 2, 3, 4, 9, 0, 5, 9])
    return EvidenceStack.from_arrays({"unit": grid}), (rows, cols)


def _rows_by_class(model, name):
    return {row["class"]: row for row in model.weights_table(name)}


def test_unique_weights_by_hand_and_classes_without_deposits_get_none():
    stack, deposits = _classes_case()
    model = WeightsOfEvidence().fit(stack, deposits)
    table = _rows_by_class(model, "unit")
    one = table[1]
    # class 1: B&D 6, B&~D 34, ~B&D 3, ~B&~D 57; N(~D) = 91
    wplus, wminus = math.log((6 / 9) / (34 / 91)), math.log((3 / 9) / (57 / 91))
    s2_plus, s2_minus = 1 / 6 + 1 / 34, 1 / 3 + 1 / 57
    assert one["wplus"] == pytest.approx(wplus) and one["wminus"] == pytest.approx(wminus)
    assert one["s_wplus"] == pytest.approx(math.sqrt(s2_plus))
    assert one["s_wminus"] == pytest.approx(math.sqrt(s2_minus))
    assert one["contrast"] == pytest.approx(wplus - wminus)
    assert one["s_contrast"] == pytest.approx(math.sqrt(s2_plus + s2_minus))
    assert one["studc"] == pytest.approx((wplus - wminus) / math.sqrt(s2_plus + s2_minus))
    two = table[2]  # B&D 3, B&~D 27, ~B&D 6, ~B&~D 64
    assert two["wplus"] == pytest.approx(math.log((3 / 9) / (27 / 91)))
    assert two["wminus"] == pytest.approx(math.log((6 / 9) / (64 / 91)))
    for empty in (table[3], table[4]):
        assert empty["flag"] == "no_deposits" and empty["n_points"] == 0
        assert all(empty[k] == 0.0 for k in ("wplus", "s_wplus", "wminus", "s_wminus", "contrast", "studc"))
    assert any("2 class(es) hold no deposit (3, 4)" in note for note in model.notes_)
    proba = model.predict_proba(stack)
    # the one-cell class without a deposit keeps the prior, and ranks below the class holding deposits
    assert proba[9, 9] == pytest.approx(model.prior_) == pytest.approx(0.09)
    assert proba[9, 9] < proba[0, 0]
    assert proba[0, 0] == pytest.approx(1 / (1 + math.exp(-(math.log(9 / 91) + wplus))))


def test_empty_classes_may_lose_weight_but_never_gain_it():
    stack, deposits = _classes_case()
    model = WeightsOfEvidence(empty_classes="negative").fit(stack, deposits)
    table = _rows_by_class(model, "unit")
    # class 3 (29 cells): half a deposit gives ln((0.5/9) / (29/91)) < 0, kept; class 4 (1 cell): > 0, so 0
    assert table[3]["wplus"] == pytest.approx(math.log((0.5 / 9) / (29 / 91)))
    assert table[3]["s_wplus"] == pytest.approx(math.sqrt(1 / 0.5 + 1 / 29))
    assert table[4]["wplus"] == 0.0 and table[4]["s_wplus"] == 0.0
    assert table[3]["flag"] == table[4]["flag"] == "no_deposits" and table[3]["studc"] == 0.0
    assert table[1]["wplus"] == pytest.approx(math.log((6 / 9) / (34 / 91)))  # classes with deposits unchanged
    proba = model.predict_proba(stack)
    assert proba[8, 0] < proba[9, 9] == pytest.approx(model.prior_)
    assert WeightsOfEvidence.from_dict(model.to_dict()).empty_classes == "negative"
    with pytest.raises(DataError, match="classes without deposits must be one of"):
        WeightsOfEvidence(empty_classes="half")


def test_categorical_merges_weak_classes_and_weighs_them_from_pooled_counts():
    stack, deposits = _classes_case()
    # class 1 has |studc| ~ 1.8: a threshold of 1.5 keeps it, merges 2 (|studc| ~ 0.5) and the empty classes
    model = WeightsOfEvidence(weights_types={"unit": "categorical"}, studentized_threshold=1.5).fit(stack, deposits)
    spec = model.layers_[0]
    table = _rows_by_class(model, "unit")
    assert abs(table[1]["studc"]) >= 1.5 and abs(table[2]["studc"]) < 1.5
    merged = spec["merged"]
    assert merged["class"] == 5 and merged["merged_classes"] == [2, 3, 4]
    # pooled: 60 cells, 3 deposits -> B&~D 57, ~B&D 6, ~B&~D 34
    assert merged["n_points"] == 3 and merged["area_units"] == 60
    assert merged["wplus"] == pytest.approx(math.log((3 / 9) / (57 / 91)))
    assert merged["s_wplus"] == pytest.approx(math.sqrt(1 / 3 + 1 / 57))
    for cls in (2, 3, 4):
        assert table[cls]["gen_class"] == 5 and table[cls]["weight"] == pytest.approx(merged["wplus"])
    assert table[1]["gen_class"] == 1 and table[1]["weight"] == table[1]["wplus"]
    proba = model.predict_proba(stack)
    assert proba[9, 9] == pytest.approx(proba[5, 5])  # merged classes share one weight
    assert proba[9, 9] < model.prior_  # and the pooled class, poor in deposits, falls below the prior
    sigma = model.predict_uncertainty(stack)
    assert sigma[9, 9] == pytest.approx(proba[9, 9] * math.sqrt(1 / 9 + 1 / 3 + 1 / 57))


def _cumulative_case():
    # value = column (0..9), each column 10 cells; 11 deposits in columns 0,0,0,1,1,2,2,3,4,5,6
    values = np.tile(np.arange(10.0), (10, 1))
    cols = np.array([0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6])
    rows = np.array([0, 1, 2, 0, 1, 0, 1, 0, 0, 0, 0])
    stack = EvidenceStack.from_arrays({"dist": values}, kinds={"dist": "continuous"}, favourable={"dist": "low"})
    return stack, (rows, cols)


def _fit_quietly(stack, deposits, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = WeightsOfEvidence(**options).fit(stack, deposits)
    return model, [w for w in caught if issubclass(w.category, WofEWarning)]


def test_cumulative_weights_by_hand_and_all_deposit_thresholds_flagged():
    stack, deposits = _cumulative_case()
    model, _ = _fit_quietly(stack, deposits)
    table = {row["threshold"]: row for row in model.layers_[0]["cumulative"]}
    two = table[2]  # value <= 2: 30 cells, 7 deposits; B&~D 23, ~B&D 4, ~B&~D 66, N(~D) 89
    wplus, wminus = math.log((7 / 11) / (23 / 89)), math.log((4 / 11) / (66 / 89))
    s2 = (1 / 7 + 1 / 23) + (1 / 4 + 1 / 66)
    assert (two["area_units"], two["n_points"]) == (30, 7)
    assert two["wplus"] == pytest.approx(wplus) and two["wminus"] == pytest.approx(wminus)
    assert two["s_wminus"] == pytest.approx(math.sqrt(1 / 4 + 1 / 66))
    assert two["studc"] == pytest.approx((wplus - wminus) / math.sqrt(s2))
    for t in (6, 7, 8, 9):  # every deposit on the favourable side: W- undefined, no weight gained
        assert table[t]["flag"] == "all_deposits" and table[t]["n_points"] == 11
        assert table[t]["wminus"] == table[t]["contrast"] == table[t]["studc"] == 0.0
        assert table[t]["wplus"] == pytest.approx(math.log((11 / 11) / ((10 * (t + 1) - 11) / 89)))
    # the default cut (highest studentised contrast) is at 2; the map takes W+ / W- of that cut
    assert model.layers_[0]["threshold"] == 2
    proba = model.predict_proba(stack)
    prior_logit = math.log(11 / 89)
    assert proba[5, 1] == pytest.approx(1 / (1 + math.exp(-(prior_logit + wplus))))
    assert proba[5, 8] == pytest.approx(1 / (1 + math.exp(-(prior_logit + wminus))))


@pytest.mark.parametrize("method, cut, warned", [
    ("max_studentized_contrast", 2, False),   # studc 2.40, the highest
    ("max_contrast", 5, True),                # contrast 2.05, the highest, but studc 1.92 < 2: used, with a warning
    ("max_contrast_if_feasible", None, True),  # the same cut falls short: the layer gets no weight
    ("max_feasible_contrast", 4, False),      # highest contrast (1.66) among cuts with studc >= 2
])
def test_cut_methods(method, cut, warned):
    stack, deposits = _cumulative_case()
    model, caught = _fit_quietly(stack, deposits, cut_method=method, studentized_threshold=2.0)
    spec = model.layers_[0]
    assert spec["threshold"] == cut
    assert bool(caught) == warned
    table = {row["threshold"]: row for row in spec["cumulative"]}
    proba = model.predict_proba(stack)
    if cut is None:
        assert "gets no weight" in str(caught[0].message) and np.allclose(proba, model.prior_)
        assert all(row["weight"] == 0.0 for row in spec["classes"])
    else:
        assert spec["classes"][0]["weight"] == pytest.approx(table[cut]["wplus"])
        assert spec["classes"][1]["weight"] == pytest.approx(table[cut]["wminus"])
        assert [row["gen_class"] for row in spec["cumulative"]] == [2] * (cut + 1) + [1] * (9 - cut)


def test_no_threshold_passes_warns_and_drops_the_layer():
    stack, deposits = _cumulative_case()
    with pytest.warns(WofEWarning, match=r"no threshold reaches the studentised-contrast threshold 5 .*2\.402"):
        model = WeightsOfEvidence(studentized_threshold=5.0).fit(stack, deposits)
    assert model.layers_[0]["threshold"] is None and "gets no weight" in model.notes_[0]
    assert np.allclose(model.predict_proba(stack), model.prior_)


def test_manual_cut():
    stack, deposits = _cumulative_case()
    model, caught = _fit_quietly(stack, deposits, cut_method="manual", manual_cuts={"dist": 3.5})
    spec = model.layers_[0]
    row = [r for r in spec["cumulative"] if r["threshold"] == 3.5][0]
    assert spec["threshold"] == 3.5 and (row["area_units"], row["n_points"]) == (40, 8)
    assert row["wplus"] == pytest.approx(math.log((8 / 11) / (32 / 89)))
    assert not caught  # its studentised contrast, 2.19, reaches 2
    strict, caught = _fit_quietly(stack, deposits, cut_method="manual", manual_cuts={"dist": 3.5},
                                  studentized_threshold=2.5)
    assert strict.layers_[0]["threshold"] == 3.5 and "below the threshold 2.5; it is used" in str(caught[0].message)
    model, caught = _fit_quietly(stack, deposits, cut_method="manual", manual_cuts={"dist": 7})
    assert model.layers_[0]["threshold"] is None and "every deposit" in str(caught[0].message)
    with pytest.raises(DataError, match="needs a cut value"):
        WeightsOfEvidence(cut_method="manual").fit(stack, deposits)


def test_quantity_maps_follow_the_tables():
    stack, deposits = _classes_case()
    model = WeightsOfEvidence().fit(stack, deposits)
    maps = model.quantity_maps(stack)["unit"]
    table = _rows_by_class(model, "unit")
    assert maps["class"][0, 0] == 1 and maps["wplus"][0, 0] == pytest.approx(table[1]["wplus"])
    assert maps["s_wplus"][5, 0] == pytest.approx(table[2]["s_wplus"]) and maps["wplus"][9, 9] == 0.0
    cstack, cdeposits = _cumulative_case()
    cmodel, _ = _fit_quietly(cstack, cdeposits)
    cmaps = cmodel.quantity_maps(cstack)["dist"]
    ctable = {row["threshold"]: row for row in cmodel.layers_[0]["cumulative"]}
    assert cmaps["class"][3, 4] == 4 and cmaps["wplus"][3, 4] == pytest.approx(ctable[4]["wplus"])
    assert cmaps["generalized_class"][0, 2] == 2 and cmaps["generalized_class"][0, 3] == 1
    assert cmaps["generalized_wplus"][0, 3] == pytest.approx(ctable[2]["wminus"])


def test_bad_options_name_the_problem():
    stack, deposits = _classes_case()
    with pytest.raises(DataError, match="weights types must be one of"):
        WeightsOfEvidence(weights_types={"unit": "ordinal"})
    with pytest.raises(DataError, match="cut method must be one of"):
        WeightsOfEvidence(cut_method="best")
    with pytest.raises(DataError, match="weights types given for unknown layer"):
        WeightsOfEvidence(weights_types={"other": "categorical"}).fit(stack, deposits)
    with pytest.raises(DataError, match=r"manual cuts given for unknown layer\(s\) \['dist'\]"):
        WeightsOfEvidence(cut_method="manual", manual_cuts={"dist": 3}).fit(stack, deposits)
