"""The synthetic-start part of seismic_transfer.py (run it from there: ``seismic_transfer.py --part synthetic-start``).

Supervised pre-training on generated faults, then few F3 labels: for each of ``--starts`` synthetic runs (a new
generator seed and training seed each), ``geotune train --strategy full`` on ``--n`` generated fault patches
(half fault) at 64 px, then
- the frozen-feature curve on F3 (the fewlabels part's draws, logistic regression) of that run's backbone alone, and
  of its features beside the ImageNet backbone's (concatenated), and
- the user path at 5 %: ``geotune train --weights RUN --strategy full`` (the run's backbone as the start) on each of
  the five 5 % draws, ``geotune evaluate`` on the held-out block; the ImageNet start the same way.
Several synthetic runs, because one run's gain can be luck: the spread between runs is what a user would meet.
Writes benchmarks/results/seismic_transfer_synthetic_start.{json,md}.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import RESULTS, write_results
from seismic_transfer_fewlabels import CLASSES, DRAWS, FRACTIONS, SIZE, draw_labelled, features, held_out_block, \
    probe_curve


def fine_tune_draws(start: str, weights: str | None, work: Path, x, y, by_class, cut, epochs: int, geotune) -> dict:
    """geotune train --strategy full from ``weights`` (None: ImageNet) on each 5 % draw; fault F1 on the block."""
    scores, aucs, log = [], [], []
    for draw in range(DRAWS):
        labelled = draw_labelled(by_class, cut, 0.05, draw)
        data, labels = work / f"l5_{draw}_data.npy", work / f"l5_{draw}_labels.npy"
        np.save(data, x[labelled]), np.save(labels, CLASSES[y[labelled]])
        run, evaluation = work / f"ft_{start}_{draw}", work / f"ev_{start}_{draw}"
        geotune(["train", "--data", str(data), "--labels", str(labels), "--out", str(run), "--image-size", str(SIZE),
                 "--seed", "0", "--strategy", "full", "--epochs", str(epochs),
                 *(["--weights", weights] if weights else [])], log)
        geotune(["evaluate", str(run), "--data", str(work / "test_data.npy"), "--labels",
                 str(work / "test_labels.npy"), "--out", str(evaluation)], log)
        metrics = json.loads((evaluation / "metrics.json").read_text())
        scores.append(round(float(metrics["per_class"]["fault"]["f1"]), 4))
        aucs.append(round(float(metrics.get("roc_auc") or float("nan")), 4))
    return {"fault_f1": {"mean": round(float(np.mean(scores)), 4), "std": round(float(np.std(scores)), 4),
                         "draws": scores}, "roc_auc_mean": round(float(np.nanmean(aucs)), 4), "commands": log[:2]}


def run_synthetic_start(args, f3: Path, geotune) -> None:
    from geotune.data.synthetic import make_fault_patches

    archive = np.load(f3)
    x, y = archive["X"], archive["y"].astype(int)
    by_class, cut, test = held_out_block(y)
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        np.save(work / "test_data.npy", x[test]), np.save(work / "test_labels.npy", CLASSES[y[test]])
        imagenet = features(f3, None)
        results["imagenet"] = {"curve": probe_curve(imagenet, y, by_class, cut, test),
                               "fine_tune_5pct": fine_tune_draws("imagenet", None, work, x, y, by_class, cut,
                                                                 args.epochs, geotune)}
        print("imagenet", json.dumps(results["imagenet"]["curve"]["0.05"]), flush=True)
        for start in range(args.starts):
            seed = args.seed + 100 * (start + 1)
            patches, labels, names = make_fault_patches(args.n, size=45, seed=seed, fault_fraction=0.5)
            np.save(work / "synthetic_data.npy", patches), np.save(work / "synthetic_labels.npy", np.array(names)[labels])
            run, log = work / f"synthetic_{start}", []
            started = time.perf_counter()
            geotune(["train", "--data", str(work / "synthetic_data.npy"), "--labels",
                     str(work / "synthetic_labels.npy"), "--out", str(run), "--image-size", str(SIZE), "--strategy",
                     "full", "--epochs", str(args.synthetic_epochs), "--seed", str(seed)], log)
            seconds = round(time.perf_counter() - started, 1)
            validation = json.loads((run / "model" / "metrics.json").read_text())["accuracy"]
            adapted = features(f3, str(run))
            results[f"synthetic run {start + 1}"] = {
                "generator_seed": seed, "train_seconds": seconds, "synthetic_validation_accuracy": validation,
                "commands": log,
                "curve": probe_curve(adapted, y, by_class, cut, test),
                "curve_beside_imagenet": probe_curve(np.hstack([imagenet, adapted]), y, by_class, cut, test),
                "fine_tune_5pct": fine_tune_draws(f"s{start}", str(run), work, x, y, by_class, cut, args.epochs,
                                                  geotune)}
            print(start, json.dumps({k: v["0.05"] for k, v in results[f"synthetic run {start + 1}"].items()
                                     if k.startswith("curve")}), flush=True)
    header = ("start", "features", *[f"{f:.0%} labels" for f in FRACTIONS],
              f"5 %: train --strategy full ({args.epochs} epochs), {DRAWS} draws", "synthetic training")
    table = []
    for start, r in results.items():
        cell = lambda c: [f"{c[f'{f:g}']['mean']:.3f} ± {c[f'{f:g}']['std']:.3f}" for f in FRACTIONS]  # noqa: E731
        tuned = r["fine_tune_5pct"]
        tuned_cell = f"{tuned['fault_f1']['mean']:.3f} ± {tuned['fault_f1']['std']:.3f} (AUC {tuned['roc_auc_mean']:.3f})"
        cost = "-" if start == "imagenet" else (f"{r['train_seconds']:.0f} s, synthetic val accuracy "
                                               f"{r['synthetic_validation_accuracy']:.3f}")
        table.append((start, "its own", *cell(r["curve"]), tuned_cell, cost))
        if "curve_beside_imagenet" in r:
            table.append((start, "beside ImageNet's (concatenated)", *cell(r["curve_beside_imagenet"]), "-", "-"))
    payload = {"part": "synthetic-start", "synthetic_patches": args.n, "synthetic_epochs": args.synthetic_epochs,
               "image_size": SIZE, "fractions": FRACTIONS, "draws": DRAWS, "fine_tune_epochs": args.epochs,
               "load_average_at_end": os.getloadavg(), "results": results}
    write_results("seismic_transfer_synthetic_start", payload, table, header)
    with open(RESULTS / "seismic_transfer_synthetic_start.md", "a") as handle:
        handle.write(f"\nFault F1 on the held-out block ({len(test)} patches, last 20 % per class). Curves: logistic "
                     f"regression on frozen features, mean ± std of {DRAWS} draws (the fewlabels part's draws). "
                     f"Synthetic runs: `geotune train --strategy full` on {args.n} generated patches (half fault), "
                     f"{args.synthetic_epochs} epochs at {SIZE} px; the fine-tuned column starts from that run "
                     f"(`--weights RUN`). Load average at the end: {os.getloadavg()}.\n")
