"""The rerouted depthwise weight gradient equals the stock one and is used only inside its block."""

import copy

import pytest
import torch
from torch import nn

from geotune.training.depthwise import fast_depthwise_grad


def _grads(model, x, fast):
    model.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_()
    if fast:
        with fast_depthwise_grad(model):
            out = model(x)
    else:
        out = model(x)
    (out * torch.linspace(-1, 1, out.numel()).reshape(out.shape)).sum().backward()
    return out.grad_fn.name(), [x.grad] + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("stride, same", [(1, False), (2, False), (2, True)])
def test_gradients_match_stock_convolution(stride, same):
    from timm.layers.conv2d_same import Conv2dSame

    torch.manual_seed(0)
    conv = (Conv2dSame if same else nn.Conv2d)(24, 24, 5, stride=stride, padding=0 if same else 2, groups=24)
    x = torch.randn(4, 24, 6, 6).contiguous(memory_format=torch.channels_last)
    stock_fn, stock = _grads(conv, x, fast=False)
    fast_fn, fast = _grads(conv, x, fast=True)
    assert "Depthwise" in fast_fn and "Depthwise" not in stock_fn  # the fast path really ran
    for a, b in zip(stock, fast):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)


def test_other_convolutions_and_copies_are_untouched():
    conv3 = nn.Conv2d(8, 8, 3, padding=1, groups=8)  # 3x3: oneDNN's own gradient is fast
    conv5 = nn.Conv2d(8, 8, 5, padding=2, groups=8)
    model = nn.Sequential(conv3, conv5)
    x = torch.randn(2, 8, 4, 4)
    with fast_depthwise_grad(model):
        assert "Depthwise" not in conv3(x).grad_fn.name()
        assert "Depthwise" in conv5(x).grad_fn.name()
        with torch.no_grad():  # inference takes the stock kernel
            assert model(x).grad_fn is None
    assert "forward" not in vars(conv5)  # patched only inside the block
    assert "Depthwise" not in copy.deepcopy(model)(x).grad_fn.name()
