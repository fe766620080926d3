"""LANDMASS-style classification patches (chaotic, fault, horizon, salt): the data of ``geotune demo``.

Each patch is its own small earth model (layers, a fold, one fault, a salt top or a chaotic zone) convolved
with a Ricker wavelet. For fault detection on real surveys use ``make_fault_patches``, which cuts patches
from full sections with realistic faults.
"""

from __future__ import annotations

import numpy as np

from .earth import fold_profile, reflectivity_series, sample_layers
from .wavelets import ricker

PATCH_CLASSES = ("chaotic", "fault", "horizon", "salt")


def _convolve_traces(reflectivity: np.ndarray, wavelet: np.ndarray) -> np.ndarray:
    from scipy.signal import fftconvolve

    return fftconvolve(reflectivity, wavelet[:, None], mode="same", axes=0)


def _fault(rng, height, width):
    """A planar fault: (side mask, distance-to-plane in pixels, throw)."""
    zz, xx = np.mgrid[0:height, 0:width].astype(float)
    x0 = rng.uniform(0.3, 0.7) * width
    slope = np.tan(np.deg2rad(rng.uniform(-35, 35)))  # horizontal offset per depth sample
    plane_x = x0 + slope * (zz - height / 2)
    side = xx > plane_x
    distance = np.abs(xx - plane_x) / np.sqrt(1 + slope ** 2)
    throw = rng.choice([-1, 1]) * rng.uniform(0.08, 0.25) * height
    return side, distance, throw


def _render(rng, depth_index, series, noise, peak_frequency, amplitude_mask=None):
    refl = sample_layers(series, depth_index)
    if amplitude_mask is not None:
        refl = refl * amplitude_mask
    trace = _convolve_traces(refl, ricker(peak_frequency))
    trace = trace / (np.abs(trace).std() + 1e-9)
    return trace + rng.normal(0.0, noise, trace.shape)


def make_patch(kind: str, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """One seismic patch of the given class, float32, zero mean, unit-ish std."""
    h = w = size
    series = reflectivity_series(rng, 4 * size)
    zz, xx = np.mgrid[0:h, 0:w].astype(float)
    depth = zz + size + fold_profile(rng, w, h)[None, :]
    noise = rng.uniform(0.05, 0.35)
    freq = rng.uniform(22, 40)
    mask = None
    if kind == "horizon":
        pass
    elif kind == "fault":
        side, distance, throw = _fault(rng, h, w)
        depth = depth + side * throw
        mask = 1.0 - 0.7 * np.exp(-(distance ** 2) / 2.0)  # damaged zone dims reflections near the plane
    elif kind == "salt":
        centre = rng.uniform(0.3, 0.7) * w
        top = rng.uniform(0.25, 0.55) * h
        width = rng.uniform(0.25, 0.6) * w
        salt_top = top + ((xx - centre) / width) ** 2 * h * 0.6
        inside = zz > salt_top
        depth = depth - np.clip(h - salt_top, 0, None) * 0.35  # layers dragged up against the diapir
        mask = np.where(inside, rng.uniform(0.0, 0.1), 1.0)
        top_row = np.clip(salt_top.astype(int), 0, h - 1)
        boundary = (zz.astype(int) == top_row) & (top_row < h - 1)
        refl = sample_layers(series, depth) * mask + boundary * rng.choice([-1, 1]) * 1.5
        trace = _convolve_traces(refl, ricker(freq))
        trace = trace / (np.abs(trace).std() + 1e-9)
        return (trace + rng.normal(0, noise, trace.shape)).astype(np.float32)
    elif kind == "chaotic":
        from scipy.ndimage import gaussian_filter

        field = gaussian_filter(rng.normal(size=(h, w)), sigma=(rng.uniform(0.6, 1.2), rng.uniform(1.0, 2.5)))
        field = field / (np.abs(field).max() + 1e-9)
        trace = _convolve_traces(field, ricker(freq))
        trace = trace / (np.abs(trace).std() + 1e-9)
        return (trace + rng.normal(0, noise, trace.shape)).astype(np.float32)
    else:
        raise ValueError(f"unknown patch class {kind!r}; choose from {PATCH_CLASSES}")
    return _render(rng, depth, series, noise, freq, mask).astype(np.float32)


def make_patches(n_per_class: int, size: int = 64, seed: int = 0,
                 classes: tuple[str, ...] = PATCH_CLASSES) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """``(patches N x size x size float32, labels N int, class names)``, classes interleaved."""
    rng = np.random.default_rng(seed)
    patches, labels = [], []
    for i in range(n_per_class):
        for label, kind in enumerate(classes):
            patches.append(make_patch(kind, rng, size))
            labels.append(label)
    return np.stack(patches), np.asarray(labels, dtype=np.int64), tuple(classes)
