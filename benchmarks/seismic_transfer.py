"""Synthetic to real: a fault classifier trained on generated patches only, scored on every real F3 patch.

    PYTHONPATH=src .venv/bin/python benchmarks/seismic_transfer.py [--n 2000] [--epochs 10] [--image-size 64]   (the committed run: --n 2000)

Zero real labels. For each generator ("before": the LANDMASS-style patches of ``make_patches``, horizon vs
fault, as geotune shipped them; "after": ``make_fault_patches``) the script
1. writes ``n`` synthetic 45 x 45 patches (half fault) as train_data.npy / train_labels.npy (labels named
   ``nonfault`` / ``fault``, the class names of the F3 archive) and a synthetic validation set (another
   seed, ``n // 2`` patches thinned to the fault share SOURCE.md documents for F3, 13.4 %: a known prior,
   not a look at F3 scores),
2. runs ``geotune train`` (default linear probe on the offline EfficientNet-Lite0) on the synthetic patches,
3. runs ``geotune evaluate`` on all of ../shared/data/f3_fault_patches_sfd/f3_fault_patches_45x45.npz
   (3756 patches, 13.4 % fault): fault precision, recall, F1 at the model's own decision (argmax), ROC-AUC,
4. runs ``geotune predict`` on the synthetic validation set and on F3, picks the fault-probability threshold
   that maximises fault F1 on the synthetic validation set only, and reports F3 scores at that threshold.
Both generators run in one process on the same F3 data; the all-nonfault baseline scores F1 0 (accuracy
0.866). The commands run are recorded in the results. Writes benchmarks/results/seismic_transfer.{json,md}.
Needs ../shared/data (F3 data: CC BY-SA 3.0, dGB Earth Sciences / TNO; patches: Cunha et al. 2020, MIT).

Few real labels (``--part fewlabels``; writes benchmarks/results/seismic_transfer_fewlabels.{json,md}):

    PYTHONPATH=src .venv/bin/python benchmarks/seismic_transfer.py --part fewlabels [--minutes 10]

Supervised pre-training on generated faults, then few F3 labels (``--part synthetic-start``; writes
benchmarks/results/seismic_transfer_synthetic_start.{json,md}; see seismic_transfer_synthetic_start.py):

    PYTHONPATH=src .venv/bin/python benchmarks/seismic_transfer.py --part synthetic-start --n 4000 [--starts 3]

TGS salt with 10 % of the masks (``--part tgs``; writes benchmarks/results/seismic_transfer_tgs.{json,md};
numbers only): see seismic_transfer_tgs.py.

    PYTHONPATH=src .venv/bin/python benchmarks/seismic_transfer.py --part tgs [--minutes 10] [--tgs-steps 400]

Held-out block: the last 20 % of each class of the F3 patches in file order (as fewlabels_f3.py and
seismic_patches.py); the first 80 % (3004 patches) is the survey's unlabelled rest. Starts compared:
ImageNet (the offline tf_efficientnet_lite0 weights), ``geotune pretrain --method bn`` and ``geotune pretrain
--method simsiam --minutes M`` on those 3004 patches without labels (time and peak RSS from the weights file).
For each start: the curve over 1, 2, 5, 10, 20 % of the rest labelled (5 draws each; the same draws for every
start), a logistic regression on the frozen backbone's features, as fewlabels_f3.py (ImageNet: 0.693 at 5 %);
and the plain user path at 5 % (draw 0): ``geotune train --weights W`` (default linear probe) then ``geotune
evaluate`` on the held-out block.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import RESULTS, SHARED, write_results

F3 = SHARED / "f3_fault_patches_sfd" / "f3_fault_patches_45x45.npz"
CLASS_NAMES = np.array(["nonfault", "fault"])


def generate(generator: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(patches n x 45 x 45, label names) from the chosen generator."""
    if generator == "before":
        from geotune.data.synthetic import make_patches

        x, y, classes = make_patches(n // 2, size=45, seed=seed, classes=("horizon", "fault"))
        return x, CLASS_NAMES[y]  # horizon -> nonfault, fault -> fault
    from geotune.data.synthetic import make_fault_patches

    x, y, classes = make_fault_patches(n, size=45, seed=seed, fault_fraction=0.5)
    assert tuple(classes) == tuple(CLASS_NAMES)
    return x, CLASS_NAMES[y]


def geotune(args: list[str], log: list[str]) -> None:
    command = [sys.executable, "-m", "geotune", *args]
    log.append("geotune " + " ".join(args))
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ})
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    print(f"  ({time.perf_counter() - started:.0f} s) geotune {' '.join(args)}", flush=True)


def fault_probability(csv_path: Path) -> np.ndarray:
    import pandas as pd

    table = pd.read_csv(csv_path)
    column = next(c for c in table.columns if c.endswith("fault") and "non" not in c and c != "predicted")
    return table[column].to_numpy(dtype=float)


def scores(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    from sklearn.metrics import f1_score, precision_score, recall_score

    pred = (p >= threshold).astype(int)
    return {"threshold": round(float(threshold), 4), "fault_f1": float(f1_score(y, pred, zero_division=0)),
            "fault_precision": float(precision_score(y, pred, zero_division=0)),
            "fault_recall": float(recall_score(y, pred, zero_division=0)), "accuracy": float((pred == y).mean())}


def best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
    return float(thresholds[int(np.argmax(f1[:-1]))])


def thin_to_fault_share(is_fault: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Indices keeping every non-fault and just enough faults for the given fault share."""
    nonfault, fault = np.flatnonzero(~is_fault), np.flatnonzero(is_fault)
    k = min(len(fault), int(round(share * len(nonfault) / (1.0 - share))))
    return np.sort(np.concatenate([nonfault, rng.choice(fault, k, replace=False)]))


def run_generator(generator: str, args, work: Path, y_f3: np.ndarray) -> dict:
    folder = work / generator
    folder.mkdir(parents=True)
    started = time.perf_counter()
    x, names = generate(generator, args.n, seed=args.seed)
    xv, names_v = generate(generator, args.n // 2, seed=args.seed + 1000)
    keep = thin_to_fault_share(names_v == "fault", args.val_fault_share, np.random.default_rng(args.seed))
    xv, names_v = xv[keep], names_v[keep]
    seconds_generate = time.perf_counter() - started
    for stem, array in (("train_data", x), ("train_labels", names), ("val_data", xv), ("val_labels", names_v)):
        np.save(folder / f"{stem}.npy", array)
    log: list[str] = []
    run = folder / "run"
    geotune(["train", "--data", str(folder / "train_data.npy"), "--labels", str(folder / "train_labels.npy"),
             "--out", str(run), "--image-size", str(args.image_size), "--epochs", str(args.epochs),
             "--seed", str(args.seed), "--strategy", "linear-probe"], log)  # the strategy the results were made with
    geotune(["evaluate", str(run), "--data", str(F3), "--out", str(folder / "eval_f3")], log)
    geotune(["predict", str(run), str(folder / "val_data.npy"), "--out", str(folder / "val_pred.csv")], log)
    geotune(["predict", str(run), str(F3), "--out", str(folder / "f3_pred.csv")], log)
    metrics = json.loads((folder / "eval_f3" / "metrics.json").read_text())
    fault = metrics["per_class"]["fault"]
    p_f3, p_val = fault_probability(folder / "f3_pred.csv"), fault_probability(folder / "val_pred.csv")
    y_val = (names_v == "fault").astype(int)
    threshold = best_threshold(y_val, p_val)
    from sklearn.metrics import roc_auc_score

    return {
        "train_patches": int(len(x)), "train_fault_fraction": float((names == "fault").mean()),
        "seconds_generate": round(seconds_generate, 1), "seconds_total": round(time.perf_counter() - started, 1),
        "commands": log,
        "evaluate": {"fault_f1": fault["f1"], "fault_precision": fault["precision"], "fault_recall": fault["recall"],
                     "accuracy": metrics["accuracy"], "roc_auc": metrics.get("roc_auc"),
                     "classes": metrics.get("classes"), "confusion_matrix": metrics["confusion_matrix"]},
        "roc_auc_from_predict": float(roc_auc_score(y_f3, p_f3)),
        "synthetic_val_auc": float(roc_auc_score(y_val, p_val)),
        "at_synthetic_val_threshold": scores(y_f3, p_f3, threshold),
        "synthetic_val_at_threshold": scores(y_val, p_val, threshold),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="synthetic", choices=["synthetic", "fewlabels", "synthetic-start", "tgs"],
                        help="synthetic: zero real labels; fewlabels: the few-label curve, ImageNet vs adapted start; "
                             "synthetic-start: supervised pre-training on generated faults, then few F3 labels; "
                             "tgs: TGS salt with 10 %% of the masks, ImageNet vs adapted encoder")
    parser.add_argument("--minutes", type=float, default=10.0, help="fewlabels, tgs: the SimSiam pretraining budget")
    parser.add_argument("--adapted", nargs="+", default=["bn", "simsiam"], choices=["bn", "simsiam"],
                        help="fewlabels: the adapted starts pretrained on F3's unlabelled rest")
    parser.add_argument("--synthetic", type=int, default=0,
                        help="fewlabels: also a start pretrained on this many synthetic patches, then on F3 (0: none)")
    parser.add_argument("--starts", type=int, default=3, help="synthetic-start: synthetic runs (seeds) compared")
    parser.add_argument("--synthetic-epochs", type=int, default=5, help="synthetic-start: epochs on generated patches")
    parser.add_argument("--tgs-fraction", type=float, default=0.10, help="tgs: share of the first 80 %% with masks")
    parser.add_argument("--tgs-steps", type=int, default=400, help="tgs: optimizer steps of each segmentation run")
    parser.add_argument("--n", type=int, default=2000, help="synthetic training patches per generator")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val-fault-share", type=float, default=0.134,
                        help="fault share of the synthetic validation set (F3's, as documented in SOURCE.md)")
    parser.add_argument("--generators", nargs="+", default=["before", "after"], choices=["before", "after"])
    args = parser.parse_args()
    if not F3.is_file():
        raise SystemExit(f"{F3} not found: this benchmark needs ../shared/data")
    if args.part == "fewlabels":
        from seismic_transfer_fewlabels import run_fewlabels

        return run_fewlabels(args, F3, geotune)
    if args.part == "synthetic-start":
        from seismic_transfer_synthetic_start import run_synthetic_start

        return run_synthetic_start(args, F3, geotune)
    if args.part == "tgs":
        from seismic_transfer_tgs import run_tgs

        return run_tgs(args, geotune)
    y_f3 = np.load(F3)["y"]
    assert [str(c) for c in np.load(F3)["class_names"]] == list(CLASS_NAMES)
    # the generators' pipelines run side by side (each step is its own geotune process) on the same F3 file
    from concurrent.futures import ThreadPoolExecutor

    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(len(args.generators)) as pool:
        futures = {g: pool.submit(run_generator, g, args, Path(tmp), y_f3) for g in args.generators}
        results = {g: f.result() for g, f in futures.items()}
    baseline = {"fault_f1": 0.0, "accuracy": float((y_f3 == 0).mean())}
    table = [("all-nonfault baseline", "-", "0.000", "0.000", "0.000", "-", f"{baseline['accuracy']:.3f}", "-", "-")]
    for generator, r in results.items():
        e, t = r["evaluate"], r["at_synthetic_val_threshold"]
        table.append((f"{generator} ({'make_patches horizon/fault' if generator == 'before' else 'make_fault_patches'})",
                      r["train_patches"], f"{e['fault_f1']:.3f}", f"{e['fault_precision']:.3f}",
                      f"{e['fault_recall']:.3f}", f"{e['roc_auc'] if e['roc_auc'] is not None else r['roc_auc_from_predict']:.3f}",
                      f"{e['accuracy']:.3f}", f"{t['fault_f1']:.3f} (P {t['fault_precision']:.3f}, R {t['fault_recall']:.3f}, "
                      f"thr {t['threshold']:.3f})", f"{r['seconds_total']:.0f}"))
    header = ("generator", "synthetic train patches", "F3 fault F1", "precision", "recall", "ROC-AUC", "accuracy",
              "F1 at threshold from synthetic val", "s")
    payload = {"f3_patches": int(len(y_f3)), "f3_fault_fraction": float(y_f3.mean()), "baseline": baseline,
               "settings": vars(args), "results": results,
               "looked_at": "8 fault and 8 nonfault F3 patches (a PNG, not committed), the mean amplitude spectrum "
                            "along both axes and the std of all patches; nothing was tuned on F3 scores"}
    write_results("seismic_transfer", payload, table, header)
    append_notes(json.loads((RESULTS / "seismic_transfer.json").read_text()))


def append_notes(payload: dict) -> None:
    """The commands each generator's numbers came from, and what was looked at on F3, under the table."""
    lines = ["", f"F3: {payload['f3_patches']} patches, {payload['f3_fault_fraction']:.3f} fault; zero F3 labels used "
             "in training or for choosing anything. Looked at: " + payload["looked_at"] + ".", ""]
    for generator, r in payload["results"].items():
        lines.append(f"{generator}: synthetic validation AUC {r['synthetic_val_auc']:.3f}; commands:")
        lines += [f"    {command}" for command in r["commands"]]
    with open(RESULTS / "seismic_transfer.md", "a") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
