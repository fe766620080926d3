"""A two-process DDP fit on CPU (gloo): both ranks must end with identical weights."""

import json
import os
import subprocess
import sys

import pytest


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
