"""Class probabilities decoded along depth, within each well: none, a moving average, or an HMM (decode.py)."""

from __future__ import annotations

import numpy as np

from . import decode as hmm

# Default smoothing along depth, in samples: beds thinner than ~5 samples are rare in cored facies, and a
# one-sample facies flip is far more often noise (fixed a priori, not tuned on any score)
SMOOTH = 5
# Default depth-sequence decoding: the HMM with plain emissions (decode.py). The former default's HMM divided
# the emissions by the class priors and cost 0.12-0.17 accuracy on held-out North Sea quadrants; with plain
# emissions, on the default table with the forest, it is part of the recipe that scored best on both sets
# (benchmarks/results/logs_force2020.md, logs_seg2016.md). --decode none or smooth replace it
DECODE = "hmm"
DECODES = ("hmm", "smooth", "none")


def smooth_proba(proba: np.ndarray, wells: np.ndarray, size: int) -> np.ndarray:
    """Average class probabilities over ``size`` samples along depth, within each well (a soft mode filter)."""
    if size <= 1:
        return proba
    from scipy.ndimage import uniform_filter1d

    out = proba.copy()
    boundaries = list(np.flatnonzero(wells[1:] != wells[:-1]) + 1) + [len(wells)]
    start = 0
    for stop in boundaries:
        out[start:stop] = uniform_filter1d(proba[start:stop], size=size, axis=0, mode="nearest")
        start = stop
    return out


def decode_along_depth(proba: np.ndarray, wells: np.ndarray, how: str, smooth: int = SMOOTH, transitions=None,
                       priors=None, emission: str = hmm.EMISSION) -> np.ndarray:
    """``proba`` (rows of whole wells, in depth order) decoded as ``how`` says: hmm, smooth or none."""
    if how == "hmm":
        return hmm.posterior(proba, wells, transitions, priors, emission)
    if how == "smooth":
        return smooth_proba(proba, wells, int(smooth))
    return proba
