"""Augmentations that respect geology: horizontal flips and small shifts, never vertical flips
(depth/time has a direction), applied on batches of [0, 1] tensors."""

from __future__ import annotations

import torch


def augment_batch(x: torch.Tensor, generator: torch.Generator | None = None, max_shift: float = 0.08,
                  vertical_flip: bool = False) -> torch.Tensor:
    n, _, h, w = x.shape
    flip = torch.rand(n, generator=generator) < 0.5
    out = torch.where(flip.view(-1, 1, 1, 1).to(x.device), x.flip(-1), x)
    if vertical_flip:
        vflip = torch.rand(n, generator=generator) < 0.5
        out = torch.where(vflip.view(-1, 1, 1, 1).to(x.device), out.flip(-2), out)
    if max_shift > 0:
        # One random translation for the batch via a reflect-padded crop: cheap and keeps edges plausible.
        dy = int(torch.randint(-int(h * max_shift), int(h * max_shift) + 1, (1,), generator=generator))
        dx = int(torch.randint(-int(w * max_shift), int(w * max_shift) + 1, (1,), generator=generator))
        pad = (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0))
        if any(pad):
            padded = torch.nn.functional.pad(out, pad, mode="reflect")
            top, left = max(-dy, 0), max(-dx, 0)
            out = padded[:, :, top:top + h, left:left + w]
    return out
