"""Fine-tuning strategies: gradual unfreezing (and its resume), leave-one-group-out, calibration."""

import json

import numpy as np
import pytest
import torch

from geotune import finetune
from geotune.config import TrainConfig
from geotune.training.modules import FineTuneModule
from geotune.models.classifier import build_classifier


def _module(strategy):
    model, _ = build_classifier({"backbone": "tf_efficientnet_lite0", "in_chans": 1, "classes": ["a", "b"],
                                 "head": "linear"}, pretrained=False)
    return FineTuneModule(model, 1e-3, "adamw", 0.0, strategy, lr_decay=0.5, unfreeze_every=1)


def test_gradual_unfreezes_from_the_top_with_smaller_rates_lower_down():
    module = _module("gradual")
    groups = module.groups
    module.apply_unfreeze(0)
    assert not any(p.requires_grad for g in groups for p in g["params"])
    module.apply_unfreeze(2)
    trainable = [any(p.requires_grad for p in g["params"]) for g in groups]
    assert trainable[-2:] == [True, True] and not any(trainable[:-2])
    optimizer = module.configure_optimizers()
    rates = [group["lr"] for group in optimizer.param_groups]
    assert rates[0] == 1e-3 and all(a > b for a, b in zip(rates, rates[1:]))  # head, then top -> bottom
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(list(module.model.parameters()))
    full = _module("full")
    full.apply_unfreeze(0)
    assert all(p.requires_grad for p in full.model.parameters())


@pytest.mark.slow
def test_gradual_resume_restores_unfreeze_state_and_optimizer_groups(tiny_patches, tmp_path):
    """Lightning's fine-tuning callbacks lose this on resume; ours derive it from the epoch."""
    common = dict(labels=tiny_patches["train_labels"], image_size=32, strategy="gradual", batch_size=16, seed=3)
    straight = finetune(tiny_patches["train_data"], tmp_path / "straight", epochs=3, **common)
    finetune(tiny_patches["train_data"], tmp_path / "resumed", epochs=2, **common)  # "interrupted" after 2
    ckpt = torch.load(tmp_path / "resumed" / "checkpoints" / "last.ckpt", weights_only=True, map_location="cpu")
    assert ckpt["epoch"] == 1  # saved at the end of the second epoch (0-based index)
    assert len(ckpt["optimizer_states"][0]["param_groups"]) == 1 + len(_module("gradual").groups)
    resumed = finetune(tiny_patches["train_data"], tmp_path / "resumed", epochs=3, resume=True, **common)
    a = json.loads((tmp_path / "straight" / "model" / "metrics.json").read_text())
    b = json.loads((tmp_path / "resumed" / "model" / "metrics.json").read_text())
    assert a["log_loss"] == pytest.approx(b["log_loss"], rel=1e-3)
    assert straight["metrics"]["confusion_matrix"] == resumed["metrics"]["confusion_matrix"]


def test_linear_probe_resume_finishes_like_an_uninterrupted_run(tiny_patches, tmp_path):
    """The fast resume check (the gradual one above and kill -9 in test_reliability_runs.py are slow)."""
    common = dict(labels=tiny_patches["train_labels"], image_size=32, batch_size=16, seed=3, strategy="linear-probe")
    straight = finetune(tiny_patches["train_data"], tmp_path / "straight", epochs=3, **common)
    finetune(tiny_patches["train_data"], tmp_path / "resumed", epochs=2, **common)  # "interrupted" after 2
    ckpt = torch.load(tmp_path / "resumed" / "checkpoints" / "last.ckpt", weights_only=True, map_location="cpu")
    assert ckpt["epoch"] == 1
    resumed = finetune(tiny_patches["train_data"], tmp_path / "resumed", epochs=3, resume=True, **common)
    assert resumed["metrics"]["log_loss"] == pytest.approx(straight["metrics"]["log_loss"], rel=1e-3)
    assert resumed["metrics"]["confusion_matrix"] == straight["metrics"]["confusion_matrix"]


def test_leave_one_group_out_scores_each_group(tmp_path):
    from PIL import Image

    from geotune.data.synthetic import make_patches

    x, y, classes = make_patches(6, 32, seed=5)
    rows = ["path,label,well"]
    for i, (patch, label) in enumerate(zip(x, y)):
        image = ((patch - patch.min()) / (np.ptp(patch) + 1e-9) * 255).astype(np.uint8)
        Image.fromarray(image).save(tmp_path / f"{i}.png")
        rows.append(f"{i}.png,{classes[label]},W{i % 3}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    summary = finetune(tmp_path / "m.csv", tmp_path / "run", image_size=32, epochs=5, group_by="well", cv="logo",
                       strategy="linear-probe")
    cv = summary["cv"]
    assert sorted(cv["per_group"]) == ["W0", "W1", "W2"]
    assert cv["summary"]["n_groups"] == 3
    scores = [m["accuracy"] for m in cv["per_group"].values()]
    assert cv["summary"]["mean"] == pytest.approx(np.mean(scores))
    saved = json.loads((tmp_path / "run" / "model" / "metrics.json").read_text())
    assert saved["cv"]["summary"]["n_groups"] == 3


def test_calibration_stores_a_temperature_that_lowers_validation_nll(tiny_patches, tmp_path):
    summary = finetune(tiny_patches["train_data"], tmp_path / "cal", labels=tiny_patches["train_labels"],
                       image_size=32, epochs=40, lr=0.05, calibrate=True, strategy="linear-probe")
    config = json.loads((tmp_path / "cal" / "model" / "config.json").read_text())
    metrics = summary["metrics"]
    assert config["temperature"] != 1.0
    # temperature scaling minimises NLL on the validation split, so it can only lower it there
    assert metrics["log_loss"] < metrics["log_loss_before_calibration"]
    assert "ece_before_calibration" in metrics
