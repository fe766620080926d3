"""Segmentation through the Lightning engine: --resume continues from the checkpoint, --patience stops
early, a wall-clock budget ends training, and two DDP processes on CPU end with identical weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import geotune
from geotune.config import TrainConfig
from geotune.data.synthetic import LABEL_NAMES, make_sections
from geotune.training import segment_module
from geotune.training.segment import fit

os.environ.setdefault("GEOTUNE_THREADS", "1")


@pytest.fixture(scope="module")
def sections(tmp_path_factory):
    root = tmp_path_factory.mktemp("segtrain")
    x, y = make_sections(8, 32, 32, seed=2)
    np.save(root / "x.npy", x)
    np.save(root / "y.npy", y)
    return root


def config(root, out, **options) -> TrainConfig:
    values = dict(data=str(root / "x.npy"), labels=str(root / "y.npy"), out=str(out), task="segment", epochs=1,
                  batch_size=4, image_size=32, loss="dice+ce", seed=0, extra={"class_names": list(LABEL_NAMES)})
    values.update(options)
    return TrainConfig(**values).validate()


def test_resume_continues_from_the_last_checkpoint(sections, tmp_path):
    first = fit(config(sections, tmp_path / "run", epochs=1))
    checkpoint = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert checkpoint.is_file()
    steps_per_epoch = first["metrics"]["train_steps"]
    resumed = fit(config(sections, tmp_path / "run", epochs=2, resume=True))
    metrics = resumed["metrics"]
    assert metrics["train_steps"] == 2 * steps_per_epoch and metrics["epochs_run"] == 2.0
    # the first epoch's record comes from the checkpoint, not from training it again
    assert [round(h["epoch"]) for h in metrics["history"]] == [1, 2]
    assert metrics["history"][0]["train_loss"] == pytest.approx(first["metrics"]["history"][0]["train_loss"])
    saved = json.loads((tmp_path / "run" / "model" / "metrics.json").read_text())
    assert saved["train_steps"] == metrics["train_steps"]


def test_patience_stops_when_val_loss_stops_improving(sections, tmp_path, monkeypatch):
    def uniform(predict, image, window, n_classes, *args):  # the same val_loss every epoch: no improvement
        return np.full((n_classes,) + image.shape[1:], 1.0 / n_classes, dtype=np.float32)

    monkeypatch.setattr(segment_module, "predict_tiled", uniform)
    metrics = fit(config(sections, tmp_path / "run", epochs=6, patience=1))["metrics"]
    assert metrics["epochs_run"] == 2.0  # epoch 1 sets the best, epoch 2 does not beat it: stop
    assert metrics["val_loss"] == pytest.approx(np.log(len(LABEL_NAMES)), rel=1e-5)


def test_time_budget_ends_training_early(sections, tmp_path):
    extra = {"class_names": list(LABEL_NAMES), "max_minutes": 1e-9}
    metrics = fit(config(sections, tmp_path / "run", epochs=5, extra=extra))["metrics"]
    assert metrics["train_steps"] <= 1 and metrics["epochs_run"] < 1  # spent before the first epoch ended
    assert np.array(metrics["confusion_matrix"]).sum() == metrics["n_val_sections"] * 32 * 32  # still scored


def test_step_cap_ends_training_and_reports_throughput(sections, tmp_path):
    extra = {"class_names": list(LABEL_NAMES), "max_steps": 1}
    metrics = fit(config(sections, tmp_path / "run", epochs=3, extra=extra))["metrics"]
    assert metrics["train_steps"] == 1 and metrics["epochs_run"] < 1
    assert metrics["windows_per_second"] > 0 and metrics["train_seconds"] > 0


@pytest.mark.slow
def test_two_process_ddp_segmentation_on_cpu_ranks_agree(sections, tmp_path):
    out = tmp_path / "ddp"
    source = str(Path(geotune.__file__).resolve().parents[1])  # the checkout under test, whatever the cwd
    env = {**os.environ, "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "geotune", "train", "--task", "segment", "--data", str(sections / "x.npy"),
               "--labels", str(sections / "y.npy"), "--out", str(out), "--image-size", "32", "--epochs", "2",
               "--batch-size", "4", "--loss", "dice+ce", "--accelerator", "cpu", "--devices", "2"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "model" / "metrics.json").read_text())
    ddp = metrics["ddp"]
    assert ddp["world_size"] == 2 and len(ddp["checksums"]) == 2
    assert ddp["ranks_agree"] is True
    assert ddp["checksums"][0] == pytest.approx(ddp["checksums"][1], abs=1e-6)
    # every validation section scored exactly once over both ranks
    assert np.array(metrics["confusion_matrix"]).sum() == metrics["n_val_sections"] * 32 * 32
