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


def user_path(start: str, weights: str | None, work: Path, geotune, strategy: str = "linear-probe",
              epochs: int = 10) -> dict:
    """geotune train (64 px, ``strategy``) on the 5 % draw 0, geotune evaluate on the held-out block."""
    log: list[str] = []
    run = work / f"run_{start}_{strategy}"
    extra = ["--weights", weights] if weights else []
    geotune(["train", "--data", str(work / "labelled5_data.npy"), "--labels", str(work / "labelled5_labels.npy"),
             "--out", str(run), "--image-size", str(SIZE), "--seed", "0", "--strategy", strategy,
             "--epochs", str(epochs), *extra], log)
    geotune(["evaluate", str(run), "--data", str(work / "test_data.npy"), "--labels", str(work / "test_labels.npy"),
             "--out", str(work / f"eval_{start}_{strategy}")], log)
    metrics = json.loads((work / f"eval_{start}_{strategy}" / "metrics.json").read_text())
    fault = metrics["per_class"]["fault"]
    return {"fault_f1": fault["f1"], "fault_precision": fault["precision"], "fault_recall": fault["recall"],
            "roc_auc": metrics.get("roc_auc"), "commands": log}


# each adapted start: the `geotune pretrain` runs that make it, in order (an earlier run's output as --weights)
def pretrain_plan(minutes: float, synthetic: int, adapted: list[str]) -> dict[str, list[list[str]]]:
    plan = {"bn (AdaBN)": [["--data", "rest_data.npy", "--method", "bn"]],
            "simsiam": [["--data", "rest_data.npy", "--method", "simsiam", "--minutes", str(minutes)]]}
    plan = {k: v for k, v in plan.items() if k.split()[0] in adapted}
    if synthetic:
        plan["synthetic, then simsiam on F3"] = [
            ["--data", "synthetic_data.npy", "--method", "simsiam", "--minutes", str(minutes / 2)],
            ["--data", "rest_data.npy", "--method", "simsiam", "--minutes", str(minutes / 2), "--weights", "PREVIOUS"]]
    return plan


def pretrain_runs(work: Path, plan: dict, geotune) -> dict:
    """Every start of the plan on the unlabelled rest; seconds and peak RSS as the weights files record them
    (summed over the runs of a start; peak RSS the largest)."""
    from geotune.training.pretrain_weights import read_metadata

    done = {}
    for index, (start, runs) in enumerate(plan.items()):
        log: list[str] = []
        started, previous, metas = time.perf_counter(), None, []
        for step, run in enumerate(runs):
            out = work / f"start{index}_{step}.safetensors"
            run = [str(work / a) if a.endswith(".npy") else (str(previous) if a == "PREVIOUS" else a) for a in run]
            geotune(["pretrain", *run, "--out", str(out), "--image-size", str(SIZE), "--seed", "0"], log)
            metas.append(read_metadata(out))
            previous = out
        meta = metas[-1]
        done[start] = {"weights": str(previous), "wall_s": round(time.perf_counter() - started, 1),
                       "load_average_after": os.getloadavg(), "commands": log,
                       "seconds": round(sum(float(m["seconds"]) for m in metas), 1),
                       "peak_rss_mb": max(float(m["peak_rss_mb"]) for m in metas),
                       "steps": "+".join(m["steps"] for m in metas if "steps" in m) or None,
                       **{k: meta[k] for k in ("samples", "epochs", "stopped_by", "final", "bn_samples", "stages",
                                               "batchnorm", "trainable_parameters") if k in meta}}
    return done


def run_fewlabels(args, f3: Path, geotune) -> None:
    archive = np.load(f3)
    x, y = archive["X"], archive["y"].astype(int)
    by_class, cut, test = held_out_block(y)
    rest = np.sort(np.concatenate([i[:n] for i, n in zip(by_class, cut)]))
    results: dict = {}
    plan = pretrain_plan(args.minutes, args.synthetic, args.adapted)
    tuned = ["imagenet", *[s for s in plan if not s.startswith("bn")]]  # the fine-tuned row: every start but AdaBN
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        np.save(work / "rest_data.npy", x[rest])  # no labels: the survey's unlabelled rest
        np.save(work / "test_data.npy", x[test])
        np.save(work / "test_labels.npy", CLASSES[y[test]])
        labelled = draw_labelled(by_class, cut, 0.05, 0)
        np.save(work / "labelled5_data.npy", x[labelled])
        np.save(work / "labelled5_labels.npy", CLASSES[y[labelled]])
        if args.synthetic:
            from geotune.data.synthetic import make_fault_patches

            np.save(work / "synthetic_data.npy", make_fault_patches(args.synthetic, size=45, seed=args.seed)[0])
        with ThreadPoolExecutor(1) as pool:  # pretraining runs beside the ImageNet start's evaluation
            pretraining = pool.submit(pretrain_runs, work, plan, geotune)
            results["imagenet"] = {"curve": probe_curve(features(f3, None), y, by_class, cut, test),
                                   "user_path_5pct": user_path("imagenet", None, work, geotune),
                                   "full_5pct": user_path("imagenet", None, work, geotune, "full", args.epochs)}
            print("imagenet", results["imagenet"]["curve"], flush=True)
            pretrained = pretraining.result()
        for index, (start, info) in enumerate(pretrained.items(), 1):
            name = f"start{index}"
            results[start] = {"pretrain": info,
                              "curve": probe_curve(features(f3, info["weights"]), y, by_class, cut, test),
                              "user_path_5pct": user_path(name, info["weights"], work, geotune)}
            if start in tuned:
                results[start]["full_5pct"] = user_path(name, info["weights"], work, geotune, "full", args.epochs)
            print(start, results[start]["curve"], flush=True)
    header = ("start", *[f"{f:.0%} labels" for f in FRACTIONS], "5 %: train linear-probe + evaluate",
              f"5 %: train --strategy full ({args.epochs} epochs) + evaluate", "pretraining")
    table = []
    for start, r in results.items():
        p = r.get("pretrain")
        cost = "-" if p is None else (f"{float(p['seconds']):.0f} s, peak RSS {float(p['peak_rss_mb']):.0f} MB"
                                      + (f", {p['steps']} steps" if p.get("steps") else ""))
        full = r.get("full_5pct")
        table.append((start, *[f"{r['curve'][f'{f:g}']['mean']:.3f} ± {r['curve'][f'{f:g}']['std']:.3f}"
                               for f in FRACTIONS], f"{r['user_path_5pct']['fault_f1']:.3f}",
                      "-" if full is None else f"{full['fault_f1']:.3f} (AUC {full['roc_auc']:.3f})", cost))
    payload = {"part": "fewlabels", "n_rest": int(len(rest)), "n_test": int(len(test)), "image_size": SIZE,
               "fractions": FRACTIONS, "draws": DRAWS, "simsiam_minutes": args.minutes, "full_epochs": args.epochs,
               "synthetic_patches": args.synthetic, "load_average_at_end": os.getloadavg(), "results": results}
    write_results("seismic_transfer_fewlabels", payload, table, header)
    with open(RESULTS / "seismic_transfer_fewlabels.md", "a") as handle:
        handle.write(f"\nFault F1 on the held-out block ({len(test)} patches, last 20 % per class); curve: logistic "
                     f"regression on frozen features, mean ± std of {DRAWS} draws; rest: {len(rest)} unlabelled "
                     "patches for pretraining. The two `geotune train` columns use the 5 % draw 0 "
                     f"({len(labelled)} patches). Load average at the end: {os.getloadavg()}.\n")
