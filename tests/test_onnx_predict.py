"""`geotune export --format onnx` and ONNX Runtime inference: same logits as PyTorch, in input order."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("onnxruntime")


@pytest.fixture()
def exported(tiny_run, tmp_path):
    from geotune.predict.onnx_export import export_onnx

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)  # the shared run stays as other tests expect it
    info = export_onnx(run)
    return run, info


@pytest.mark.parametrize("workers", ["1", "2"])
def test_onnx_logits_match_torch_row_for_row(exported, tiny_patches, monkeypatch, workers):
    from geotune.api import load_model
    from geotune.predict.classifier import ONNX_BATCH

    run, info = exported
    assert info["max_abs_diff"] < 1e-3 and (run / "model" / "model.onnx").is_file()
    monkeypatch.setenv("GEOTUNE_THREADS", workers)  # 2: chunks run in parallel threads
    x = np.load(tiny_patches["train_data"])[: 3 * ONNX_BATCH - 3]  # several chunks, the last one short
    model = load_model(run)
    torch_logits = model.logits(x, engine="torch")
    onnx_logits = model.logits(x, engine="onnx")
    assert onnx_logits.shape == torch_logits.shape == (len(x), len(model.classes))
    np.testing.assert_allclose(onnx_logits, torch_logits, atol=1e-3)
    assert (onnx_logits.argmax(1) == torch_logits.argmax(1)).all()


def test_onnx_engine_without_export_is_a_clear_error(tiny_run, tiny_patches):
    from geotune.api import load_model
    from geotune.errors import ModelError

    if (tiny_run / "model" / "model.onnx").exists():
        pytest.skip("the shared run was exported by another test")
    with pytest.raises(ModelError, match="geotune export"):
        load_model(tiny_run).logits(np.load(tiny_patches["train_data"])[:2], engine="onnx")
