"""Test-time augmentation (--tta): the views, what averaging over them does to predictions, how auto chooses,
and that predict/evaluate read the choice from the model directory."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from geotune.predict.classifier import ImageClassifier
from geotune.predict.tta import apply_view, averaged_proba, view_count
from geotune.training.tta import choose_mode, margin, settle_tta


def _batch(seed=0, n=3, size=8):
    return np.random.default_rng(seed).random((n, 1, size, size)).astype(np.float32)


def test_the_eight_views_are_the_distinct_flips_and_rotations_and_numpy_matches_torch():
    x = _batch()
    views = [apply_view(x, v) for v in range(8)]
    assert all(v.shape == x.shape for v in views)
    assert len({v.tobytes() for v in views}) == 8  # an asymmetric image has 8 distinct views
    rotations = {np.rot90(x, k, axes=(-2, -1)).tobytes() for k in range(4)}
    assert rotations <= {v.tobytes() for v in views}  # every 90-degree rotation is among them
    for v in range(8):
        assert np.array_equal(apply_view(torch.from_numpy(x), v).numpy(), views[v])


class _Asymmetric(nn.Module):
    """Logits from a fixed random linear map of the pixels: no symmetry at all."""

    def __init__(self, size=8, classes=3):
        super().__init__()
        torch.manual_seed(0)  # the same weights and bias in every instance
        self.linear = nn.Linear(size * size, classes)
        nn.init.normal_(self.linear.weight, std=0.2)

    def forward(self, x):
        return self.linear(x.float().flatten(1))


def _classifier(tta: str) -> ImageClassifier:
    config = {"classes": ["a", "b", "c"], "image_size": 8, "in_chans": 1, "tta": tta}
    return ImageClassifier(_Asymmetric(), config)


def test_dihedral_tta_gives_the_same_probabilities_for_every_rotation_and_mirror_of_an_image():
    x = _batch()
    rotated = np.ascontiguousarray(np.rot90(x, 1, axes=(-2, -1)))
    mirrored = np.ascontiguousarray(x[..., ::-1])
    plain, averaged = _classifier("off"), _classifier("dihedral")
    assert not np.allclose(plain.predict_proba(x), plain.predict_proba(rotated), atol=1e-3)  # no TTA: it differs
    for other in (rotated, mirrored):
        assert np.allclose(averaged.predict_proba(x), averaged.predict_proba(other), atol=1e-6)
    flips = _classifier("flips")
    assert np.allclose(flips.predict_proba(x), flips.predict_proba(mirrored), atol=1e-6)  # flips: mirror-invariant
    proba = averaged.predict_proba(x)
    assert np.allclose(proba.sum(1), 1.0)
    manual = np.mean([plain.predict_proba(apply_view(x, v)) for v in range(8)], 0)
    assert np.allclose(proba, manual, atol=1e-6)  # the mean of the views' probabilities


def test_averaged_proba_uses_as_many_views_as_the_mode_names():
    seen = []

    def logits_of(batch):
        seen.append(batch)
        return np.zeros((len(batch), 2))

    averaged_proba(logits_of, _batch(), "flips")
    assert len(seen) == view_count("flips") == 4
    assert view_count("off") == 1 and view_count(None) == 1 and view_count("dihedral") == 8


def test_auto_keeps_tta_only_when_it_gets_clearly_more_validation_samples_right():
    rng = np.random.default_rng(0)
    n, k = 200, 3
    y = rng.integers(0, k, n)
    clean = np.eye(k)[y] * 2.0
    noise = rng.normal(0, 2.0, (8, n, k))
    logits = clean[None] + noise  # each view alone errs at random; their average errs less
    mode, scores = choose_mode(logits, y)
    assert scores["dihedral"] > scores["off"] and mode in ("flips", "dihedral")
    same = np.repeat(logits[:1], 8, axis=0)  # views that add nothing: ties go to no augmentation
    assert choose_mode(same, y)[0] == "off"
    assert margin(200) == 2 and margin(1000) == 5


def test_settle_tta_scores_a_real_model_and_returns_the_probabilities_it_used():
    x = torch.from_numpy(_batch(n=12))
    y = np.arange(12) % 3
    model = _Asymmetric()
    mode, record, proba = settle_tta("flips", model, x, y, 1.0)
    assert mode == "flips" and proba.shape == (12, 3) and np.allclose(proba.sum(1), 1.0)
    assert settle_tta("off", model, x, y, 1.0)[2] is None


@pytest.fixture(scope="module")
def tta_run(tiny_patches, tmp_path_factory):
    from geotune import finetune

    out = tmp_path_factory.mktemp("tta") / "run"
    finetune(tiny_patches["train_data"], out, labels=tiny_patches["train_labels"], strategy="linear-probe",
             image_size=32, epochs=2, tta="flips")
    return out


def test_the_choice_is_saved_and_predict_and_evaluate_use_it(tta_run, tiny_patches, tmp_path):
    from geotune.api import evaluate
    from geotune.tasks import load_model

    config = json.loads((tta_run / "model" / "config.json").read_text())
    assert config["tta"] == "flips" and config["train"]["tta"] == "flips"  # replayable with --config
    model = load_model(tta_run)
    assert model.tta == "flips"
    x = np.load(tiny_patches["test_data"])[:4]
    sample = model.read(tiny_patches["test_data"]).x[:4]
    mirrored = np.ascontiguousarray(sample[..., ::-1])
    assert np.allclose(model.predict_proba(sample), model.predict_proba(mirrored), atol=1e-5)
    metrics = evaluate(tta_run, tiny_patches["test_data"], labels=tiny_patches["test_labels"])
    model.tta = "off"
    proba_off = model.predict_proba(model.open(tiny_patches["test_data"]))
    model.tta = "flips"
    proba_on = model.predict_proba(model.open(tiny_patches["test_data"]))
    assert len(x) == 4 and not np.allclose(proba_on, proba_off)
    classes = list(model.classes)
    truth = np.asarray([classes.index(v) for v in np.load(tiny_patches["test_labels"])])
    assert metrics["accuracy"] == pytest.approx(float((proba_on.argmax(1) == truth).mean()))


def test_fixed_strategies_leave_tta_off_unless_asked(tiny_run):
    config = json.loads((tiny_run / "model" / "config.json").read_text())
    assert config["tta"] == "off"
