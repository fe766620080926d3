"""End to end at the command line on tiny synthetic data: train, predict, evaluate, replay, errors."""

import csv
import json

import numpy as np
import pytest

from geotune.cli import main


def test_train_writes_model_directory_with_contract(tiny_run, tiny_patches):
    config = json.loads((tiny_run / "model" / "config.json").read_text())
    metrics = json.loads((tiny_run / "model" / "metrics.json").read_text())
    assert config["task"] == "classify" and config["schema_version"] >= 1
    assert config["classes"] == sorted(tiny_patches["classes"])
    assert config["in_chans"] == 1 and config["image_size"] == 32 and config["scaling"] == "robust"
    assert {"torch", "timm", "lightning"} <= set(config["library_versions"])
    assert {"accuracy", "macro_f1", "per_class", "confusion_matrix", "ece"} <= set(metrics)
    assert set(metrics["per_class"]) == set(config["classes"])
    assert np.array(metrics["confusion_matrix"]).sum() == config["n_val"]
    assert (tiny_run / "model" / "weights.safetensors").is_file()
    assert not list((tiny_run / "model").glob("*.ckpt"))


def test_predict_csv_one_row_per_input_in_order(tiny_run, tiny_patches, tmp_path, capsys):
    out = tmp_path / "pred.csv"
    assert main(["predict", str(tiny_run), str(tiny_patches["test_data"]), "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out)))
    classes = sorted(tiny_patches["classes"])
    assert len(rows) == len(np.load(tiny_patches["test_data"]))
    assert [int(r["index"]) for r in rows] == list(range(len(rows)))
    assert list(rows[0]) == ["index", "predicted", "confidence"] + [f"p_{c}" for c in classes]
    for row in rows:
        probs = np.array([float(row[f"p_{c}"]) for c in classes])
        assert abs(probs.sum() - 1) < 1e-4 and row["predicted"] == classes[int(probs.argmax())]
    truth = np.load(tiny_patches["test_labels"], allow_pickle=False)
    accuracy = np.mean([r["predicted"] == t for r, t in zip(rows, truth)])
    assert accuracy > 0.5  # 4 classes: chance is 0.25


def test_evaluate_writes_metrics_and_plots(tiny_run, tiny_patches, tmp_path):
    out = tmp_path / "eval"
    code = main(["evaluate", str(tiny_run / "model"), "--data", str(tiny_patches["test_data"]),
                 "--labels", str(tiny_patches["test_labels"]), "--out", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_samples"] == 24 and 0 <= metrics["ece"] <= 1
    assert (out / "confusion_matrix.png").stat().st_size > 1000
    assert (out / "reliability.png").stat().st_size > 1000


def test_saved_config_replays_the_run(tiny_run, tmp_path):
    replay = tmp_path / "replay"
    assert main(["train", "--config", str(tiny_run / "run.yaml"), "--out", str(replay)]) == 0
    first = json.loads((tiny_run / "model" / "metrics.json").read_text())
    second = json.loads((replay / "model" / "metrics.json").read_text())
    assert first["confusion_matrix"] == second["confusion_matrix"]
    assert first["log_loss"] == pytest.approx(second["log_loss"], abs=1e-5)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--data", "{d}/missing.npy", "--out", "{d}/r"], "missing.npy: no such file"),
        (["train", "--data", "{d}/one_class.npy", "--labels", "{d}/one_class_labels.npy", "--out", "{d}/r"],
         "only one class"),
        (["predict", "{d}/no_model", "{d}/x.npy", "--out", "{d}/p.csv"], "no such model directory"),
        (["train", "--data", "{d}/x.npy", "--out", "{d}/r", "--cv", "logo"], "--cv logo needs --group-by"),
    ],
    ids=["missing-path", "one-class", "missing-model", "logo-without-groups"],
)
def test_bad_input_exit_2_one_line_no_traceback(tmp_path, capsys, argv, message):
    np.save(tmp_path / "x.npy", np.zeros((4, 8, 8), dtype=np.float32))
    np.save(tmp_path / "one_class.npy", np.zeros((4, 8, 8), dtype=np.float32))
    np.save(tmp_path / "one_class_labels.npy", np.array(["a"] * 4))
    code = main([a.replace("{d}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists() and not (tmp_path / "p.csv").exists()


def test_seed_recipe_falls_back_to_offline_backbone_and_says_so(tiny_patches, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "seed"
    code = main(["train", "--data", str(tiny_patches["train_data"]), "--recipe", "seed", "--image-size", "32",
                 "--epochs", "2", "--out", str(out)])
    assert code == 0
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["head"] == "seed" and config["strategy"] == "linear-probe"
    assert config["train"]["optimizer"] == "adam" and config["train"]["lr"] == 1e-3
    assert config["train"]["batch_size"] == 32 and config["train"]["seed"] == 42
    assert config["backbone"] == "tf_efficientnet_lite0"
    assert "ResNet50" in capsys.readouterr().out


def test_python_api_matches_cli_model(tiny_run, tiny_patches):
    import geotune

    model = geotune.load_model(tiny_run)
    x = np.load(tiny_patches["test_data"])
    samples = model.read(tiny_patches["test_data"])
    proba = model.predict_proba(samples)
    assert proba.shape == (len(x), 4)
    assert model.predict(samples) == [model.classes[i] for i in proba.argmax(1)]


def test_npy_predictions_record_the_class_order(tiny_run, tiny_patches, tmp_path):
    out = tmp_path / "pred.npy"
    assert main(["predict", str(tiny_run), str(tiny_patches["test_data"]), "--out", str(out)]) == 0
    proba = np.load(out)
    sidecar = json.loads((tmp_path / "pred.json").read_text())
    assert sidecar["classes"] == sorted(tiny_patches["classes"]) and sidecar["array"] == "pred.npy"
    assert proba.shape == (len(np.load(tiny_patches["test_data"])), len(sidecar["classes"]))


def test_training_summary_says_how_many_samples_stand_behind_the_score(tiny_patches, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", str(tiny_patches["train_data"]), "--labels", str(tiny_patches["train_labels"]),
                 "--out", str(out), "--image-size", "32", "--epochs", "2", "--strategy", "linear-probe"]) == 0
    printed = capsys.readouterr().out
    n_val = json.loads((out / "model" / "config.json").read_text())["n_val"]
    assert f"on {n_val} validation samples" in printed
    assert "random split" in printed and "--groups" in printed  # arrays without groups: the split may flatter


def test_groups_file_keeps_each_group_on_one_side(tiny_patches, tmp_path, capsys):
    n = len(np.load(tiny_patches["train_data"]))
    groups = np.array([f"block{i % 6}" for i in range(n)])
    np.save(tmp_path / "groups.npy", groups)
    out = tmp_path / "run"
    assert main(["train", "--data", str(tiny_patches["train_data"]), "--labels", str(tiny_patches["train_labels"]),
                 "--groups", str(tmp_path / "groups.npy"), "--out", str(out), "--image-size", "32",
                 "--epochs", "1", "--strategy", "linear-probe"]) == 0
    metrics = json.loads((out / "model" / "metrics.json").read_text())
    held_out = set(metrics["held_out_groups"])
    assert held_out and held_out < set(groups) and "grouped by groups.npy" in metrics["evaluated_on"]
    assert "held out for validation: " in capsys.readouterr().out
    np.save(tmp_path / "short.npy", groups[:3])
    code = main(["train", "--data", str(tiny_patches["train_data"]), "--labels", str(tiny_patches["train_labels"]),
                 "--groups", str(tmp_path / "short.npy"), "--out", str(tmp_path / "r2"), "--image-size", "32"])
    assert code == 2 and "short.npy" in capsys.readouterr().err


def test_text_file_named_npy_is_called_what_it_is(tmp_path, capsys):
    (tmp_path / "x.npy").write_text("a,b\n1,2\n")
    assert main(["train", "--data", str(tmp_path / "x.npy"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "x.npy: is not a NumPy .npy file" in err and "pickle" not in err
