"""TGS salt segmentation, scored as the Kaggle competition did, with a CPU time budget.

    nice -n 10 .venv/bin/python benchmarks/seismic_tgs_salt.py --minutes 22

Data: ../shared/data/tgs_salt_train/tgs_salt_train_101x101.npz (restricted: only numbers leave this
script; images, masks, predictions and weights stay in a temporary folder that is deleted).
Split: the last 20 % of tiles in id order are validation (800 of 4000); training sees the first 80 %.
Model: U-Net, tf_efficientnet_lite0 encoder with offline ImageNet weights, 1 input channel, trained
on random 96-px windows of the 101-px tiles (reflect-padded shifts, left-right flips), dice+CE loss,
AdamW with a warm-up + cosine schedule stretched over the wall-clock budget; validation tiles are
predicted whole with the sliding-window blender. Score: per image, precision averaged over IoU
thresholds 0.50..0.95 (empty truth: 1 if the prediction is empty too, else 0), mean over images.
``epochs_run`` counts epochs of 4 windows per tile (ceil(101/96)^2); ``tile_passes`` is windows seen per
training tile. Writes benchmarks/results/seismic_tgs_salt.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GEOTUNE_SHARED_DATA", ROOT.parent / "shared" / "data")) / "tgs_salt_train" / \
    "tgs_salt_train_101x101.npz"
RESULTS = ROOT / "benchmarks" / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=22.0, help="wall-clock training budget (CPU)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=100, help="upper bound; the budget usually stops first")
    parser.add_argument("--note", default="", help="how the machine was shared during the run, for the record")
    args = parser.parse_args()
    if not DATA.is_file():
        print(f"skipped: {DATA} not found")
        return 0
    sys.path.insert(0, str(ROOT / "src"))
    from geotune.config import TrainConfig
    from geotune.training.segment import fit

    with np.load(DATA, allow_pickle=False) as archive:
        ids = archive["ids"]
        order = np.argsort(ids, kind="stable")  # id order (the file is sorted already; be explicit)
        images, masks = archive["images"][order], archive["masks"][order].astype(np.uint8)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="geotune-tgs-") as tmp:
        np.save(Path(tmp) / "images.npy", images)
        np.save(Path(tmp) / "masks.npy", masks)
        cfg = TrainConfig(data=str(Path(tmp) / "images.npy"), labels=str(Path(tmp) / "masks.npy"),
                          out=str(Path(tmp) / "run"), task="segment", epochs=args.epochs, batch_size=16, lr=2e-3,
                          image_size=args.image_size, loss="dice+ce", val_split=0.2, seed=0,
                          class_names=["sediment", "salt"], split="tail", max_minutes=args.minutes,
                          threads=args.threads)
        summary = fit(cfg.validate())
        metrics = summary["metrics"]
    n_val = metrics["n_val_sections"]
    result = {
        "benchmark": "TGS salt (Kaggle 2018) train set, last 20 % of tiles by id as validation",
        "map_iou": metrics["map_iou"],
        "mean_iou": metrics["mean_iou"],
        "iou_salt": metrics["iou"]["salt"],
        "pixel_accuracy": metrics["accuracy"],
        "n_train_tiles": metrics["n_train_sections"],
        "n_val_tiles": n_val,
        "budget_minutes": args.minutes,
        "train_loop_minutes": metrics["train_loop_minutes"],
        "total_minutes": round((time.monotonic() - started) / 60, 2),
        "epochs_run": metrics["epochs_run"],
        "train_steps": metrics["train_steps"],
        "tile_passes": round(metrics["train_steps"] * 16 / metrics["n_train_sections"], 2),  # windows seen / tiles
        "threads": args.threads,
        "image_size": args.image_size,
        "backbone": "tf_efficientnet_lite0 (offline ImageNet weights) + U-Net",
        "weights_source": metrics["weights_source"].split(" (")[0],
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "target": 0.75,
        "note": (args.note + "; " if args.note else "") + "no test-time augmentation, no post-processing",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "seismic_tgs_salt.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    rows = [f"| {k} | {v} |" for k, v in result.items()]
    (RESULTS / "seismic_tgs_salt.md").write_text(
        "# TGS salt segmentation (CPU budget)\n\nCommand: `.venv/bin/python benchmarks/seismic_tgs_salt.py "
        f"--minutes {args.minutes:g} --threads {args.threads}`\n\n| key | value |\n|---|---|\n" + "\n".join(rows) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
