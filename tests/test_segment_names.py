"""Issue 23, segmentation as a new user meets it: classes named from the data (never class_0..2 when names
are known), mean and per-class IoU in the training summary, one progress line per epoch off a terminal,
and `geotune evaluate --out` writing the plots its --help names."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import warnings

import numpy as np
import pytest

from geotune.cli import main
from geotune.data.synthetic import LABEL_NAMES, make_sections
from geotune.errors import DataError, GeotuneWarning
from geotune.training.segment import mask_class_names, resolve_class_names

os.environ.setdefault("GEOTUNE_THREADS", "1")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`geotune train --task segment` on masks whose names sit beside them in masks.json, with the progress a
    user gets (no $GEOTUNE_PROGRESS) and stderr that is not a terminal."""
    root = tmp_path_factory.mktemp("named")
    x, y = make_sections(8, 32, 32, seed=3)
    np.save(root / "sections.npy", x)
    np.save(root / "masks.npy", y)
    (root / "masks.json").write_text(json.dumps({"class_names": list(LABEL_NAMES)}))
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.delenv("GEOTUNE_PROGRESS", raising=False)
        code = main(["train", "--task", "segment", "--data", str(root / "sections.npy"), "--labels",
                     str(root / "masks.npy"), "--out", str(root / "run"), "--epochs", "2", "--batch-size", "4",
                     "--image-size", "32"])
    assert code == 0, err.getvalue()
    return root, out.getvalue(), err.getvalue()


def test_classes_are_named_from_the_masks_sidecar(trained):
    root, _, _ = trained
    config = json.loads((root / "run" / "model" / "config.json").read_text())
    metrics = json.loads((root / "run" / "model" / "metrics.json").read_text())
    assert config["classes"] == list(LABEL_NAMES)
    assert set(metrics["iou"]) == set(LABEL_NAMES) and not any(c.startswith("class_") for c in metrics["per_class"])


def test_summary_gives_mean_and_per_class_iou(trained):
    _, printed, _ = trained
    metrics = json.loads((trained[0] / "run" / "model" / "metrics.json").read_text())
    assert f"mean_iou {metrics['mean_iou']:.3f}" in printed
    per_class = next(line for line in printed.splitlines() if "IoU per class:" in line)
    assert [part.split()[0] for part in per_class.split(":", 1)[1].split(",")] == list(LABEL_NAMES)


def test_training_prints_a_line_per_epoch_off_a_terminal(trained):
    _, _, err = trained
    lines = [re.sub(r"^\[\s*\d+ s\] ", "", line) for line in err.splitlines()]
    assert "reading sections and masks" in lines
    assert any(line.startswith("training unet") and "background, fault, salt" in line for line in lines)
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in epochs] == ["epoch 1/2", "epoch 2/2"]
    assert all(re.search(r"train_loss [\d.]+, val_loss [\d.]+, val_mean_iou [\d.]+", line) for line in epochs)


def test_evaluate_writes_the_plots_its_help_promises(trained, tmp_path, capsys):
    root, _, _ = trained
    assert main(["evaluate", str(root / "run"), "--data", str(root / "sections.npy"), "--labels",
                 str(root / "masks.npy"), "--out", str(tmp_path / "ev")]) == 0
    assert "mean_iou" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    promised = re.findall(r"[\w.]+\.png", " ".join(capsys.readouterr().out.split()).split("(classify);")[1])
    assert promised == ["confusion_matrix.png", "iou.png", "example.png"]
    for name in promised:
        assert (tmp_path / "ev" / name).read_bytes()[:8] == PNG
    assert json.loads((tmp_path / "ev" / "metrics.json").read_text())["classes"] == list(LABEL_NAMES)


def test_class_names_from_an_npz_or_a_prediction_sidecar(tmp_path):
    np.savez(tmp_path / "m.npz", data=np.zeros((1, 4, 4), np.uint8), class_names=np.array(["rock", "salt"]))
    assert mask_class_names(tmp_path / "m.npz") == ["rock", "salt"]
    np.save(tmp_path / "p.npy", np.zeros((1, 4, 4), np.uint8))
    (tmp_path / "p.json").write_text(json.dumps({"classes": ["a", "b"], "values": "class index"}))
    assert mask_class_names(tmp_path / "p.npy") == ["a", "b"]  # what `geotune predict` writes beside a .npy
    assert mask_class_names(tmp_path / "none.npy") is None
    (tmp_path / "other.json").write_text(json.dumps({"survey": "F3"}))  # a JSON about something else
    assert mask_class_names(tmp_path / "other.npy") is None
    (tmp_path / "wrong.json").write_text(json.dumps({"class_names": "rock,salt"}))
    with pytest.raises(DataError, match="must be a list of names"):
        mask_class_names(tmp_path / "wrong.npy")


def test_unknown_or_wrong_names_are_said(tmp_path):
    with pytest.warns(GeotuneWarning, match="--class-names"):
        assert resolve_class_names(None, 3, tmp_path / "m.npy", given=False) == ["class_0", "class_1", "class_2"]
    with pytest.raises(DataError, match="name 2 classes but the masks hold class numbers up to 2"):
        resolve_class_names(["a", "b"], 3, tmp_path / "m.npy", given=True)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="bad.json"):
        mask_class_names(tmp_path / "bad.npy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_class_names(["a", "b", "c"], 3, None, given=True) == ["a", "b", "c"]


def test_predict_and_evaluate_report_sections_off_a_terminal(trained, tmp_path, capsys, monkeypatch):
    root, _, _ = trained
    monkeypatch.delenv("GEOTUNE_PROGRESS")
    assert main(["predict", str(root / "run"), str(root / "sections.npy"), "--out", str(tmp_path / "p.npy")]) == 0
    err = capsys.readouterr().err
    assert "predicting sections 1/8" in err and "predicting sections 8/8" in err
    assert json.loads((tmp_path / "p.json").read_text())["classes"] == list(LABEL_NAMES)
