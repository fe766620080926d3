"""The embedded default: `geotune demo` (quick settings) trains, evaluates on held-out data and compares
with random initialisation."""

import json
import re

import pytest

from geotune import demo
from geotune.cli import main


@pytest.mark.slow
def test_quick_demo_pretrained_beats_random_init(tmp_path, capsys):
    assert main(["demo", "--quick", "--out", str(tmp_path / "demo")]) == 0
    results = json.loads((tmp_path / "demo" / "demo_results.json").read_text())
    assert results["pretrained"]["test_accuracy"] >= 0.85
    assert results["pretrained"]["test_accuracy"] > results["random_init"]["test_accuracy"]
    assert "offline package" in results["pretrained"]["weights"]
    assert results["random_init"]["weights"] == "random initialisation"
    out = capsys.readouterr().out
    assert "held-out accuracy" in out and "random_init" in out
    assert (tmp_path / "demo" / "data" / "train_data.npy").is_file()


def test_tiny_demo_writes_both_runs_and_the_comparison(tmp_path, capsys, monkeypatch):
    """The demo's whole path on 3 patches per class and 2 epochs; the accuracy claim is the slow test's.
    After its first line it says what it is doing (stderr is not a terminal here: one line per stage)."""
    monkeypatch.setattr(demo, "QUICK", {"train_per_class": 3, "test_per_class": 2, "size": 32, "image_size": 32,
                                        "epochs": 2})
    monkeypatch.delenv("GEOTUNE_PROGRESS")  # the suite's quiet default off: what a user sees
    assert main(["demo", "--quick", "--out", str(tmp_path / "demo")]) == 0
    captured = capsys.readouterr()
    lines = [re.sub(r"^\[\s*\d+ s\] ", "", line) for line in captured.err.splitlines()]
    for name in ("pretrained", "random_init"):
        assert any(line.startswith(f"{name}: backbone features of 12 patches") for line in lines)
        assert f"{name}: scoring 8 held-out patches" in lines
    epochs = [line for line in lines if line.startswith("epoch ")]  # Lightning's bar is off: one line per epoch
    assert epochs and {line.split(":")[0] for line in epochs} <= {"epoch 1/2", "epoch 2/2"}
    assert all("train_loss" in line and "val_loss" in line for line in epochs)
    results = json.loads((tmp_path / "demo" / "demo_results.json").read_text())
    for name in ("pretrained", "random_init"):
        assert 0.0 <= results[name]["test_accuracy"] <= 1.0
        assert (tmp_path / "demo" / name / "evaluation" / "metrics.json").is_file()
    assert results["random_init"]["weights"] == "random initialisation"
    out = captured.out
    assert "held-out accuracy" in out and "random_init" in out and "geotune predict" in out


def test_models_command_lists_offline_backbone(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    lite0 = next(r for r in rows if r["name"] == "tf_efficientnet_lite0")
    assert lite0["offline"] == "yes" and lite0["input_size"] == 224
    sizes = {r["name"]: r["params_m"] for r in rows}
    assert 3 < sizes["tf_efficientnet_lite0"] < sizes["tf_efficientnet_lite1"] < sizes["tf_efficientnet_lite2"] < 6


def test_help_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys; from geotune.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False"
