"""Depth-sequence decoding: a hidden Markov model over facies along each well.

Facies follow each other in an order (a shoreface coarsens upward, a shale rarely sits straight on a
grainstone), so the probability of a facies at one depth depends on the facies just above it. The
transition matrix is counted from the training wells' labels, sample to sample along depth, with one
pseudo-count per cell so an unseen succession stays possible. The classifier's probabilities serve as
emission scores, and forward-backward gives each sample's posterior probability of each facies given the
whole well. Emissions are the probabilities as they are (``EMISSION = "proba"``), not divided by the
training class priors (``"scaled"``, what models saved before ``hmm_emission`` existed use): samples
0.15 m apart are far from independent, so dividing by the prior at every sample compounds, and on a new
area, where the classifier is unsure, it turned uncertainty into long runs of rare classes (FORCE 2020
leave-one-quadrant-out, plain boosting on raw curves: accuracy 0.585 undecoded, 0.410 decoded with scaled
emissions, 0.593 with plain ones; benchmarks/results/logs_force2020.md).
Posteriors (rather than a single Viterbi path) keep
``predict_proba`` a probability table, and their argmax is the most likely facies sample by sample.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError

PSEUDO_COUNT = 1.0  # per transition cell: rare successions stay possible (fixed a priori)
FLOOR = 1e-9  # classifier probabilities of exactly 0 would veto a facies outright
EMISSION = "proba"
EMISSIONS = ("proba", "scaled")


def transitions(labels: np.ndarray, wells: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(transition matrix rows -> next sample, class priors) from labelled rows in depth order.

    ``labels`` holds class indices with -1 for unlabelled rows; a pair is counted only when both samples
    are labelled and in the same well."""
    labels, wells = np.asarray(labels), np.asarray(wells)
    counts = np.full((n_classes, n_classes), PSEUDO_COUNT)
    pair = (labels[:-1] >= 0) & (labels[1:] >= 0) & (wells[:-1] == wells[1:])
    np.add.at(counts, (labels[:-1][pair], labels[1:][pair]), 1.0)
    known = labels[labels >= 0]
    prior = np.bincount(known, minlength=n_classes).astype(float) + PSEUDO_COUNT
    return counts / counts.sum(1, keepdims=True), prior / prior.sum()


def posterior(proba: np.ndarray, wells: np.ndarray, matrix, prior, emission: str = EMISSION) -> np.ndarray:
    """Forward-backward posteriors, well by well (rows of a well consecutive and in depth order).
    ``emission``: ``proba`` (the probabilities as emissions) or ``scaled`` (divided by the class priors)."""
    matrix, prior = np.asarray(matrix, dtype=float), np.asarray(prior, dtype=float)
    k = proba.shape[1]
    if matrix.shape != (k, k) or prior.shape != (k,):
        raise ModelError(f"transition table is {matrix.shape} with {prior.shape} priors for {k} classes")
    if emission not in EMISSIONS:
        raise ModelError(f"unknown HMM emission {emission!r}; expected one of {', '.join(EMISSIONS)}")
    out = np.empty_like(proba, dtype=float)
    wells = np.asarray(wells)
    boundaries = [0] + list(np.flatnonzero(wells[1:] != wells[:-1]) + 1) + [len(wells)]
    for start, stop in zip(boundaries[:-1], boundaries[1:]):
        out[start:stop] = _forward_backward(proba[start:stop], matrix, prior, emission == "scaled")
    return out


def _forward_backward(proba: np.ndarray, matrix: np.ndarray, prior: np.ndarray, scaled: bool) -> np.ndarray:
    n = len(proba)
    emission = np.clip(proba, FLOOR, None) / (prior if scaled else 1.0)
    emission /= emission.sum(1, keepdims=True)
    alpha, beta = np.empty_like(emission), np.ones_like(emission)
    alpha[0] = prior * emission[0]
    alpha[0] /= alpha[0].sum()
    for t in range(1, n):  # each step renormalised: long wells would underflow otherwise
        alpha[t] = (alpha[t - 1] @ matrix) * emission[t]
        alpha[t] /= alpha[t].sum()
    for t in range(n - 2, -1, -1):
        beta[t] = matrix @ (emission[t + 1] * beta[t + 1])
        beta[t] /= beta[t].sum()
    post = alpha * beta
    return post / post.sum(1, keepdims=True)
