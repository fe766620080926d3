"""Crash safety, full disks, planted checkpoints and reproducibility of a real (tiny) training run.

One uninterrupted run is the reference: a run killed with SIGKILL and resumed, and a replay of its
config.json, must both reproduce its metrics (same seed, CPU) within TOLERANCE.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from geotune.cli import main

EPOCHS = 30
TOLERANCE = 1e-5  # absolute, on accuracy, macro_f1, log_loss and ece; confusion matrices must be equal
SCALARS = ("accuracy", "macro_f1", "log_loss", "ece")


def _train_args(data: dict, out: Path, *extra: str) -> list[str]:
    return ["train", "--data", str(data["x"]), "--labels", str(data["y"]), "--out", str(out), "--image-size", "32",
            "--epochs", str(EPOCHS), "--batch-size", "8", "--seed", "7", "--strategy", "linear-probe", *extra]


def _metrics(run: Path) -> dict:
    return json.loads((run / "model" / "metrics.json").read_text())


def _assert_same_metrics(first: dict, second: dict) -> None:
    assert first["confusion_matrix"] == second["confusion_matrix"]
    for key in SCALARS:
        assert abs(first[key] - second[key]) <= TOLERANCE, (key, first[key], second[key])


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict:
    from geotune.data.synthetic import make_patches

    folder = tmp_path_factory.mktemp("patches")
    x, y, classes = make_patches(8, 32, 0)
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", np.asarray(classes)[y])
    return {"x": folder / "x.npy", "y": folder / "y.npy"}


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("reference") / "run"
    assert main(_train_args(data, run)) == 0
    return run


def test_same_seed_and_replayed_config_give_identical_metrics(reference, tmp_path):
    replay = tmp_path / "replay"
    assert main(["train", "--config", str(reference / "model" / "config.json"), "--out", str(replay)]) == 0
    config = json.loads((replay / "model" / "config.json").read_text())
    assert config["train"]["seed"] == 7 and config["train"]["epochs"] == EPOCHS
    _assert_same_metrics(_metrics(reference), _metrics(replay))


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_matches_uninterrupted_run(reference, data, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(reference / "cache", run / "cache")  # the same backbone features: skip recomputing them
    command = [sys.executable, "-m", "geotune", *_train_args(data, run)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    checkpoint = run / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # into a later epoch
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    import torch

    killed_at = torch.load(checkpoint, weights_only=True, map_location="cpu")["epoch"]
    assert killed_at < EPOCHS - 1, "no checkpoint before the run ended: it could not be killed mid-run"
    # killed mid-run: no model and no half-written temporary model folder
    assert not (run / "model").exists()
    assert not [p for p in run.iterdir() if p.name.startswith(".model.tmp-")]

    assert main(_train_args(data, run, "--resume")) == 0
    _assert_same_metrics(_metrics(reference), _metrics(run))


def _mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to simulate a full disk ({result.stderr.strip() or 'not permitted'})")


def test_full_disk_gives_clear_error_and_keeps_previous_model(reference, data, tmp_path, capsys):
    disk = tmp_path / "disk"
    model_bytes = sum(p.stat().st_size for p in (reference / "model").iterdir())
    _mount_tmpfs(disk, f"{int(model_bytes * 1.5) // 1024}k")  # room for one model, not for two
    try:
        run = disk / "run"
        shutil.copytree(reference / "model", run / "model")
        shutil.copytree(reference / "cache", run / "cache")  # the same features: no recomputation
        before = {p.name: p.read_bytes() for p in (run / "model").iterdir()}
        capsys.readouterr()
        code = main(_train_args(data, run, "--seed", "8"))
        err = capsys.readouterr().err
        assert code == 2
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert "could not write" in err and "No space left" in err and str(run / "model") in err
        assert {p.name: p.read_bytes() for p in (run / "model").iterdir()} == before
        assert not [p for p in run.iterdir() if p.name.startswith(".model.")]
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def _resume_with(data, tmp_path, reference, checkpoint_bytes: bytes):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    shutil.copytree(reference / "cache", run / "cache")
    (run / "checkpoints" / "last.ckpt").write_bytes(checkpoint_bytes)
    return run


class _Payload:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_planted_checkpoint_is_never_executed(reference, data, tmp_path):
    marker = tmp_path / "EXECUTED"
    run = _resume_with(data, tmp_path, reference, pickle.dumps({"state_dict": _Payload(str(marker))}))
    with pytest.raises(Exception):
        main(["-v", *_train_args(data, run, "--resume")])
    assert not marker.exists()
    assert not (run / "model").exists()


def test_planted_checkpoint_is_reported_as_one_line_exit_2(reference, data, tmp_path, capsys):
    marker = tmp_path / "EXECUTED"
    run = _resume_with(data, tmp_path, reference, pickle.dumps({"state_dict": _Payload(str(marker))}))
    code = main(_train_args(data, run, "--resume"))
    err = capsys.readouterr().err
    assert not marker.exists()
    assert code == 2 and "last.ckpt" in err and len(err.strip().splitlines()) == 1
