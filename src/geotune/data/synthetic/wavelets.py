"""Source wavelets: a Ricker, rotated in phase, with frequency and phase drawn per section."""

from __future__ import annotations

import numpy as np

# Peak frequency in cycles per sample (dt-free): 0.03 is a period of ~33 samples, 0.12 one of ~8 samples.
FREQUENCY_RANGE = (0.03, 0.12)
PHASE_RANGE_DEG = (-90.0, 90.0)


def ricker(peak_frequency: float, dt: float = 0.004, length: float = 0.128) -> np.ndarray:
    """Zero-phase Ricker wavelet sampled every ``dt`` seconds."""
    t = np.arange(-length / 2, length / 2 + dt / 2, dt)
    arg = (np.pi * peak_frequency * t) ** 2
    return (1.0 - 2.0 * arg) * np.exp(-arg)


def rotate_phase(wavelet: np.ndarray, degrees: float) -> np.ndarray:
    """Constant phase rotation: cos(p) w + sin(p) H[w], H the Hilbert transform (real data is rarely zero-phase)."""
    from scipy.signal import hilbert

    p = np.deg2rad(degrees)
    return np.cos(p) * wavelet + np.sin(p) * np.imag(hilbert(wavelet))


def wavelet(cycles_per_sample: float, phase_deg: float = 0.0) -> np.ndarray:
    """A Ricker of the given peak frequency (cycles per sample), long enough for its side lobes, phase-rotated."""
    half = int(np.ceil(1.5 / cycles_per_sample))
    samples = ricker(cycles_per_sample, dt=1.0, length=2.0 * half)
    return rotate_phase(samples, phase_deg) if phase_deg else samples


def draw_wavelet(rng: np.random.Generator, frequency_range: tuple[float, float] = FREQUENCY_RANGE,
                 phase_range_deg: tuple[float, float] = PHASE_RANGE_DEG) -> tuple[np.ndarray, dict]:
    """One section's wavelet and what was drawn (``peak_cycles_per_sample``, ``phase_deg``)."""
    frequency = float(rng.uniform(*frequency_range))
    phase = float(rng.uniform(*phase_range_deg))
    return wavelet(frequency, phase), {"peak_cycles_per_sample": frequency, "phase_deg": phase}
