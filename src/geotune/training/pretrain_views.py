"""Two random views of a batch of seismic patches for self-supervised training, made on the batch in torch.

Inputs are [0, 1] with 0.5 as zero amplitude (the ``robust`` scaling of ``data/scaling.py``). A view is a random
crop resized back (scale and aspect drawn per sample), a left-right mirror, an amplitude gain and noise that is
band-limited along time (smoothed vertically, as real noise passes the same filters as the signal). No colour
jitter, no up-down flip (time runs down; a flipped section is not a plausible section) and no polarity change.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def seismic_view(x: torch.Tensor, generator: torch.Generator | None = None, min_scale: float = 0.4,
                 gain: tuple[float, float] = (0.6, 1.5), noise: float = 0.08) -> torch.Tensor:
    """One random view of each sample of ``x`` (N x C x H x W in [0, 1]); same shape, still in [0, 1]."""
    n, _, h, w = x.shape
    device = x.device

    def uniform(low, high, size=(n,)):
        return torch.rand(size, generator=generator).to(device) * (high - low) + low

    # crop: area fraction s, aspect a, placed at random inside the patch; mirrored left-right half the time
    area = uniform(min_scale, 1.0)
    aspect = torch.exp(uniform(math.log(3 / 4), math.log(4 / 3)))
    sx = torch.sqrt(area * aspect).clamp(max=1.0)
    sy = torch.sqrt(area / aspect).clamp(max=1.0)
    cx = uniform(-1.0, 1.0) * (1 - sx)
    cy = uniform(-1.0, 1.0) * (1 - sy)
    mirror = torch.where(uniform(0, 1) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3, device=device)
    theta[:, 0, 0], theta[:, 0, 2] = sx * mirror, cx
    theta[:, 1, 1], theta[:, 1, 2] = sy, cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    view = F.grid_sample(x.float() - 0.5, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    view = view * uniform(*gain).view(n, 1, 1, 1)
    if noise > 0:
        view = view + band_limited_noise(view.shape, generator, device) * uniform(0.0, noise).view(n, 1, 1, 1)
    return (view.clamp(-0.5, 0.5) + 0.5).to(x.dtype)


def band_limited_noise(shape, generator: torch.Generator | None, device) -> torch.Tensor:
    """Unit-std white noise smoothed along time (rows) by a Gaussian of 1-2 samples (one width per batch)."""
    sigma = 1.0 + float(torch.rand((), generator=generator))
    radius = int(math.ceil(3 * sigma))
    taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=torch.float32) / sigma) ** 2)
    taps = (taps / taps.norm()).view(1, 1, -1, 1).to(device)
    n, c, h, w = shape
    white = torch.randn((n * c, 1, h + 2 * radius, w), generator=generator).to(device)
    return F.conv2d(white, taps).view(n, c, h, w)
