"""A faster weight gradient for large depthwise convolutions on CPUs.

oneDNN (PyTorch's CPU convolution library) computes the weight gradient of a 5x5 depthwise convolution
20-80x slower than its forward pass; on EfficientNet's top stages at small spatial sizes that one kernel is
most of a training step (measured with torch.profiler on one thread, 96 px, batch 32). The same gradient is itself a depthwise convolution
(every sample-channel pair correlated with its own output gradient), which oneDNN's forward pass computes
quickly. ``fast_depthwise_grad(model)`` reroutes the model's qualifying convolutions inside its block; results equal
the stock gradient to float rounding. Forward outputs and input gradients use the stock kernels.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

# Chosen a priori from per-shape timings of the two gradients on a 2-core Xeon, not from any training result: the
# rerouted gradient wins for kernels >= 5 up to about 8x8 outputs and loses on larger maps.
MIN_KERNEL = 5
MAX_OUTPUT_PIXELS = 64


class _DepthwiseConv2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding, ctx.has_bias = stride, padding, bias is not None
        return F.conv2d(x, weight, bias, stride, padding, 1, weight.shape[0])

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.ops.aten.convolution_backward(
                grad, x, weight, None, ctx.stride, ctx.padding, (1, 1), False, (0, 0), weight.shape[0],
                (True, False, False))[0]
        if ctx.needs_input_grad[1]:
            grad_w = depthwise_weight_grad(x, grad, weight.shape[-2:], ctx.stride, ctx.padding)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None, None


def depthwise_weight_grad(x, grad, kernel, stride, padding) -> torch.Tensor:
    """d(loss)/d(weight) of a depthwise conv2d: a depthwise convolution of the padded input (one channel per
    sample-channel pair) with the output gradient as its kernel, dilated by the stride, summed over samples."""
    n, c = x.shape[:2]
    x = F.pad(x, (padding[1], padding[1], padding[0], padding[0])).contiguous()
    out_h, out_w = grad.shape[-2:]
    taps = F.conv2d(x.reshape(1, n * c, *x.shape[-2:]), grad.contiguous().reshape(n * c, 1, out_h, out_w),
                    None, 1, 0, stride, n * c)
    return taps[..., :kernel[0], :kernel[1]].reshape(n, c, *kernel).sum(0).unsqueeze(1).to(x.dtype)


def _qualifies(x, weight, stride, padding) -> bool:
    if not (torch.is_grad_enabled() and weight.requires_grad and x.device.type == "cpu" and x.dim() == 4):
        return False
    out_h = (x.shape[2] + 2 * padding[0] - weight.shape[2]) // stride[0] + 1
    out_w = (x.shape[3] + 2 * padding[1] - weight.shape[3]) // stride[1] + 1
    return out_h * out_w <= MAX_OUTPUT_PIXELS


@contextmanager
def fast_depthwise_grad(model: nn.Module):
    """Within this block, the depthwise convolutions of ``model`` that qualify (kernel >= 5, small output,
    weight trainable, gradients on) take the faster weight gradient; all other calls are unchanged. The
    modules are patched only inside the block, so copies and exports of the model never see it."""
    patched = [m for m in model.modules() if isinstance(m, nn.Conv2d) and _candidate(m)]
    for module in patched:
        module.forward = partial(_forward, module)
    try:
        yield
    finally:
        for module in patched:
            del module.forward


def _candidate(conv: nn.Conv2d) -> bool:
    return (conv.groups > 1 and conv.groups == conv.in_channels == conv.out_channels
            and min(conv.kernel_size) >= MIN_KERNEL and conv.dilation == (1, 1) and conv.padding_mode == "zeros"
            and not isinstance(conv.padding, str) and type(conv).forward in _PADDERS)


def _forward(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    padded, padding = _PADDERS[type(conv).forward](conv, x)
    if _qualifies(padded, conv.weight, conv.stride, padding):
        return _DepthwiseConv2d.apply(padded, conv.weight, conv.bias, conv.stride, padding)
    return type(conv).forward(conv, x)


def _timm_same_padding(conv, x):
    from timm.layers.padding import pad_same

    return pad_same(x, conv.kernel_size, conv.stride, conv.dilation), (0, 0)


def _padders() -> dict:
    padders = {nn.Conv2d.forward: lambda conv, x: (x, conv.padding)}
    try:  # timm's TensorFlow-style "same" convolution pads dynamically, then runs a plain conv2d
        from timm.layers.conv2d_same import Conv2dSame

        padders[Conv2dSame.forward] = _timm_same_padding
    except ImportError:
        pass
    return padders


_PADDERS = _padders()
