"""`geotune demo --task segment --quick`: pretrained vs random-init encoder on synthetic sections."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geotune.training import segment
from geotune.training.segment import run_segment_demo

os.environ.setdefault("GEOTUNE_THREADS", "1")


@pytest.mark.slow
def test_quick_demo_compares_pretrained_with_random_init(tmp_path, capsys):
    result = run_segment_demo(str(tmp_path / "demo"), quick=True)
    printed = capsys.readouterr().out
    for name in ("background", "fault", "salt", "pretrained", "random init"):
        assert name in printed
    for run in ("pretrained", "random_init"):
        assert (Path(result["model_dirs"][run]) / "weights.safetensors").is_file()
        assert set(result[run]["iou"]) == {"background", "fault", "salt"}
    assert "offline package" in result["pretrained"]["weights_source"]
    assert result["random_init"]["weights_source"] == "random initialisation"
    # the point of the demo: ImageNet features help on a few dozen synthetic sections
    assert result["pretrained"]["mean_iou"] > result["random_init"]["mean_iou"]


def test_tiny_demo_trains_both_encoders_and_prints_iou_per_class(tmp_path, capsys, monkeypatch):
    """The demo's whole path on 8 small sections and one epoch (the comparison itself needs the slow test)."""
    monkeypatch.setattr(segment, "SEGMENT_DEMO_QUICK", (8, 32, 32, 1))
    result = run_segment_demo(str(tmp_path / "demo"), quick=True)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[-4:]] == ["background", "fault", "salt", "mean"]
    assert float(lines[-1].split()[1]) == pytest.approx(result["pretrained"]["mean_iou"], abs=5e-4)
    assert "offline package" in result["pretrained"]["weights_source"]
    assert result["random_init"]["weights_source"] == "random initialisation"
    assert all((Path(d) / "weights.safetensors").is_file() for d in result["model_dirs"].values())
