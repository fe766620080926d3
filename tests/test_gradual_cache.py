"""Gradual unfreezing's activation cache: one boundary at a time, spilled to RUN/cache/ above the memory
budget, deleted at the end, and training identical to the in-memory cache."""

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from geotune import finetune
from geotune.training.modules import CachedGradualModule


@pytest.fixture()
def allocations(monkeypatch):
    """Each cache allocation: (on disk?, file, whether the previous boundary's cache was already dropped)."""
    seen = []
    real = CachedGradualModule._allocate

    def recording(self, shape, boundary):
        cache = real(self, shape, boundary)
        seen.append((isinstance(cache, np.memmap), self._cache_file, self._cache is None))
        return cache

    monkeypatch.setattr(CachedGradualModule, "_allocate", recording)
    return seen


def _weights(run):
    return load_file(str(run / "model" / "weights.safetensors"))


@pytest.mark.slow
def test_tiny_budget_spills_to_disk_trains_the_same_and_cleans_up(tiny_patches, tmp_path, allocations):
    common = dict(labels=tiny_patches["train_labels"], image_size=32, strategy="gradual", batch_size=16, seed=3,
                  epochs=3)
    in_memory = finetune(tiny_patches["train_data"], tmp_path / "ram", **common)
    assert allocations and not any(on_disk for on_disk, _, _ in allocations)
    allocations.clear()
    spilled = finetune(tiny_patches["train_data"], tmp_path / "disk", extra={"cache_memory_gb": 0.0}, **common)
    assert len(allocations) == 3  # the boundary moves down at every epoch (unfreeze_every 1)
    assert all(on_disk and released for on_disk, _, released in allocations)  # one boundary kept at a time
    assert all(file.parent == tmp_path / "disk" / "cache" for _, file, _ in allocations)
    assert not list((tmp_path / "disk" / "cache").glob("activations-*"))  # deleted when training ended
    a, b = _weights(tmp_path / "ram"), _weights(tmp_path / "disk")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6)
    assert in_memory["metrics"]["accuracy"] == spilled["metrics"]["accuracy"]

    # interrupted after two epochs and resumed: the third epoch's trainable set and cache are rebuilt
    allocations.clear()
    finetune(tiny_patches["train_data"], tmp_path / "resumed", extra={"cache_memory_gb": 0.0},
             **{**common, "epochs": 2})
    resumed = finetune(tiny_patches["train_data"], tmp_path / "resumed", extra={"cache_memory_gb": 0.0},
                       resume=True, **common)
    assert len(allocations) == 3  # two boundaries in the first run, one for the resumed third epoch
    assert resumed["metrics"]["confusion_matrix"] == spilled["metrics"]["confusion_matrix"]
    assert resumed["metrics"]["log_loss"] == pytest.approx(spilled["metrics"]["log_loss"], rel=1e-3)
    assert not list((tmp_path / "resumed" / "cache").glob("activations-*"))


def test_spilled_cache_holds_the_same_activations_and_its_file_goes(tmp_path):
    from geotune.models.classifier import build_classifier
    from geotune.models.staging import split_stages

    torch.manual_seed(0)
    model, _ = build_classifier({"backbone": "tf_efficientnet_lite0", "in_chans": 1, "classes": ["a", "b"],
                                 "head": "linear"}, pretrained=False)
    inputs = np.random.default_rng(0).random((10, 1, 32, 32)).astype(np.float16)
    modules = [CachedGradualModule(model, inputs, split_stages(model.backbone), cache_batch=4, cache_dir=tmp_path,
                                   memory_budget=budget, lr=1e-3, optimizer="adamw", weight_decay=0.0,
                                   strategy="gradual", unfreeze_every=1) for budget in (1e9, 0.0)]
    index, view = torch.tensor([7, 0, 3]), torch.tensor([1, 0, 1])
    for module in modules:
        module.apply_unfreeze(2)
        module._ensure_cache()
    ram, disk = modules
    assert not ram.cache_on_disk and disk.cache_on_disk
    files = list(tmp_path.glob("activations-*"))
    assert len(files) == 1
    torch.testing.assert_close(ram._gather(index, view), disk._gather(index, view), rtol=0, atol=0)
    disk.release_cache()
    assert not files[0].exists() and disk._cache is None
