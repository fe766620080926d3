"""`geotune demo`: the whole job on built-in synthetic seismic, in minutes on a laptop CPU.

Classification: four classes of synthetic seismic patches (chaotic, fault, horizon, salt) written in the
Keras seed layout (train_data.npy, train_labels.npy, test_data.npy, test_labels.npy); the offline ImageNet
backbone is fine-tuned (cached linear probe), evaluated on held-out patches from another seed, and the same
run from random initialisation is shown beside it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from . import progress
from ._atomic import atomic_file

FULL = {"train_per_class": 80, "test_per_class": 60, "size": 64, "image_size": 96, "epochs": 40}
QUICK = {"train_per_class": 16, "test_per_class": 10, "size": 48, "image_size": 64, "epochs": 15}


def run_demo(task: str = "classify", out: str | Path = "demo_run", quick: bool = False) -> dict:
    if task == "segment":
        from .training.segment import run_segment_demo

        return run_segment_demo(str(out), quick)
    return run_classify_demo(Path(out), quick)


def write_demo_data(folder: Path, settings: dict, seed: int = 0) -> dict[str, Path]:
    from .data.synthetic import make_patches

    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, n, split_seed in (("train", settings["train_per_class"], seed),
                                 ("test", settings["test_per_class"], seed + 1000)):
        x, y, classes = make_patches(n, settings["size"], split_seed)
        for kind, array in (("data", x), ("labels", np.asarray(classes)[y])):
            paths[f"{split}_{kind}"] = folder / f"{split}_{kind}.npy"
            with atomic_file(paths[f"{split}_{kind}"], "wb") as handle:
                np.save(handle, array)
    return paths


def run_classify_demo(out: Path, quick: bool = False) -> dict:
    from .api import evaluate, finetune

    settings = QUICK if quick else FULL
    started = time.perf_counter()
    print(f"geotune demo: synthetic seismic patches ({settings['train_per_class']} per class to train, "
          f"{settings['test_per_class']} per class held out), written to {out / 'data'}")
    paths = write_demo_data(out / "data", settings)
    results = {}
    for name, pretrained in (("pretrained", True), ("random_init", False)):
        t0 = time.perf_counter()
        start = "ImageNet weights" if pretrained else "random initialisation"
        progress.stage(f"{name}: backbone features of {settings['train_per_class'] * 4} patches from {start}, "
                       f"then a linear probe ({settings['epochs']} epochs)")
        summary = finetune(paths["train_data"], out / name, labels=paths["train_labels"], pretrained=pretrained,
                           image_size=settings["image_size"], epochs=settings["epochs"], strategy="linear-probe",
                           seed=42)
        progress.stage(f"{name}: scoring {settings['test_per_class'] * 4} held-out patches")
        held_out = evaluate(summary["model_dir"], paths["test_data"], labels=paths["test_labels"],
                            out=out / name / "evaluation")
        results[name] = {"weights": summary.get("weights_source"), "val_accuracy": summary["metrics"]["accuracy"],
                         "test_accuracy": held_out["accuracy"], "test_macro_f1": held_out["macro_f1"],
                         "test_ece": held_out["ece"], "seconds": round(time.perf_counter() - t0, 1),
                         "model_dir": summary["model_dir"]}
    results["seconds_total"] = round(time.perf_counter() - started, 1)
    with atomic_file(out / "demo_results.json") as handle:
        json.dump(results, handle, indent=2)
    print()
    print(f"{'start':14} {'held-out accuracy':>18} {'macro F1':>9} {'ECE':>6} {'time':>7}")
    for name in ("pretrained", "random_init"):
        r = results[name]
        print(f"{name:14} {r['test_accuracy']:18.3f} {r['test_macro_f1']:9.3f} {r['test_ece']:6.3f} {r['seconds']:6.0f}s")
    print(f"\npretrained weights: {results['pretrained']['weights']}")
    print(f"model: {results['pretrained']['model_dir']}   results: {out / 'demo_results.json'}")
    print(f"try:   geotune predict {results['pretrained']['model_dir']} {paths['test_data']} --out predictions.csv")
    return results
