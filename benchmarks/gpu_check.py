"""GPU figures for the performance table (run where a GPU is lent; the CPU figures stand alone).

    PYTHONPATH=src python benchmarks/gpu_check.py --out DIR

Measures EfficientNet-Lite0 forward throughput at 224 px (eager fp32, channels_last, channels_last + bf16)
and times `geotune.api.finetune` (linear probe and gradual) on synthetic patches with accelerator=gpu,
then segmentation (`geotune.training.segment.fit`, U-Net on EfficientNet-Lite0) on synthetic sections with
accelerator=gpu and bf16-mixed: wall time, train steps and validation mean IoU.
Writes DIR/gpu_check.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch


def throughput(model, x, autocast: bool, channels_last: bool, repeat: int = 10) -> float:
    m = model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    x = x.contiguous(memory_format=torch.channels_last) if channels_last else x
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
        for _ in range(3):
            m(x)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(repeat):
            m(x)
        torch.cuda.synchronize()
    return repeat * len(x) / (time.perf_counter() - t0)


def segment_on_gpu(work: Path, epochs: int = 6) -> dict:
    """Segmentation through the Lightning engine on the GPU: 120 synthetic 64 x 128 sections."""
    from geotune.config import TrainConfig
    from geotune.data.synthetic import LABEL_NAMES, make_sections
    from geotune.training.segment import fit

    images, labels = make_sections(120, 64, 128, seed=7)
    np.save(work / "sections.npy", images)
    np.save(work / "masks.npy", labels)
    cfg = TrainConfig(data=str(work / "sections.npy"), labels=str(work / "masks.npy"), out=str(work / "segment"),
                      task="segment", epochs=epochs, batch_size=32, lr=2e-3, image_size=64, loss="dice+ce",
                      class_weights=True, seed=0, accelerator="gpu", precision="bf16-mixed",
                      class_names=list(LABEL_NAMES)).validate()
    t0 = time.perf_counter()
    metrics = fit(cfg)["metrics"]
    return {"seconds": time.perf_counter() - t0, "epochs": epochs, "sections": len(images),
            "train_steps": metrics["train_steps"], "windows_per_epoch": metrics["windows_per_epoch"],
            "mean_iou": metrics["mean_iou"], "iou": metrics["iou"], "val_loss": metrics["val_loss"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=".")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from geotune.api import finetune
    from geotune.data.synthetic import make_patches
    from geotune.models.classifier import build_classifier

    result = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
    model, source = build_classifier({"backbone": "tf_efficientnet_lite0", "in_chans": 3, "classes": ["a", "b"],
                                      "head": "linear"}, pretrained=True)
    model = model.cuda().eval()
    x = torch.rand(256, 3, 224, 224, device="cuda")
    result["weights"] = source
    result["forward_images_per_s"] = {
        "eager fp32": throughput(model, x, False, False),
        "channels_last fp32": throughput(model, x, False, True),
        "channels_last + bf16": throughput(model, x, True, True),
    }
    work = Path(tempfile.mkdtemp())
    patches, y, classes = make_patches(150, 96, 0)
    np.save(work / "d.npy", patches)
    np.save(work / "l.npy", np.asarray(classes)[y])
    result["finetune"] = {}
    for strategy, epochs in (("linear-probe", 10), ("gradual", 6), ("full", 4)):
        t0 = time.perf_counter()
        summary = finetune(work / "d.npy", work / strategy, labels=work / "l.npy", image_size=96, epochs=epochs,
                           strategy=strategy, accelerator="gpu", precision="bf16-mixed", batch_size=64)
        result["finetune"][strategy] = {"seconds": time.perf_counter() - t0, "epochs": epochs, "samples": len(y),
                                        "val_accuracy": summary["metrics"]["accuracy"]}
    result["segment"] = segment_on_gpu(work)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "gpu_check.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
