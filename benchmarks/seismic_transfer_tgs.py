"""TGS salt with 10 % of the masks (run it from seismic_transfer.py: ``--part tgs``): ImageNet encoder vs the
encoder adapted by ``geotune pretrain`` on every TGS image without masks.

Split as seismic_tgs_salt.py: tiles in id order, the last 20 % (800) are the test block; 10 % of the first 80 %
(320 tiles, one seeded draw) keep their masks. Both starts train the same U-Net through ``geotune train --task
segment`` for the same number of optimizer steps (``--max-steps``, not a wall-clock budget, so the load of the
shared machine cannot give one start more training), and are scored on the test block: mAP@IoU (Kaggle's) and
mean IoU. Restricted data: images, masks, weights and predictions stay in a temporary folder that is deleted;
only the numbers are written.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import SHARED, write_results

TGS = SHARED / "tgs_salt_train" / "tgs_salt_train_101x101.npz"
SIZE = 96  # the training window (a multiple of 32), as seismic_tgs_salt.py


def split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(labelled tiles drawn from the first 80 %, the last 20 % as the test block), indices in id order."""
    n_test = int(round(0.2 * n))
    pool = np.arange(n - n_test)
    labelled = np.sort(np.random.default_rng(seed).choice(pool, int(round(fraction * len(pool))), replace=False))
    return labelled, np.arange(n - n_test, n)


def segment_run(name: str, weights: str | None, work: Path, args, n_test: int, n_total: int, geotune) -> dict:
    log: list[str] = []
    run = work / f"run_{name}"
    started = time.perf_counter()
    geotune(["train", "--task", "segment", "--data", str(work / "seg_images.npy"), "--labels",
             str(work / "seg_masks.npy"), "--out", str(run), "--image-size", str(SIZE), "--loss", "dice+ce",
             "--batch-size", "16", "--lr", "2e-3", "--class-names", "sediment", "salt", "--split", "tail",
             "--val-split", repr(n_test / n_total), "--max-steps", str(args.tgs_steps), "--epochs", "1000",
             "--seed", "0", *(["--weights", weights] if weights else [])], log)
    metrics = json.loads((run / "model" / "metrics.json").read_text())
    assert metrics["n_val_sections"] == n_test, metrics["n_val_sections"]
    return {"map_iou": metrics["map_iou"], "mean_iou": metrics["mean_iou"], "iou_salt": metrics["iou"]["salt"],
            "train_steps": metrics.get("train_steps"), "n_train_tiles": metrics["n_train_sections"],
            "n_test_tiles": metrics["n_val_sections"], "wall_s": round(time.perf_counter() - started, 1),
            "load_average_after": os.getloadavg(), "commands": log}


def run_tgs(args, geotune) -> None:
    from geotune.training.pretrain_weights import read_metadata

    if not TGS.is_file():
        raise SystemExit(f"{TGS} not found: --part tgs needs ../shared/data")
    with np.load(TGS, allow_pickle=False) as archive:
        order = np.argsort(archive["ids"], kind="stable")
        images, masks = archive["images"][order], archive["masks"][order].astype(np.uint8)
    labelled, test = split(len(images), args.tgs_fraction, args.seed)
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="geotune-tgs-transfer-") as tmp:
        work = Path(tmp)
        np.save(work / "all_images.npy", images)  # every tile, no masks: the unlabelled survey
        keep = np.concatenate([labelled, test])  # the masked 10 %, then the test block (held out as the tail)
        np.save(work / "seg_images.npy", images[keep])
        np.save(work / "seg_masks.npy", masks[keep])
        adapted = work / "tgs.safetensors"
        log: list[str] = []
        started = time.perf_counter()
        geotune(["pretrain", "--data", str(work / "all_images.npy"), "--out", str(adapted), "--image-size",
                 str(SIZE), "--minutes", str(args.minutes), "--seed", "0"], log)
        meta = read_metadata(adapted)
        pretrain = {"wall_s": round(time.perf_counter() - started, 1), "load_average_after": os.getloadavg(),
                    "commands": log, **{k: meta[k] for k in ("seconds", "peak_rss_mb", "samples", "steps", "epochs",
                                                             "stopped_by", "final", "stages", "batchnorm") if k in meta}}
        for name, weights in (("imagenet", None), ("adapted", str(adapted))):
            results[name] = segment_run(name, weights, work, args, len(test), len(keep), geotune)
            print(name, {k: results[name][k] for k in ("map_iou", "mean_iou")}, flush=True)
    results["adapted"]["pretrain"] = pretrain
    header = ("encoder start", "mAP@IoU (test block)", "mean IoU", "salt IoU", "train steps", "train s", "pretraining")
    table = []
    for name, r in results.items():
        p = r.get("pretrain")
        cost = "-" if p is None else (f"{float(p['seconds']):.0f} s, peak RSS {float(p['peak_rss_mb']):.0f} MB, "
                                      f"{p.get('steps')} steps")
        table.append((name, f"{r['map_iou']:.3f}", f"{r['mean_iou']:.3f}", f"{r['iou_salt']:.3f}", r["train_steps"],
                      f"{r['wall_s']:.0f}", cost))
    payload = {"part": "tgs", "n_tiles": int(len(images)), "n_labelled": int(len(labelled)), "n_test": int(len(test)),
               "fraction": args.tgs_fraction, "max_steps": args.tgs_steps, "pretrain_minutes": args.minutes,
               "image_size": SIZE, "results": results}
    write_results("seismic_transfer_tgs", payload, table, header)
