"""Where a classifier looked: Grad-CAM heat maps (pytorch-grad-cam) and their overlays on the input.

Grad-CAM weighs the last convolutional feature maps by the gradient of the chosen class score, so a
hot region is one whose features pushed the prediction towards that class.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def target_layer(model, image_size: int | None = None, min_cells: int = 4):
    """The layer Grad-CAM reads: the deepest convolutional stage whose maps are at least ``min_cells`` wide.

    At full size that is EfficientNet's conv_head (or ResNet's layer4); on small inputs (32 px) those maps
    are 1 x 1 and say nothing about where, so an earlier block is taken.
    """
    import torch

    backbone = getattr(model, "backbone", model)
    candidates = [getattr(backbone, name) for name in ("conv_head", "layer4", "layer3", "layer2") if hasattr(backbone, name)]
    if hasattr(backbone, "blocks"):
        candidates += list(backbone.blocks)[::-1]
    if not candidates:
        candidates = [m for m in backbone.modules() if isinstance(m, torch.nn.Conv2d)][::-1]
    if not candidates:
        raise ValueError("the model has no convolutional layer to explain")
    if not image_size:
        return candidates[0]
    sizes: dict[int, int] = {}
    hooks = [layer.register_forward_hook(lambda mod, inp, out, i=i: sizes.__setitem__(i, min(out.shape[-2:])))
             for i, layer in enumerate(candidates)]
    try:
        channels = int(getattr(model, "in_chans", 0) or _in_channels(model))
        with torch.no_grad():
            model(torch.zeros(1, channels, image_size, image_size))
    finally:
        for hook in hooks:
            hook.remove()
    for i, layer in enumerate(candidates):
        if sizes.get(i, 0) >= min_cells:
            return layer
    return candidates[-1]


def _in_channels(model) -> int:
    import torch

    first = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    return int(first.in_channels)


def gradcam(model, x: np.ndarray, targets: Sequence[int] | None = None, batch_size: int = 16) -> np.ndarray:
    """Heat maps in [0, 1], one per sample (N x H x W), for class ``targets[i]`` (default: the predicted one).

    ``model`` is the torch module of a loaded classifier (``ImageClassifier.model``); ``x`` is N x C x H x W
    in [0, 1], as the model's reader returns it.
    """
    import torch
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    x = np.asarray(x, dtype=np.float32)
    if len(x) == 0:
        return np.zeros((0,) + x.shape[2:], dtype=np.float32)
    model = model.eval()
    # channels_last weights and a contiguous input make the backward pass fail in some layers; use plain layout.
    model = model.to(memory_format=torch.contiguous_format)
    maps = []
    with GradCAM(model=model, target_layers=[target_layer(model, x.shape[-1])]) as cam:
        for start in range(0, len(x), batch_size):
            chunk = torch.from_numpy(x[start:start + batch_size]).contiguous()
            chosen = None if targets is None else [ClassifierOutputTarget(int(t)) for t in targets[start:start + len(chunk)]]
            maps.append(np.asarray(cam(input_tensor=chunk, targets=chosen), dtype=np.float32))
    model.to(memory_format=torch.channels_last)
    return np.nan_to_num(np.concatenate(maps), nan=0.0)


def as_rgb(sample: np.ndarray) -> np.ndarray:
    """A C x H x W sample in [0, 1] as H x W x 3 uint8 (one channel shown grey, extra channels dropped)."""
    sample = np.asarray(sample, dtype=np.float32)
    if sample.ndim == 2:
        sample = sample[None]
    rgb = np.repeat(sample[:1], 3, axis=0) if sample.shape[0] < 3 else sample[:3]
    return (np.clip(rgb.transpose(1, 2, 0), 0.0, 1.0) * 255).round().astype(np.uint8)


def overlay(sample: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The heat map blended onto the sample (jet colours), H x W x 3 uint8."""
    from matplotlib import colormaps

    base = as_rgb(sample).astype(np.float32) / 255.0
    colour = colormaps["jet"](np.clip(heat, 0.0, 1.0))[..., :3]
    return ((1 - alpha) * base + alpha * colour).clip(0, 1).__mul__(255).round().astype(np.uint8)
