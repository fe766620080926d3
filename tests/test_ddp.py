"""A two-process DDP fit on CPU (gloo): both ranks must end with identical weights."""

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_two_process_ddp_fit_on_cpu_ranks_agree(tiny_patches, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "geotune", "train", "--data", str(tiny_patches["train_data"]),
               "--out", str(out), "--image-size", "32", "--epochs", "3", "--batch-size", "8",
               "--accelerator", "cpu", "--devices", "2"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "model" / "metrics.json").read_text())
    ddp = metrics["ddp"]
    assert ddp["world_size"] == 2
    assert len(ddp["checksums"]) == 2
    assert ddp["ranks_agree"] is True
    assert ddp["checksums"][0] == pytest.approx(ddp["checksums"][1], abs=1e-6)


def test_two_devices_give_a_two_process_ddp_trainer(tmp_path):
    """The fast half of the DDP check: two devices on CPU ask Lightning for DDP over two processes."""
    from geotune.config import TrainConfig
    from geotune.training.trainer import make_trainer

    cfg = TrainConfig(data="x.npy", out=str(tmp_path), devices=2, accelerator="cpu")
    trainer = make_trainer(cfg, tmp_path)
    assert type(trainer.strategy).__name__ == "DDPStrategy"
    assert trainer.world_size == 2 and trainer.num_devices == 2
    single = make_trainer(TrainConfig(data="x.npy", out=str(tmp_path), devices=1, accelerator="cpu"), tmp_path)
    assert type(single.strategy).__name__ == "SingleDeviceStrategy"
