"""Few-shot heads, pseudo-labels, noise detection and pool ranking on small synthetic feature sets."""

from __future__ import annotations

import numpy as np
import pytest

from geotune.fewlabels.active import k_center, rank_pool, uncertainty
from geotune.fewlabels.fewshot import LINEAR_METHODS, fit_fewshot
from geotune.fewlabels.noise import suspect_scores
from geotune.fewlabels.semi import pseudo_label


def clusters(n_per_class, n_classes=3, dim=16, spread=0.6, seed=0):
    """Non-negative (post-activation-like) features around well-separated class centres."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 3, (n_classes, dim))
    y = np.repeat(np.arange(n_classes), n_per_class)
    x = np.maximum(centres[y] + rng.normal(0, spread, (len(y), dim)), 0)
    return x, y


def test_fewshot_picks_by_validation_and_classifies_new_samples():
    x, y = clusters(6)
    test_x, test_y = clusters(30, seed=0)[0][::-1], clusters(30, seed=0)[1][::-1]
    head = fit_fewshot(x, y, views=[x + 0.01], seed=0)
    assert set(head.scores) == {"logistic-pt", "prototype-pt", "logistic"}
    assert head.scores[head.method] == max(head.scores.values())
    assert (head.predict(test_x) == test_y).mean() > 0.9
    assert np.allclose(head.predict_proba(test_x).sum(1), 1)


def test_one_sample_per_class_uses_the_first_method_unvalidated():
    x, y = clusters(1)
    head = fit_fewshot(x, y, methods=("prototype-pt", "logistic"))
    assert head.method == "prototype-pt" and head.scores == {}
    assert (head.predict(x) == y).all()


@pytest.mark.parametrize("method", LINEAR_METHODS)
def test_linear_methods_export_exactly_as_a_linear_layer(method):
    x, y = clusters(5, n_classes=2 if method == "logistic" else 3)
    head = fit_fewshot(x, y, methods=(method,))
    weight, bias = head.linear_weights()
    logits = x @ weight.T + bias
    assert np.array_equal(logits.argmax(1), head.predict(x))
    assert np.allclose(logits - logits.max(1, keepdims=True), head.decision(x) - head.decision(x).max(1, keepdims=True))


def test_propagated_pseudo_labels_are_correct_and_weighted_by_confidence():
    x, y = clusters(3)
    u, u_y = clusters(40, seed=0)
    index, labels, confidence, info = pseudo_label(x, y, u + 0.0)
    assert info["method"] == "label propagation"
    assert len(index) == len(u) and (labels == u_y[index]).mean() > 0.95
    assert ((confidence >= 0) & (confidence <= 1)).all()
    strict = pseudo_label(x, y, u + 0.0, threshold=float(np.median(confidence)))
    assert 0 < len(strict[0]) < len(index) and (strict[2] >= np.median(confidence)).all()


def two_mode_class(seed=0):
    """Class 1 has a second, separate mode that holds no labelled sample but sits nearer class 1's centre."""
    rng = np.random.default_rng(seed)
    dim = 16
    centres = np.zeros((4, dim))
    centres[0, :4] = centres[1, 4:8] = centres[2, 8:12] = 3.0
    centres[3, 4:6] = 1.0
    centres[3, 12:] = 3.0  # class 1's second mode
    draw = lambda c, n: np.maximum(centres[c] + rng.normal(0, 0.3, (n, dim)), 0)  # noqa: E731
    x = np.concatenate([draw(c, 2) for c in range(3)])
    y = np.repeat(np.arange(3), 2)
    u = np.concatenate([draw(0, 60), draw(1, 30), draw(3, 30), draw(2, 60)])
    u_y = np.repeat([0, 1, 1, 2], [60, 30, 30, 60])
    return x, y, u, u_y


def test_an_unlabelled_mode_that_swells_one_class_triggers_balanced_refinement():
    x, y, u, u_y = two_mode_class()
    index, labels, confidence, info = pseudo_label(x, y, u)
    assert info["method"].startswith("class-balanced")
    assert max(abs(info["propagated_share"][c] / info["expected_share"][c] - 1) for c in range(3)) > 0.2
    assert np.bincount(labels, minlength=3).tolist() == [60, 60, 60]
    assert (labels == u_y[index]).mean() > 0.95


def test_no_unlabelled_samples_or_one_class_give_no_pseudo_labels():
    x, y = clusters(3)
    assert len(pseudo_label(x, y, x[:0])[0]) == 0
    assert len(pseudo_label(x[y == 0], y[y == 0], x)[0]) == 0


def test_noise_detector_finds_flipped_labels_and_downweights_them():
    x, y = clusters(20, spread=0.4)
    rng = np.random.default_rng(1)
    flipped = rng.choice(len(y), 6, replace=False)
    given = y.copy()
    given[flipped] = (given[flipped] + 1) % 3
    found = suspect_scores(x, given)
    top = np.argsort(-found["score"])[:6]
    assert np.isin(flipped, top).mean() >= 0.8
    assert found["weight"][flipped].mean() < 0.5
    assert (found["weight"][~found["suspect"]] == 1).all()


def test_uncertainty_and_ranking():
    proba = np.array([[0.98, 0.01, 0.01], [0.4, 0.35, 0.25], [0.5, 0.5, 0.0], [0.9, 0.05, 0.05]])
    assert uncertainty(proba).argmax() == 2
    assert uncertainty(proba, "entropy").argmax() == 1
    chosen, score = rank_pool(proba, n=2, method="margin")
    assert chosen.tolist() == [2, 1] and score[0] >= score[1]


def test_diverse_avoids_near_duplicates():
    # 10 near-identical uncertain samples and 3 distinct, slightly less uncertain ones
    embeddings = np.vstack([np.tile([1.0, 0, 0], (10, 1)) + 1e-3 * np.arange(10)[:, None],
                            [[0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 1.0]]])
    proba = np.vstack([np.tile([0.5, 0.5], (10, 1)), np.tile([0.6, 0.4], (3, 1))])
    margin, _ = rank_pool(proba, embeddings, 3, "margin")
    diverse, _ = rank_pool(proba, embeddings, 3, "diverse")
    assert (margin < 10).all()
    assert (diverse >= 10).sum() >= 2
    assert len(set(k_center(embeddings, np.arange(13), 4, 0))) == 4


def test_knn_graph_is_the_same_however_it_is_chunked():
    from geotune.fewlabels.semi import knn_graph

    x, _ = clusters(20)
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    whole, chunked = knn_graph(z), knn_graph(z, chunk_elements=7 * len(z))
    assert whole.shape == (60, 60) and (whole != whole.T).nnz == 0
    assert (whole != 0).sum() == (chunked != 0).sum() and abs(whole - chunked).max() < 1e-12
    assert (whole.getnnz(axis=1) >= 10).all()
