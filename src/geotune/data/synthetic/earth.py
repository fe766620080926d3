"""The earth model behind sections and volumes: layers, folds, faults, channels, salt, chaos, then a
wavelet, coloured noise and a min-max normalisation, all drawn from one ``numpy.random.Generator``."""

from __future__ import annotations

import numpy as np

from .faults import apply_fault, draw_fault
from .noise import coloured_noise, minmax_normalise
from .wavelets import FREQUENCY_RANGE, PHASE_RANGE_DEG, draw_wavelet, wavelet

LABEL_NAMES = ("background", "fault", "salt")
SECONDS_PER_SAMPLE = 0.004  # converts a peak frequency given in Hz to cycles per sample


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


def sample_layers(series: np.ndarray, depth_index: np.ndarray) -> np.ndarray:
    """Linear interpolation of a 1D series at fractional depth indices of any shape."""
    depth_index = np.clip(depth_index, 0, len(series) - 1.001)
    low = np.floor(depth_index).astype(int)
    frac = depth_index - low
    return series[low] * (1 - frac) + series[low + 1] * frac


def fold_profile(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A gentle fold plus regional dip along one axis, in depth samples."""
    x = np.arange(width)
    amplitude = rng.uniform(0, 0.08 * height)
    wavelength = rng.uniform(0.8, 3.0) * width
    dip = rng.uniform(-0.15, 0.15)
    return amplitude * np.sin(2 * np.pi * x / wavelength + rng.uniform(0, 2 * np.pi)) + dip * x


def make_section(height: int = 128, width: int = 256, seed: int = 0, n_faults: int = 2, salt: bool = True,
                 chaotic: bool = True, channels: int = 1, noise: float = 0.15, peak_frequency: float | None = None,
                 **fault_options) -> dict:
    """A 2D section (depth down) with labels.

    Returns ``amplitude`` (H x W float32 in [-1, 1], min-max normalised over the section); masks ``fault``,
    ``salt``, ``channel``, ``chaotic`` (uint8); ``facies`` (layer unit 0..3); ``labels`` (0 background,
    1 fault, 2 salt) and ``label_names``; ``faults`` describes each fault (kind, throw, dips, drag...);
    ``wavelet`` the peak frequency (cycles per sample) and phase drawn for this section. ``peak_frequency``
    in Hz (at 4 ms sampling) fixes the wavelet's frequency instead of drawing it.
    """
    model = earth_model(np.random.default_rng(seed), (1, height, width), n_faults, salt, chaotic, channels,
                        noise, peak_frequency, **fault_options)
    return {key: (value[0] if isinstance(value, np.ndarray) else value) for key, value in model.items()}


def make_volume(n_inlines: int = 32, n_crosslines: int = 64, n_samples: int = 64, seed: int = 0,
                n_faults: int = 2, salt: bool = True, chaotic: bool = True, channels: int = 1,
                noise: float = 0.15, peak_frequency: float | None = None, **fault_options) -> dict:
    """A 3D volume with the keys of ``make_section``; arrays are (inline, sample, crossline): a stack of
    inline sections, the layout geotune reads from .npy, so ``np.save`` gives a training volume."""
    return earth_model(np.random.default_rng(seed), (n_inlines, n_samples, n_crosslines), n_faults, salt, chaotic,
                       channels, noise, peak_frequency, **fault_options)


def make_sections(n: int, height: int = 64, width: int = 64, seed: int = 0, **options) -> tuple[np.ndarray, np.ndarray]:
    """``(amplitude N x H x W float32, labels N x H x W uint8)``: independent sections, one seed each."""
    parts = [make_section(height, width, seed=seed * 100_003 + i, **options) for i in range(n)]
    return np.stack([p["amplitude"] for p in parts]), np.stack([p["labels"] for p in parts])


def earth_model(rng: np.random.Generator, shape: tuple[int, int, int], n_faults: int = 2, salt: bool = True,
                chaotic: bool = True, channels: int = 1, noise: float = 0.15, peak_frequency: float | None = None,
                throw_range: tuple[float, float] = (0.06, 0.15), frequency_range: tuple[float, float] = FREQUENCY_RANGE,
                phase_range_deg: tuple[float, float] = PHASE_RANGE_DEG, conjugate_probability: float = 0.3,
                **fault_draw_options) -> dict:
    """Everything on a (line, depth, trace) grid of ``shape``; a section is the 1-line case.

    Faults come in sets: each set shares a dip direction, and with ``conjugate_probability`` a fault joins
    the opposite (conjugate) set instead.
    """
    from scipy.ndimage import gaussian_filter
    from scipy.signal import fftconvolve

    depth_lines, height, width = shape
    grid = np.mgrid[0:depth_lines, 0:height, 0:width].astype(float)
    yy, zz, xx = grid
    series = reflectivity_series(rng, 6 * height)
    fold = fold_profile(rng, width, height)[None, None, :] + fold_profile(rng, max(depth_lines, 2), height)[:depth_lines, None, None] * 0.5
    depth = zz + 2 * height + fold
    amplitude_mask = np.ones(shape)
    fault_mask = np.zeros(shape, dtype=bool)
    faults = []
    set_direction = int(rng.choice([-1, 1]))
    for _ in range(n_faults):
        direction = -set_direction if rng.random() < conjugate_probability else set_direction
        fault = draw_fault(rng, shape, throw_range=throw_range, direction=direction, **fault_draw_options)
        effect = apply_fault(fault, (yy, zz, xx), rng)
        depth = depth - effect["depth_shift"]
        amplitude_mask *= effect["amplitude_factor"]
        fault_mask |= effect["mask"]
        faults.append(fault)
    # reflection strength varies laterally (tuning, lithology): a smooth multiplier
    lateral = 1.0 + 0.3 * coloured_noise(rng, shape, sigma_depth=height / 8, sigma_trace=width / 6)
    channel_mask = np.zeros(shape, dtype=bool)
    refl = sample_layers(series, depth)
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
        refl = np.where(channel_mask, refl, sample_layers(series, depth - drag))
        amplitude_mask = np.where(salt_mask, 0.05, amplitude_mask)
        top_index = np.clip(np.ceil(salt_top).astype(int), 0, height - 1)
        boundary = (zz.astype(int) == top_index) & (top_index < height - 1)
        refl = refl + boundary * rng.choice([-1, 1]) * 1.2  # the strong top-of-salt reflection
    refl = refl * amplitude_mask * lateral
    chaotic_mask = np.zeros(shape, dtype=bool)
    if chaotic:
        x0, z0 = int(rng.uniform(0.05, 0.6) * width), int(rng.uniform(0.05, 0.3) * height)
        chaotic_mask[:, z0:z0 + height // 5, x0:x0 + width // 3] = True
        chaotic_mask &= ~salt_mask
        chaos = gaussian_filter(rng.normal(size=shape), sigma=(1.0, 0.8, 1.5))
        refl = np.where(chaotic_mask, chaos / (np.abs(chaos).max() + 1e-9), refl)
    if peak_frequency is None:
        source, drawn = draw_wavelet(rng, frequency_range, phase_range_deg)
    else:
        drawn = {"peak_cycles_per_sample": peak_frequency * SECONDS_PER_SAMPLE, "phase_deg": 0.0}
        source = wavelet(drawn["peak_cycles_per_sample"])
    trace = fftconvolve(refl, source[None, :, None], mode="same", axes=1)
    trace = trace / (trace.std() + 1e-9)
    if noise:
        # band-limited, laterally correlated noise; its colour is drawn per section
        colour = coloured_noise(rng, shape, sigma_depth=rng.uniform(0.5, 2.5), sigma_trace=rng.uniform(0.3, 3.0))
        trace = trace + noise * colour
    facies = np.clip(((depth - depth.min()) / (np.ptp(depth) + 1e-9) * 4).astype(int), 0, 3)
    fault_mask &= ~salt_mask
    labels = np.zeros(shape, dtype=np.uint8)
    labels[fault_mask] = 1
    labels[salt_mask] = 2
    return {
        "amplitude": minmax_normalise(trace),
        "fault": fault_mask.astype(np.uint8),
        "salt": salt_mask.astype(np.uint8),
        "channel": channel_mask.astype(np.uint8),
        "chaotic": chaotic_mask.astype(np.uint8),
        "facies": facies.astype(np.uint8),
        "labels": labels,
        "label_names": LABEL_NAMES,
        "faults": faults,
        "wavelet": drawn,
    }
