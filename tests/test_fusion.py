"""Fusion of cached embeddings with tabular features: fused beats each part when each holds half the answer."""

from __future__ import annotations

import numpy as np
import pytest

from geotune.errors import DataError, ModelError
from geotune.models.fusion import frozen_patch_embedder
from geotune.training.fusion_classifier import FusionClassifier


def _toy(n=400, seed=0):
    """Class = 2*a + b: modality 'image' sees a, modality 'logs' sees b; neither alone can exceed ~50%."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    image = np.c_[a + 0.15 * rng.normal(size=n), rng.normal(size=(n, 7))]
    logs = np.c_[b + 0.15 * rng.normal(size=n), rng.normal(size=(n, 3))]
    return {"image": image, "logs": logs}, 2 * a + b


@pytest.mark.parametrize("mode", ["late", "early"])
def test_fusion_beats_each_modality(mode):
    blocks, y = _toy()
    test_blocks, test_y = _toy(200, seed=1)
    fused = FusionClassifier(mode=mode, epochs=25, seed=0).fit(blocks, y)
    fused_acc = (fused.predict(test_blocks) == test_y).mean()
    for name in blocks:
        alone = FusionClassifier(mode=mode, epochs=25, seed=0).fit({name: blocks[name]}, y)
        alone_acc = (alone.predict({name: test_blocks[name]}) == test_y).mean()
        assert alone_acc < 0.65
        assert fused_acc > alone_acc + 0.25


def test_save_load_round_trip(tmp_path):
    blocks, y = _toy(120)
    model = FusionClassifier(epochs=3, seed=0).fit(blocks, y)
    model.save(tmp_path / "m", classes=["a", "b", "c", "d"])
    again = FusionClassifier.load(tmp_path / "m")
    assert again.names == ["image", "logs"]
    assert np.allclose(again.predict_proba(blocks), model.predict_proba(blocks), atol=1e-6)
    assert (tmp_path / "m" / "weights.safetensors").is_file()
    with pytest.raises(DataError, match="fitted on modalities"):
        again.predict({"image": blocks["image"]})


def test_bad_inputs():
    with pytest.raises(DataError, match="different numbers of rows"):
        FusionClassifier(epochs=1).fit({"a": np.zeros((5, 2)), "b": np.zeros((4, 2))}, np.zeros(5, int))
    with pytest.raises(ModelError, match="not fitted"):
        FusionClassifier().predict_proba({"a": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="mode"):
        FusionClassifier(mode="middle")


def test_frozen_embedder_is_deterministic_and_sees_texture():
    rng = np.random.default_rng(0)
    layered = np.repeat(rng.normal(size=(20, 16, 1)), 16, axis=2)  # laterally continuous
    chaotic = rng.normal(size=(20, 16, 16))
    embed = frozen_patch_embedder(n_filters=8, seed=0)
    a, b = embed(layered), embed(chaotic)
    assert a.shape == (20, 32)
    assert np.allclose(a, frozen_patch_embedder(n_filters=8, seed=0)(layered))
    centre = (a.mean(0) + b.mean(0)) / 2  # the two textures separate in embedding space
    side = np.sign((a.mean(0) - b.mean(0)))
    assert (((a - centre) @ side) > 0).mean() > 0.9 and (((b - centre) @ side) < 0).mean() > 0.9
    with pytest.raises(DataError, match="patches must be"):
        embed(np.zeros((2, 3)))
