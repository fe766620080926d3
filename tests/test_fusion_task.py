"""`--task fusion` end to end: train, save, load through geotune.load_model, evaluate, predict, CLI, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import geotune
from geotune import api
from geotune.cli import main
from geotune.errors import ConfigError, DataError
from geotune.logs.las import LogsWarning


def _make(folder, n=240, seed=0, name="wells"):
    """Class = 2*a + b: the table sees a, the patch embedding sees b; each alone is at most ~50% right."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    table = pd.DataFrame({"Well Name": np.repeat(["W1", "W2", "W3", "W4"], n // 4), "Depth": np.arange(n) * 0.5,
                          "GR": a + 0.1 * rng.normal(size=n), "RHOB": rng.normal(size=n),
                          "Facies": [f"f{v}" for v in 2 * a + b]})
    embeddings = np.c_[b + 0.1 * rng.normal(size=n), rng.normal(size=(n, 5))].astype(np.float32)
    table.to_csv(folder / f"{name}.csv", index=False)
    np.save(folder / f"{name}.npy", embeddings)
    return folder / f"{name}.csv", folder / f"{name}.npy", table


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fusion")
    data, patches, _ = _make(folder)
    summary = geotune.finetune(data, folder / "run", task="fusion", label_column="Facies", patches=str(patches),
                               group_by="Well Name", epochs=40, lr=3e-3)
    return folder, summary


def test_trains_saves_and_loads_through_the_task_table(run, tmp_path):
    folder, summary = run
    model = geotune.load_model(folder / "run")
    assert type(model).__name__ == "FusionModel"
    assert model.classes == ["f0", "f1", "f2", "f3"]
    assert summary["metrics"]["evaluation"] == "grouped validation split"
    assert summary["metrics"]["accuracy"] > 0.8  # needs both inputs: either alone tops out near 0.5
    test_data, test_patches, test_table = _make(tmp_path, 80, seed=1, name="test")
    proba = model.predict_proba(test_data, patches=test_patches)
    assert proba.shape == (80, 4) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert (model.predict(test_data, patches=test_patches) == test_table["Facies"]).mean() > 0.8
    metrics = api.evaluate(folder / "run", test_data, out=tmp_path / "ev", patches=test_patches)
    assert metrics["accuracy"] > 0.8 and (tmp_path / "ev" / "metrics.json").is_file()


def test_predict_csv_keeps_well_and_depth_beside_predicted(run, tmp_path):
    folder, _ = run
    data, patches, table = _make(tmp_path, 40, seed=2, name="new")
    table.drop(columns="Facies").to_csv(data, index=False)
    out = api.predict(folder / "run", data, tmp_path / "pred.csv", patches=patches)
    result = pd.read_csv(out)
    assert list(result.columns[:3]) == ["Well Name", "Depth", "predicted"]
    assert np.allclose(result["Depth"], table["Depth"]) and len(result) == 40


def test_unseen_classes_at_evaluation_are_left_out_with_a_warning(run, tmp_path):
    folder, _ = run
    data, patches, table = _make(tmp_path, 40, seed=3, name="odd")
    table.loc[:4, "Facies"] = "dolomite"
    table.to_csv(data, index=False)
    with pytest.warns(LogsWarning, match=r"5 rows with classes the model never saw \(dolomite\)"):
        metrics = api.evaluate(folder / "run", data, patches=patches)
    assert metrics["unseen_classes_left_out"] == ["dolomite"]


def test_frozen_embedder_turns_patch_stacks_into_embeddings(tmp_path):
    data, _, table = _make(tmp_path, 120, name="raw")
    rng = np.random.default_rng(0)
    np.save(tmp_path / "raw_patches.npy", rng.normal(size=(120, 9, 9)).astype(np.float32))
    summary = geotune.finetune(data, tmp_path / "r", task="fusion", label_column="Facies",
                               patches=str(tmp_path / "raw_patches.npy"), fusion_mode="early", epochs=2)
    model = geotune.load_model(summary["model_dir"])
    assert model.model.mode == "early" and model.model.dims["patches"] == 64  # 4 x 16 filters
    with pytest.raises(DataError, match="values per row"):  # embeddings of another size
        model.predict_proba(data, patches=tmp_path / "raw.npy")


def test_bad_input(run, tmp_path, capsys):
    folder, _ = run
    data, patches, _ = _make(tmp_path, 40, seed=4, name="bad")
    np.save(tmp_path / "short.npy", np.zeros((39, 6), np.float32))
    with pytest.raises(DataError, match="39 patches for 40 table rows") as info:
        geotune.load_model(folder / "run").predict_proba(data, patches=tmp_path / "short.npy")
    assert str(tmp_path / "short.npy") in str(info.value)
    with pytest.raises(ConfigError, match="needs --patches"):
        geotune.load_model(folder / "run").predict_proba(data)
    code = main(["train", "--data", str(data), "--task", "fusion", "--label-column", "Facies",
                 "--patches", str(tmp_path / "short.npy"), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "39 patches for 40 table rows" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "r" / "model").exists()


def test_cli_train_and_predict(tmp_path, capsys):
    data, patches, table = _make(tmp_path, 80, name="cli")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        assert main(["train", "--data", str(data), "--task", "fusion", "--label-column", "Facies",
                     "--patches", str(patches), "--epochs", "2", "--out", str(tmp_path / "r")]) == 0
        assert main(["predict", str(tmp_path / "r"), str(data), "--patches", str(patches),
                     "--out", str(tmp_path / "p.csv")]) == 0
        assert main(["evaluate", str(tmp_path / "r"), "--data", str(data), "--patches", str(patches)]) == 0
    assert len(pd.read_csv(tmp_path / "p.csv")) == 80
    assert "accuracy" in capsys.readouterr().out
