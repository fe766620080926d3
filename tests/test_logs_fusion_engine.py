"""The logs CNN and the fusion model train on the Lightning engine: --resume continues from the checkpoint,
--patience stops early, DDP ranks agree; tree log models refuse the engine's options."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from geotune.cli import main
from geotune.config import TrainConfig
from geotune.errors import ConfigError
from geotune.logs.las import LogsWarning
from geotune.logs.options import check_engine_options
from geotune.logs.synthetic import make_wells


def _fusion_data(folder, n=160, seed=0, signal=True):
    """Class = 2*a + b: the table sees a, the embedding sees b (random labels when ``signal`` is False)."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    labels = 2 * a + b if signal else rng.integers(0, 4, n)
    pd.DataFrame({"Well Name": np.repeat(["W1", "W2", "W3", "W4"], n // 4), "Depth": np.arange(n) * 0.5,
                  "GR": a + 0.1 * rng.normal(size=n), "Facies": [f"f{v}" for v in labels]}
                 ).to_csv(folder / "t.csv", index=False)
    np.save(folder / "t.npy", np.c_[b + 0.1 * rng.normal(size=n), rng.normal(size=(n, 3))].astype(np.float32))
    return folder / "t.csv", folder / "t.npy"


@pytest.fixture(scope="module")
def logs_csv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logs")
    make_wells(6, 60, seed=5).to_csv(folder / "wells.csv", index=False)  # whole wells are held out
    return folder / "wells.csv"


def _train(task, data, out, **options):
    from geotune.logs.pipeline import fit as logs_fit
    from geotune.training.fusion import fit as fusion_fit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        if task == "fusion":
            cfg = TrainConfig(data=str(data[0]), patches=str(data[1]), task="fusion", label_column="Facies",
                              group_by="Well Name", out=str(out), accelerator="cpu", **options)
            return fusion_fit(cfg.validate())
        cfg = TrainConfig(data=str(data), task="logs", label_column="Facies", model_type="cnn", out=str(out),
                          accelerator="cpu", batch_size=32, window=4, width=8, decode="none", **options)
        return logs_fit(cfg.validate())


def _zero_checkpoint(path):
    """Overwrite the checkpoint's weights with zeros: a network that resumes from it predicts uniformly."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    for tensor in checkpoint["state_dict"].values():
        if tensor.is_floating_point():
            tensor.zero_()
    torch.save(checkpoint, path)


@pytest.mark.parametrize("task", ["fusion", "cnn"])
def test_resume_continues_from_the_checkpoint(task, tmp_path, logs_csv):
    data = _fusion_data(tmp_path) if task == "fusion" else logs_csv
    lr = {"lr": 0.01} if task == "cnn" else {}
    first = _train(task, data, tmp_path / "run", epochs=2, **lr)
    checkpoint = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert torch.load(checkpoint, weights_only=True)["epoch"] == 1  # epochs 0 and 1 finished
    assert first["metrics"]["log_loss"] < math.log(4) - 0.05  # it learnt something
    _zero_checkpoint(checkpoint)
    # resumed at its last epoch with nothing left to train, the validated network is the checkpoint's
    resumed = _train(task, data, tmp_path / "run", epochs=2, resume=True, **lr)
    assert resumed["metrics"]["log_loss"] == pytest.approx(math.log(4), abs=1e-4)
    # the same run without --resume starts afresh and learns again
    fresh = _train(task, data, tmp_path / "run", epochs=2, **lr)
    assert fresh["metrics"]["log_loss"] == pytest.approx(first["metrics"]["log_loss"], abs=1e-4)


@pytest.mark.parametrize("task", ["fusion", "cnn"])
def test_patience_stops_early_and_the_refit_runs_as_long(task, tmp_path, logs_csv):
    if task == "fusion":  # random labels: the validation loss only rises once the net starts memorising
        data, options = _fusion_data(tmp_path, signal=False), {"lr": 0.05}
    else:
        table = pd.read_csv(logs_csv)
        table["Facies"] = np.random.default_rng(0).permutation(table["Facies"].to_numpy())
        table.to_csv(tmp_path / "shuffled.csv", index=False)
        data, options = tmp_path / "shuffled.csv", {"lr": 0.02}
    _train(task, data, tmp_path / "run", epochs=60, patience=2, **options)
    stopped = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] + 1
    refit = torch.load(tmp_path / "run" / "refit" / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] + 1
    assert stopped < 30
    assert refit == stopped


@pytest.mark.slow
@pytest.mark.parametrize("task", ["fusion", "cnn"])
def test_two_process_ddp_fit_on_cpu_ranks_agree(task, tmp_path, logs_csv):
    import geotune

    source = str(Path(geotune.__file__).resolve().parents[1])  # the child ranks run the code under test
    env = {**os.environ, "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "geotune", "train", "--label-column", "Facies", "--group-by", "Well Name",
               "--out", str(tmp_path / "ddp"), "--epochs", "3", "--batch-size", "16", "--accelerator", "cpu",
               "--devices", "2"]
    if task == "fusion":
        data, patches = _fusion_data(tmp_path)
        command += ["--task", "fusion", "--data", str(data), "--patches", str(patches)]
    else:  # leave-one-well-out: quiet single-device fold fits inside each rank, then the DDP refit
        (tmp_path / "small.yaml").write_text("extra: {window: 4, width: 8}\n")
        command += ["--task", "logs", "--model-type", "cnn", "--cv", "logo", "--data", str(logs_csv),
                    "--config", str(tmp_path / "small.yaml")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    ddp = json.loads((tmp_path / "ddp" / "model" / "metrics.json").read_text())["ddp"]
    assert ddp["world_size"] == 2 and len(ddp["checksums"]) == 2
    assert ddp["ranks_agree"] is True
    assert ddp["checksums"][0] == pytest.approx(ddp["checksums"][1], abs=1e-6)


def test_tree_model_with_devices_exits_2_with_one_line(tmp_path, logs_csv, capsys):
    code = main(["train", "--task", "logs", "--data", str(logs_csv), "--label-column", "Facies",
                 "--devices", "2", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2
    assert "--devices applies to neural models" in err and "--model-type trees" in err  # the default tree model
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "r" / "model").exists()


@pytest.mark.parametrize("option, flag", [({"num_nodes": 2}, "--num-nodes"), ({"accelerator": "gpu"}, "--accelerator"),
                                          ({"precision": "bf16-mixed"}, "--precision"), ({"resume": True}, "--resume"),
                                          ({"patience": 3}, "--patience")])
def test_tree_models_refuse_each_engine_option(option, flag):
    for model_type in ("trees", "gbm"):
        with pytest.raises(ConfigError, match=flag):
            check_engine_options(TrainConfig(task="logs", model_type=model_type, **option))
    for model_type in ("cnn", "ensemble"):  # neural log models take them
        check_engine_options(TrainConfig(task="logs", model_type=model_type, **option))
    check_engine_options(TrainConfig(task="logs", model_type="trees", accelerator="cpu", precision="32-true"))


def test_lazy_well_windows_equal_edge_padded_windows_cut_per_well():
    from geotune.logs.cnn import WellWindows

    rng = np.random.default_rng(0)
    values = rng.normal(size=(20, 3)).astype(np.float32)
    wells = np.array(["a"] * 5 + ["b"] * 12 + ["c"] * 3)
    half, expected = 4, []
    for name in ("a", "b", "c"):  # each well padded by repeating its end samples, never its neighbour's
        block = np.pad(values[wells == name], ((half, half), (0, 0)), mode="edge")
        expected += [block[i:i + 2 * half + 1].T for i in range(int((wells == name).sum()))]
    windows = WellWindows(values, wells, half)
    assert np.array_equal(windows.array(), np.stack(expected))
    chosen = windows.select(np.array([3, 10, 19]), labels=np.array([1, 2, 0]))
    batch, labels = chosen.__getitems__([0, 2])
    assert np.array_equal(batch.numpy(), np.stack(expected)[[3, 19]]) and labels.tolist() == [1, 0]
    assert np.array_equal(chosen[1][0].numpy(), expected[10]) and chosen[1][1] == 2


def test_modality_dropout_never_drops_every_modality():
    from geotune.training.fusion_module import modality_mask

    mask = modality_mask(5000, 2, 0.6, torch.Generator().manual_seed(0))
    assert (mask.sum(1) >= 1).all()
    assert 0.3 < 1 - mask.mean().item() < 0.6  # still drops a large share
