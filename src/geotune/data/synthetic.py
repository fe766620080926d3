"""Synthetic seismic with labels, from a convolutional model (the embedded default data).

Reflectivity is built in depth (layering with random impedance contrasts), deformed (folding,
faults with throw, a salt body that pushes layers up, chaotic zones with no lateral continuity),
convolved trace by trace with a Ricker wavelet, and noise is added. Everything is drawn from one
``numpy.random.Generator`` so a seed fixes the result.

``make_patches`` yields classification patches (LANDMASS-style classes); ``make_section`` and
``make_volume`` yield a 2D section / 3D volume with pixel labels (fault, salt, channel, chaotic and
facies masks) from one earth model, so a section is the one-line case of a volume.
"""

from __future__ import annotations

import numpy as np

PATCH_CLASSES = ("chaotic", "fault", "horizon", "salt")


def ricker(peak_frequency: float, dt: float = 0.004, length: float = 0.128) -> np.ndarray:
    """Zero-phase Ricker wavelet sampled every ``dt`` seconds."""
    t = np.arange(-length / 2, length / 2 + dt / 2, dt)
    arg = (np.pi * peak_frequency * t) ** 2
    return (1.0 - 2.0 * arg) * np.exp(-arg)


def reflectivity_series(rng: np.random.Generator, n: int, density: float = 0.25) -> np.ndarray:
    """Sparse reflection coefficients from a blocky impedance log (layers of random thickness)."""
    impedance = np.empty(n)
    depth = 0
    value = rng.normal(0.0, 1.0)
    while depth < n:
        thickness = int(rng.integers(2, max(3, int(2 / density) + 3)))
        impedance[depth:depth + thickness] = value
        value = value + rng.normal(0.0, 1.0)
        depth += thickness
    reflect = np.diff(impedance, prepend=impedance[0])
    return reflect / (np.abs(reflect).max() + 1e-9)


def _sample_layers(series: np.ndarray, depth_index: np.ndarray) -> np.ndarray:
    """Linear interpolation of a 1D series at fractional (2D) depth indices."""
    depth_index = np.clip(depth_index, 0, len(series) - 1.001)
    low = np.floor(depth_index).astype(int)
    frac = depth_index - low
    return series[low] * (1 - frac) + series[low + 1] * frac


def _convolve_traces(reflectivity: np.ndarray, wavelet: np.ndarray) -> np.ndarray:
    from scipy.signal import fftconvolve

    return fftconvolve(reflectivity, wavelet[:, None], mode="same", axes=0)


def _fold(rng, width, height):
    x = np.arange(width)
    amplitude = rng.uniform(0, 0.08 * height)
    wavelength = rng.uniform(0.8, 3.0) * width
    dip = rng.uniform(-0.15, 0.15)
    return amplitude * np.sin(2 * np.pi * x / wavelength + rng.uniform(0, 2 * np.pi)) + dip * x


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
    refl = _sample_layers(series, depth_index)
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
    depth = zz + size + _fold(rng, w, h)[None, :]
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
        refl = _sample_layers(series, depth) * mask + boundary * rng.choice([-1, 1]) * 1.5
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


LABEL_NAMES = ("background", "fault", "salt")


def make_section(height: int = 128, width: int = 256, seed: int = 0, n_faults: int = 2, salt: bool = True,
                 chaotic: bool = True, channels: int = 1, noise: float = 0.15, peak_frequency: float = 30.0) -> dict:
    """A 2D section (depth down) with labels.

    Returns ``amplitude`` (H x W float32); masks ``fault``, ``salt``, ``channel``, ``chaotic`` (uint8);
    ``facies`` (layer unit 0..3); ``labels`` (0 background, 1 fault, 2 salt) and ``label_names``;
    ``faults`` describes each fault (``normal`` or ``reverse``, throw in samples).
    """
    model = _earth_model(np.random.default_rng(seed), height, width, 1, n_faults, salt, chaotic, channels,
                         noise, peak_frequency)
    return {key: (value[0] if isinstance(value, np.ndarray) else value) for key, value in model.items()}


def make_volume(n_inlines: int = 32, n_crosslines: int = 64, n_samples: int = 64, seed: int = 0,
                n_faults: int = 2, salt: bool = True, chaotic: bool = True, channels: int = 1,
                noise: float = 0.15, peak_frequency: float = 30.0) -> dict:
    """A 3D volume with the keys of ``make_section``; arrays are (inline, sample, crossline): a stack of
    inline sections, the layout geotune reads from .npy, so ``np.save`` gives a training volume."""
    return _earth_model(np.random.default_rng(seed), n_samples, n_crosslines, n_inlines, n_faults, salt,
                        chaotic, channels, noise, peak_frequency)


def make_sections(n: int, height: int = 64, width: int = 64, seed: int = 0, **options) -> tuple[np.ndarray, np.ndarray]:
    """``(amplitude N x H x W float32, labels N x H x W uint8)``: independent sections, one seed each."""
    parts = [make_section(height, width, seed=seed * 100_003 + i, **options) for i in range(n)]
    return np.stack([p["amplitude"] for p in parts]), np.stack([p["labels"] for p in parts])


def _earth_model(rng, height, width, depth_lines, n_faults, salt, chaotic, channels, noise, peak_frequency):
    """Everything on a (line, depth, trace) grid; a section is the 1-line case."""
    from scipy.ndimage import gaussian_filter

    shape = (depth_lines, height, width)
    yy, zz, xx = np.mgrid[0:depth_lines, 0:height, 0:width].astype(float)
    series = reflectivity_series(rng, 6 * height)
    fold = _fold(rng, width, height)[None, None, :] + _fold(rng, max(depth_lines, 2), height)[:depth_lines, None, None] * 0.5
    depth = zz + 2 * height + fold
    amplitude_mask = np.ones(shape)
    fault_mask = np.zeros(shape, dtype=bool)
    faults = []
    for _ in range(n_faults):
        # a plane striking across the lines at a random angle, dipping 45-80 degrees
        x0 = rng.uniform(0.2, 0.8) * width
        strike = np.deg2rad(rng.uniform(-30, 30))
        slope = rng.choice([-1, 1]) / np.tan(np.deg2rad(rng.uniform(45, 80)))  # x offset per depth sample
        signed = (xx - x0 - (yy - depth_lines / 2) * np.tan(strike) - slope * (zz - height / 2)) / np.sqrt(1 + slope ** 2)
        hanging = signed * np.sign(slope) > 0  # the block above the dipping plane
        kind = rng.choice(["normal", "reverse"])
        throw = rng.uniform(0.06, 0.15) * height
        depth = depth - hanging * throw * (1 if kind == "normal" else -1)  # normal: hanging wall moves down
        fault_mask |= np.abs(signed) < 1.0
        amplitude_mask *= 1.0 - 0.5 * np.exp(-(signed ** 2) / 2.0)
        faults.append({"kind": str(kind), "throw_samples": float(throw)})
    channel_mask = np.zeros(shape, dtype=bool)
    refl = _sample_layers(series, depth)
    for _ in range(channels):
        # a sinuous channel in map view, lens-shaped in section, filled with brighter, discontinuous layers
        centre = rng.uniform(0.2, 0.8) * width + rng.uniform(0.05, 0.15) * width * np.sin(
            2 * np.pi * yy / rng.uniform(20, 60) + rng.uniform(0, 2 * np.pi))
        half_width = rng.uniform(0.05, 0.1) * width
        base = rng.uniform(0.15, 0.45) * height
        thickness = rng.uniform(0.06, 0.12) * height
        across = np.clip(1 - ((xx - centre) / half_width) ** 2, 0, None)
        inside = (zz <= base) & (zz >= base - thickness * across) & (across > 0)
        channel_mask |= inside
        fill = gaussian_filter(rng.normal(size=shape), sigma=(1.0, 0.7, 2.0))
        refl = np.where(inside, 1.5 * fill / (np.abs(fill).max() + 1e-9), refl)
    salt_mask = np.zeros(shape, dtype=bool)
    if salt:
        cx, cy = rng.uniform(0.3, 0.7) * width, rng.uniform(0.2, 0.8) * max(depth_lines, 1)
        top = rng.uniform(0.4, 0.65) * height
        half_width = rng.uniform(0.1, 0.2) * width
        salt_top = top + (((xx - cx) / half_width) ** 2 + ((yy - cy) / (half_width * 1.5)) ** 2) * height * 0.5
        salt_mask = zz > salt_top
        drag = np.clip(height - salt_top, 0, None) * 0.3  # layers dragged up against the diapir
        refl = np.where(channel_mask, refl, _sample_layers(series, depth - drag))
        amplitude_mask = np.where(salt_mask, 0.05, amplitude_mask)
        top_index = np.clip(np.ceil(salt_top).astype(int), 0, height - 1)
        boundary = (zz.astype(int) == top_index) & (top_index < height - 1)
        refl = refl + boundary * rng.choice([-1, 1]) * 1.2  # the strong top-of-salt reflection
    refl = refl * amplitude_mask
    chaotic_mask = np.zeros(shape, dtype=bool)
    if chaotic:
        x0, z0 = int(rng.uniform(0.05, 0.6) * width), int(rng.uniform(0.05, 0.3) * height)
        chaotic_mask[:, z0:z0 + height // 5, x0:x0 + width // 3] = True
        chaotic_mask &= ~salt_mask
        chaos = gaussian_filter(rng.normal(size=shape), sigma=(1.0, 0.8, 1.5))
        refl = np.where(chaotic_mask, chaos / (np.abs(chaos).max() + 1e-9), refl)
    from scipy.signal import fftconvolve

    trace = fftconvolve(refl, ricker(peak_frequency)[None, :, None], mode="same", axes=1)
    trace = trace / (np.abs(trace).std() + 1e-9) + rng.normal(0, noise, shape)
    facies = np.clip(((depth - depth.min()) / (np.ptp(depth) + 1e-9) * 4).astype(int), 0, 3)
    fault_mask &= ~salt_mask
    labels = np.zeros(shape, dtype=np.uint8)
    labels[fault_mask] = 1
    labels[salt_mask] = 2
    return {
        "amplitude": trace.astype(np.float32),
        "fault": fault_mask.astype(np.uint8),
        "salt": salt_mask.astype(np.uint8),
        "channel": channel_mask.astype(np.uint8),
        "chaotic": chaotic_mask.astype(np.uint8),
        "facies": facies.astype(np.uint8),
        "labels": labels,
        "label_names": LABEL_NAMES,
        "faults": faults,
    }
