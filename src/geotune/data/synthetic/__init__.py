"""Synthetic seismic with labels, from a convolutional earth model (the embedded default data).

Reflectivity is built in depth (layering with random impedance contrasts), deformed (folding, faults with
varying throw, listric shapes, drag and damage zones in several sets, a salt body that pushes layers up,
chaotic zones), convolved with a wavelet whose frequency and phase are drawn per section, coloured noise is
added and each section is min-max normalised to [-1, 1] like real patch sets. Everything is drawn from one
``numpy.random.Generator`` so a seed fixes the result.

- ``make_section`` / ``make_sections`` / ``make_volume``: pixel labels (fault, salt, channel, chaotic,
  facies) from one earth model, so a section is the one-line case of a volume (``earth.py``; faults in
  ``faults.py``, wavelets in ``wavelets.py``, noise and normalisation in ``noise.py``).
- ``make_fault_patches``: fault / non-fault patches labelled at the centre, for transfer to real surveys.
- ``make_patches``: LANDMASS-style classification patches for ``geotune demo`` (``patches.py``).
"""

from .earth import LABEL_NAMES, earth_model, make_section, make_sections, make_volume, reflectivity_series
from .fault_patches import FAULT_PATCH_CLASSES, make_fault_patches
from .faults import apply_fault, draw_fault
from .noise import coloured_noise, minmax_normalise
from .patches import PATCH_CLASSES, make_patch, make_patches
from .wavelets import draw_wavelet, ricker, rotate_phase, wavelet

__all__ = ["FAULT_PATCH_CLASSES", "LABEL_NAMES", "PATCH_CLASSES", "apply_fault", "coloured_noise", "draw_fault",
           "draw_wavelet", "earth_model", "make_fault_patches", "make_patch", "make_patches", "make_section",
           "make_sections", "make_volume", "minmax_normalise", "reflectivity_series", "ricker", "rotate_phase",
           "wavelet"]
