"""`geotune demo --task segment --quick`: pretrained vs random-init encoder on synthetic sections."""

from __future__ import annotations

import os
from pathlib import Path

from geotune.training.segment import run_segment_demo

os.environ.setdefault("GEOTUNE_THREADS", "1")


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
