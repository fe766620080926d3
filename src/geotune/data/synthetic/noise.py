"""Coloured (spatially correlated) noise and the per-section min-max normalisation of real surveys."""

from __future__ import annotations

import numpy as np


def coloured_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma_depth: float, sigma_trace: float) -> np.ndarray:
    """Gaussian noise smoothed along depth and trace (the last two axes), scaled to unit standard deviation.

    Real noise is band-limited like the signal and correlated across traces (acquisition footprint,
    migration smiles); white noise is the easy case a network learns to ignore.
    """
    from scipy.ndimage import gaussian_filter

    sigma = (0.0,) * (len(shape) - 2) + (sigma_depth, sigma_trace)
    field = gaussian_filter(rng.normal(size=shape), sigma=sigma)
    return field / (field.std() + 1e-12)


def minmax_normalise(amplitude: np.ndarray) -> np.ndarray:
    """Map the whole section (or volume) linearly onto [-1, 1]: relative amplitudes inside it are kept,
    as in published patch sets (e.g. the F3 fault patches, normalised per section by their authors)."""
    low, high = float(amplitude.min()), float(amplitude.max())
    if high - low < 1e-12:
        return np.zeros_like(amplitude, dtype=np.float32)
    return (2.0 * (amplitude - low) / (high - low) - 1.0).astype(np.float32)
