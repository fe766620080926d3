"""Fault / non-fault patches cut from synthetic sections, labelled by the fault at the patch centre.

This is the layout of published real fault-patch sets (e.g. the F3 patches of Cunha et al. 2020: 45 x 45,
sections min-max normalised to [-1, 1], label = a fault through the centre), so a model trained on these
can be applied to them unchanged. Sections carry several fault sets with varying throw, listric shapes, drag
and damage zones; the wavelet, noise colour and level are drawn per section.
"""

from __future__ import annotations

import numpy as np

from .earth import earth_model
from .wavelets import FREQUENCY_RANGE

FAULT_PATCH_CLASSES = ("nonfault", "fault")


def make_fault_patches(n: int, size: int = 45, seed: int = 0, fault_fraction: float = 0.5,
                       section_shape: tuple[int, int] = (128, 160), per_section: int = 8, negative_margin: int = 4,
                       clean_negative_fraction: float = 0.7, max_faults: int = 4,
                       throw_range: tuple[float, float] = (0.02, 0.1),
                       frequency_range: tuple[float, float] = FREQUENCY_RANGE,
                       noise_range: tuple[float, float] = (0.05, 0.6)) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """``(patches n x size x size float32 in [-1, 1], labels n int64 (1 = fault at the centre), class names)``.

    A positive's centre pixel lies on a labelled fault. A negative's centre is at least ``negative_margin``
    pixels (chessboard) from any fault pixel; ``clean_negative_fraction`` of them hold no fault pixel at all,
    the rest may show a fault away from the centre. Patches are cut after the whole section was normalised,
    so their amplitudes keep the section's relative levels, as in real patch sets.
    """
    from scipy.ndimage import distance_transform_cdt

    if size > min(section_shape):
        raise ValueError(f"patch size {size} does not fit in sections of {section_shape}")
    rng = np.random.default_rng(seed)
    n_fault = int(round(n * fault_fraction))
    wanted = {1: n_fault, 0: n - n_fault}
    clean_wanted = int(round(wanted[0] * clean_negative_fraction))
    half = size // 2
    patches: list[np.ndarray] = []
    labels: list[int] = []
    while wanted[0] or wanted[1]:
        section = earth_model(rng, (1, *section_shape), n_faults=int(rng.integers(0, max_faults + 1)), salt=False,
                              chaotic=bool(rng.random() < 0.15), channels=int(rng.random() < 0.3),
                              noise=float(rng.uniform(*noise_range)), throw_range=throw_range,
                              frequency_range=frequency_range)
        amplitude, fault = section["amplitude"][0], section["fault"][0].astype(bool)
        inner = np.zeros_like(fault)
        inner[half:section_shape[0] - size + half + 1, half:section_shape[1] - size + half + 1] = True
        distance = distance_transform_cdt(~fault, metric="chessboard") if fault.any() else np.full(fault.shape, 10 ** 6)
        clean = distance > half
        pools = {1: np.flatnonzero((fault & inner).ravel()),
                 0: np.flatnonzero((inner & (clean if clean_wanted else distance >= negative_margin)).ravel())}
        for label in (1, 0):
            take = min(wanted[label], per_section // 2, len(pools[label]))
            for index in rng.choice(pools[label], size=take, replace=False):
                z, x = np.unravel_index(index, fault.shape)
                patches.append(amplitude[z - half:z - half + size, x - half:x - half + size])
                labels.append(label)
            wanted[label] -= take
            if label == 0:
                clean_wanted = max(0, clean_wanted - take)
    order = rng.permutation(len(labels))
    return (np.stack(patches)[order].astype(np.float32), np.asarray(labels, dtype=np.int64)[order],
            FAULT_PATCH_CLASSES)
