"""HMM depth decoding and per-well normalisation features, on synthetic sequences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geotune.errors import ConfigError, ModelError
from geotune.logs import decode, features as feats
from geotune.logs.synthetic import facies_column


def _noisy_wells(seed=0, n_wells=4, n=300, k=4, noise=1.6):
    rng = np.random.default_rng(seed)
    labels = np.concatenate([facies_column(rng, n, list("abcd")) for _ in range(n_wells)])
    wells = np.repeat(np.arange(n_wells), n)
    logits = np.eye(k)[labels] * 1.0 + rng.normal(0, noise, (len(labels), k))
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return labels, wells, proba


def test_transitions_count_only_labelled_pairs_within_a_well():
    labels = np.array([0, 0, 1, -1, 1, 1, 0])
    wells = np.array(["a", "a", "a", "a", "b", "b", "b"])
    matrix, prior = decode.transitions(labels, wells, 2)

    # pairs: a: 0->0, 0->1 (1->unlabelled skipped); b: 1->1, 1->0; plus one pseudo-count per cell
    assert np.allclose(matrix, [[2 / 4, 2 / 4], [2 / 4, 2 / 4]])
    labels2 = np.array([0, 0, 0, 0, 1, 1, 1])
    m2, p2 = decode.transitions(labels2, wells, 2)
    assert m2[0, 0] > 0.7 and m2[0, 1] < 0.3  # the a->b well change at row 4 is not a transition
    assert np.allclose(p2, [(4 + 1) / 9, (3 + 1) / 9]) and np.allclose(m2.sum(1), 1)


def test_posterior_beats_independent_samples_and_keeps_wells_apart():
    labels, wells, proba = _noisy_wells()
    train = wells < 2
    matrix, prior = decode.transitions(np.where(train, labels, -1), wells, 4)
    post = decode.posterior(proba[~train], wells[~train], matrix, prior)
    assert np.allclose(post.sum(1), 1)
    raw_acc = (proba[~train].argmax(1) == labels[~train]).mean()
    hmm_acc = (post.argmax(1) == labels[~train]).mean()
    assert hmm_acc > raw_acc + 0.1, (raw_acc, hmm_acc)
    # decoding two wells together equals decoding each alone: nothing crosses a well boundary
    alone = np.vstack([decode.posterior(proba[wells == w], wells[wells == w], matrix, prior) for w in (2, 3)])
    assert np.allclose(post, alone)


def test_posterior_refuses_a_table_of_the_wrong_size():
    labels, wells, proba = _noisy_wells(n_wells=1, n=20)
    with pytest.raises(ModelError, match="transition table"):
        decode.posterior(proba, wells, np.eye(3), np.ones(3) / 3)


def test_per_well_normalisation_removes_gain_and_offset_between_wells():
    rng = np.random.default_rng(1)
    gr = rng.normal(60, 15, 200)
    frame = pd.DataFrame({"W": ["a"] * 200 + ["b"] * 200, "D": np.r_[np.arange(200), np.arange(200)] * 0.5,
                          "GR": np.r_[gr, 1.5 * gr + 20]})  # well b: same rocks, another tool's gain and offset
    spec = feats.infer_spec(frame, {"W", "D"}, "W", "D")
    x = feats.build_features(frame, spec, "W", "D")
    names = spec.names()
    z, rank, raw = (x[:, names.index(n)] for n in ("GR_z", "GR_rank", "GR"))
    assert not np.allclose(raw[:200], raw[200:])
    assert np.allclose(z[:200], z[200:], atol=1e-4) and np.allclose(rank[:200], rank[200:])
    assert 0 < rank.min() and rank.max() == 1
    old = feats.FeatureSpec.from_dict({k: v for k, v in spec.to_dict().items() if k != "normalise"})
    assert "GR_z" not in old.names()  # a spec saved before normalisation existed builds its old features
    assert feats.build_features(frame, old, "W", "D").shape[1] == len(old.names())
    legacy = feats.FeatureSpec.from_dict({k: v for k, v in spec.to_dict().items() if k != "blocks"})
    assert {"GR_dev", "GR_std7", "GR_up1"} <= set(legacy.names())  # a spec saved before blocks keeps them all
    assert feats.build_features(frame, legacy, "W", "D").shape[1] == len(legacy.names())


def test_curve_feature_blocks_choose_the_columns():
    frame = pd.DataFrame({"W": ["a"] * 50, "D": np.arange(50) * 0.15, "GR": np.linspace(20, 120, 50),
                          "RT": np.geomspace(1, 100, 50)})
    spec = feats.infer_spec(frame, {"W", "D"}, "W", "D", blocks=["value"], normalise=False)
    assert spec.names() == ["GR", "RT", "relpos_well"]
    spec = feats.infer_spec(frame, {"W", "D"}, "W", "D", windows=[5], blocks=["mean", "value"])
    assert spec.curve_names("GR") == ["GR", "GR_z", "GR_rank", "GR_mean5"]  # feature order, not the order given
    x = feats.build_features(frame, spec, "W", "D")
    assert np.allclose(x[:, spec.names().index("GR")], frame["GR"])
    assert spec.curve_columns("RT") == slice(4, 8)
    with pytest.raises(ConfigError, match="unknown curve feature blocks median"):
        feats.infer_spec(frame, {"W", "D"}, "W", "D", blocks=["median"])


def test_plain_emissions_do_not_turn_uncertainty_into_a_rare_class():
    # a classifier leaning 60/40 towards the common class all along a well, with a rare second class
    proba = np.tile([0.6, 0.4], (80, 1))
    wells = np.zeros(80, dtype=int)
    matrix, prior = np.array([[0.98, 0.02], [0.1, 0.9]]), np.array([0.95, 0.05])
    plain = decode.posterior(proba, wells, matrix, prior)
    scaled = decode.posterior(proba, wells, matrix, prior, emission="scaled")
    assert (plain.argmax(1) == 0).all()  # what the classifier said, held along the well
    assert (scaled.argmax(1) == 1).all()  # dividing by the prior at every sample compounds into the rare class
    with pytest.raises(ModelError, match="unknown HMM emission"):
        decode.posterior(proba, wells, matrix, prior, emission="prior")
