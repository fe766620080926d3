"""Export a classifier to ONNX (inside its model directory) and check it against PyTorch."""

from __future__ import annotations

import io
import os
import warnings

import numpy as np

from .. import modeldir
from ..errors import ModelError

ONNX_FILE = "model.onnx"
TOLERANCE = 1e-3


def export_onnx(model_path: str | os.PathLike, batch: int = 4, opset: int = 17) -> dict:
    """Write RUN/model/model.onnx (dynamic batch), run it in ONNX Runtime beside PyTorch on random inputs,
    and refuse to keep it when the logits differ by more than ``TOLERANCE``."""
    import torch

    from ..tasks import load_model

    loaded = load_model(model_path)
    folder, config = modeldir.load_config(model_path)
    if config["task"] != "classify":
        raise ModelError(f"ONNX export supports classification models; this one is {config['task']!r}", folder)
    model = loaded.model.eval().to(memory_format=torch.contiguous_format)
    size = int(config["image_size"])
    example = torch.rand(batch, int(config["in_chans"]), size, size, generator=torch.Generator().manual_seed(0))
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        # The TorchScript exporter: no extra dependency (the dynamo exporter needs onnxscript).
        torch.onnx.export(model, (example,), buffer, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=opset,
                          dynamo=False)
    payload = buffer.getvalue()
    diff = _compare(payload, model, example)
    if diff > TOLERANCE:
        raise ModelError(f"ONNX export differs from PyTorch by {diff:.2e} (> {TOLERANCE}); not kept", folder)
    modeldir.add_file(folder, ONNX_FILE, payload)
    return {"path": str(folder / ONNX_FILE), "max_abs_diff": diff, "bytes": len(payload)}


def _compare(payload: bytes, model, example) -> float:
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(payload, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = model(example).numpy()
    got = session.run(None, {"input": example.numpy()})[0]
    return float(np.abs(got - expected).max())
