"""The few-label part of seismic_transfer.py (run it from there: ``seismic_transfer.py --part fewlabels``)."""

from __future__ import annotations

import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from _common import RESULTS, write_results

FRACTIONS = (0.01, 0.02, 0.05, 0.10, 0.20)
DRAWS = 5
SIZE = 64
CLASSES = np.array(["nonfault", "fault"])


def held_out_block(y: np.ndarray) -> tuple[list[np.ndarray], list[int], np.ndarray]:
    """Per class: indices, and the cut (first 80 % the survey's rest, last 20 % held out); test indices."""
    by_class = [np.flatnonzero(y == c) for c in range(2)]
    cut = [int(0.8 * len(i)) for i in by_class]
    return by_class, cut, np.concatenate([i[n:] for i, n in zip(by_class, cut)])


def draw_labelled(by_class, cut, fraction: float, draw: int) -> np.ndarray:
    rng = np.random.default_rng(draw)
    return np.concatenate([rng.choice(i[:n], max(2, int(round(fraction * n))), replace=False)
                           for i, n in zip(by_class, cut)])


def features(f3: Path, weights: str | None) -> np.ndarray:
    """Frozen pooled features of every F3 patch, read and normalised exactly as `geotune train` does."""
    from geotune.data.samples import open_dataset
    from geotune.models.classifier import build_classifier
    from geotune.training.features import cached_features

    data = open_dataset(f3, None, SIZE, require_labels=False)
    model, _ = build_classifier({"backbone": "tf_efficientnet_lite0", "in_chans": data.channels,
                                 "classes": list(CLASSES), "head": "linear"}, pretrained=True, weights=weights)
    return cached_features(model, data, None, "bench").numpy()


def probe_curve(f: np.ndarray, y: np.ndarray, by_class, cut, test) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    curve = {}
    for fraction in FRACTIONS:
        scores = []
        for draw in range(DRAWS):
            labelled = draw_labelled(by_class, cut, fraction, draw)
            model = LogisticRegression(max_iter=2000).fit(f[labelled], y[labelled])
            scores.append(float(f1_score(y[test], model.predict(f[test]))))
        curve[f"{fraction:g}"] = {"mean": round(float(np.mean(scores)), 4), "std": round(float(np.std(scores)), 4),
                                  "draws": [round(v, 4) for v in scores]}
    return curve


def user_path(start: str, weights: str | None, work: Path, geotune) -> dict:
    """geotune train (defaults, 64 px) on the 5 % draw 0, geotune evaluate on the held-out block."""
    log: list[str] = []
    run = work / f"run_{start}"
    extra = ["--weights", weights] if weights else []
    geotune(["train", "--data", str(work / "labelled5_data.npy"), "--labels", str(work / "labelled5_labels.npy"),
             "--out", str(run), "--image-size", str(SIZE), "--seed", "0", "--strategy", "linear-probe",
             *extra], log)  # the strategy the results were made with
    geotune(["evaluate", str(run), "--data", str(work / "test_data.npy"), "--labels", str(work / "test_labels.npy"),
             "--out", str(work / f"eval_{start}")], log)
    metrics = json.loads((work / f"eval_{start}" / "metrics.json").read_text())
    fault = metrics["per_class"]["fault"]
    return {"fault_f1": fault["f1"], "fault_precision": fault["precision"], "fault_recall": fault["recall"],
            "roc_auc": metrics.get("roc_auc"), "commands": log}


def pretrain_runs(work: Path, minutes: float, geotune) -> dict:
    """bn, then simsiam, on the unlabelled rest; seconds and peak RSS as the weights files record them."""
    from geotune.training.pretrain_weights import read_metadata

    done = {}
    for method in ("bn", "simsiam"):
        out = work / f"{method}.safetensors"
        log: list[str] = []
        started = time.perf_counter()
        geotune(["pretrain", "--data", str(work / "rest_data.npy"), "--out", str(out), "--image-size", str(SIZE),
                 "--method", method, "--minutes", str(minutes), "--seed", "0"], log)
        meta = read_metadata(out)
        done[method] = {"weights": str(out), "wall_s": round(time.perf_counter() - started, 1),
                        "load_average_after": os.getloadavg(), "commands": log,
                        **{k: meta[k] for k in ("seconds", "peak_rss_mb", "samples", "steps", "epochs",
                                                "stopped_by", "final", "bn_samples") if k in meta}}
    return done


def run_fewlabels(args, f3: Path, geotune) -> None:
    archive = np.load(f3)
    x, y = archive["X"], archive["y"].astype(int)
    by_class, cut, test = held_out_block(y)
    rest = np.sort(np.concatenate([i[:n] for i, n in zip(by_class, cut)]))
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        np.save(work / "rest_data.npy", x[rest])  # no labels: the survey's unlabelled rest
        np.save(work / "test_data.npy", x[test])
        np.save(work / "test_labels.npy", CLASSES[y[test]])
        labelled = draw_labelled(by_class, cut, 0.05, 0)
        np.save(work / "labelled5_data.npy", x[labelled])
        np.save(work / "labelled5_labels.npy", CLASSES[y[labelled]])
        with ThreadPoolExecutor(1) as pool:  # pretraining runs beside the ImageNet start's evaluation
            pretraining = pool.submit(pretrain_runs, work, args.minutes, geotune)
            results["imagenet"] = {"curve": probe_curve(features(f3, None), y, by_class, cut, test),
                                   "user_path_5pct": user_path("imagenet", None, work, geotune)}
            print("imagenet", results["imagenet"]["curve"], flush=True)
            pretrained = pretraining.result()
        for method, info in pretrained.items():
            results[method] = {"pretrain": info,
                               "curve": probe_curve(features(f3, info["weights"]), y, by_class, cut, test),
                               "user_path_5pct": user_path(method, info["weights"], work, geotune)}
            print(method, results[method]["curve"], flush=True)
    header = ("start", *[f"{f:.0%} labels" for f in FRACTIONS], "5 %: geotune train + evaluate", "pretraining")
    table = []
    for start, r in results.items():
        p = r.get("pretrain")
        cost = "-" if p is None else (f"{float(p['seconds']):.0f} s, peak RSS {float(p['peak_rss_mb']):.0f} MB"
                                      + (f", {p['steps']} steps" if "steps" in p else ""))
        table.append((start, *[f"{r['curve'][f'{f:g}']['mean']:.3f} ± {r['curve'][f'{f:g}']['std']:.3f}"
                               for f in FRACTIONS], f"{r['user_path_5pct']['fault_f1']:.3f}", cost))
    payload = {"part": "fewlabels", "n_rest": int(len(rest)), "n_test": int(len(test)), "image_size": SIZE,
               "fractions": FRACTIONS, "draws": DRAWS, "simsiam_minutes": args.minutes, "results": results}
    write_results("seismic_transfer_fewlabels", payload, table, header)
    with open(RESULTS / "seismic_transfer_fewlabels.md", "a") as handle:
        handle.write(f"\nFault F1 on the held-out block ({len(test)} patches, last 20 % per class); curve: logistic "
                     f"regression on frozen features, mean ± std of {DRAWS} draws; rest: {len(rest)} unlabelled "
                     "patches for pretraining.\n")
