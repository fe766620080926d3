"""The fast training path keeps results: channels_last with the depthwise weight-gradient fast path follows the
same loss trajectory as plain NCHW training; batches arrive in channels_last; the precision a run settles on is
the measured-faster one, recorded in its config, and never bf16 on a CPU that would emulate it."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from geotune.config import TrainConfig
from geotune.data.classify_datamodule import ClassificationDataModule
from geotune.models.classifier import build_classifier
from geotune.training import precision
from geotune.training.classify import settle_precision
from geotune.training.modules import FineTuneModule


@pytest.fixture
def one_thread():
    """One thread: on a shared 2-core machine two OpenMP threads wait on each other at every kernel."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _small_classifier():
    torch.manual_seed(0)
    config = {"backbone": "tf_efficientnet_lite0", "in_chans": 3, "classes": ["a", "b", "c"], "head": "linear"}
    return build_classifier(config, pretrained=True)[0].train()  # pretrained: a well-conditioned start


def _losses(step_fn, model, batches):
    # plain SGD: its step is linear in the gradient, so float-rounding differences between convolution kernels
    # stay at rounding size (Adam's normalised step turns the sign of a near-zero gradient into a full update)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    losses = []
    for x, y in batches:
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(step_fn(x), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return np.asarray(losses)


def test_channels_last_with_fast_depthwise_grad_follows_the_nchw_loss_trajectory(one_thread):
    model = _small_classifier()
    generator = torch.Generator().manual_seed(1)
    # 64 px: the top stages' 5x5 depthwise convolutions come out at 2x2, so the rerouted gradient is used; one
    # batch fitted for 4 steps: the loss falls smoothly (fresh random batches make a chaotic trajectory)
    x, y = torch.rand(8, 3, 64, 64, generator=generator), torch.randint(0, 3, (8,), generator=generator)
    batches = [(x, y)] * 4
    exact_model = copy.deepcopy(model).double()  # float64 NCHW: the trajectory both float32 paths approximate
    exact = _losses(lambda x: exact_model(x.double()), exact_model, batches)
    plain = copy.deepcopy(model)
    stock = _losses(lambda x: plain(x.contiguous()), plain, batches)
    module = FineTuneModule(copy.deepcopy(model), 0.01, "sgd", 0.0, "full", augment=False)
    fast = _losses(module, module.model, batches)
    assert module.model.backbone.conv_stem.weight.is_contiguous(memory_format=torch.channels_last)
    assert exact[-1] < 0.8 * exact[0]  # the trajectory moves: a real comparison
    # Small-batch BatchNorm makes float32 training drift from float64 by ~1e-3 in a few steps whatever the
    # kernels; the fast path must stay as close to the exact trajectory as stock NCHW float32 does.
    stock_drift = np.abs(stock - exact).max()
    assert np.abs(fast - exact).max() <= 3 * stock_drift + 1e-5
    np.testing.assert_allclose(fast, stock, rtol=0.1)


def test_image_batches_arrive_in_channels_last_and_feature_batches_unchanged():
    images = torch.rand(5, 3, 8, 8).half()
    data = ClassificationDataModule.from_dataset(images.numpy(), np.arange(5) % 2, np.ones(5, np.float32),
                                                 np.arange(4), np.arange(4, 5), batch_size=4)
    x, y, w = next(iter(data.train_dataloader()))
    assert x.is_contiguous(memory_format=torch.channels_last) and x.dtype == torch.float16
    assert sorted(y.tolist()) == [0, 0, 1, 1] and w.tolist() == [1.0] * 4
    features = torch.utils.data.TensorDataset(torch.rand(4, 16), torch.arange(4), torch.ones(4))
    fx, _, _ = next(iter(ClassificationDataModule(features, features, 4).train_dataloader()))
    assert fx.shape == (4, 16) and fx.is_contiguous()


@pytest.mark.parametrize("flags, timings, expected", [
    (frozenset({"amx_bf16"}), {"32-true": 2.0, "bf16-mixed": 1.0}, "bf16-mixed"),
    (frozenset({"amx_bf16"}), {"32-true": 1.0, "bf16-mixed": 3.0}, "32-true"),
    (frozenset({"avx512f"}), None, "32-true"),  # emulated bf16: the probe must not even run
])
def test_a_run_settles_on_the_measured_faster_precision(monkeypatch, flags, timings, expected):
    def timer(model, batch, steps=2):
        assert batch.shape == (8, 3, 16, 16)  # a few of the run's own training samples
        if timings is None:
            raise AssertionError("probed on a CPU without native bf16")
        return lambda: timings

    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)
    monkeypatch.setattr(precision, "step_timer", timer)
    cfg = TrainConfig(strategy="full", accelerator="cpu")
    samples = np.random.default_rng(0).random((10, 3, 16, 16)).astype(np.float16)
    settle_precision(cfg, torch.nn.Identity(), samples, np.arange(10))
    assert cfg.precision == expected
    assert cfg.to_dict()["precision"] == expected  # what the run used is what its config records


def test_the_probe_times_both_precisions_on_a_copy_of_the_model():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    before = copy.deepcopy(model.state_dict())
    seconds = precision.step_timer(model, torch.rand(2, 3, 8, 8), steps=1)()
    assert set(seconds) == {"32-true", "bf16-mixed"} and all(v > 0 for v in seconds.values())
    for name, value in model.state_dict().items():  # BatchNorm statistics of the real model untouched
        torch.testing.assert_close(value, before[name])
    assert all(p.grad is None for p in model.parameters())
