"""`--strategy auto` (default time budget) against the former default, `--strategy linear-probe` (the rows named
"default"; auto has been the default since this benchmark), and the
fixed strategies, through the plain API a user would call (geotune.api finetune + evaluate).

    PYTHONPATH=src .venv/bin/python benchmarks/strategy_auto.py [--parts f3 landmass f3_5pct f3_5pct_draws]
        [--draws 2] [--fixed linear-probe fewshot gradual full]

    The tiny-data fine-tuning recipe's CV and test scores per epoch, per label draw (how it was chosen):
    PYTHONPATH=src .venv/bin/python benchmarks/strategy_auto.py --parts f3_5pct_recipe --draws 3
    Single heads on Lite0 64 px features, same draws (what choosing among probes costs):
    PYTHONPATH=src .venv/bin/python benchmarks/strategy_auto.py --parts f3_5pct_heads --draws 5
    F3 5 % over 3 label draws, auto against full fine-tuning (issue #21):
    PYTHONPATH=src .venv/bin/python benchmarks/strategy_auto.py --parts f3_5pct_draws --draws 3 --fixed full

(a) LANDMASS-1 subset: 10 labelled patches per class drawn at random from each class's first 375, tested on
    the last 125 of each class (target: auto >= 0.95; today's default 0.694, logistic regression 0.917).
(b) F3 fault patches: the last 20 % of each class held out (target: auto fault F1 >= 0.90; default 0.71).
(c) F3 with 5 % of the training labels (stratified draw, as benchmarks/fewlabels_f3.py): auto no worse than
    the best fixed strategy (f3_5pct: draw 0, every fixed strategy; f3_5pct_draws: --draws label draws).
The budget is wall-clock: on a loaded machine the search scores fewer candidates (load averages recorded).
Writes benchmarks/results/strategy_auto.{json,md}; parts run separately are merged into the same files.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from _common import RESULTS, SHARED, machine


def save_split(work: Path, name: str, x, labels, index) -> tuple[Path, Path]:
    np.save(work / f"{name}.npy", x[index])
    np.save(work / f"{name}_labels.npy", labels[index])
    return work / f"{name}.npy", work / f"{name}_labels.npy"


def train_and_test(work: Path, name: str, train, test, positive: str | None = None, **options) -> dict:
    """One `geotune train` (API) run and `geotune evaluate` on the held-out files."""
    from geotune.api import evaluate, finetune

    started, load = time.perf_counter(), os.getloadavg()[0]
    summary = finetune(train[0], work / name, labels=train[1], **options)
    seconds = time.perf_counter() - started
    metrics = evaluate(work / name, test[0], labels=test[1])
    row = {"options": options, "test_accuracy": round(metrics["accuracy"], 4),
           "test_macro_f1": round(metrics["macro_f1"], 4), "train_seconds": round(seconds, 1),
           "load_average_at_start": round(load, 2), "validation": summary["metrics"].get("evaluated_on"),
           "validation_macro_f1": round(summary["metrics"]["macro_f1"], 4),
           "validation_accuracy": round(summary["metrics"]["accuracy"], 4)}
    if positive:
        row["test_f1_" + positive] = round(metrics["per_class"][positive]["f1"], 4)
    search = summary["metrics"].get("search")
    if search:
        row["chosen"] = search["chosen"]
        row["candidates"] = [{k: c.get(k) for k in ("recipe", "status", "macro_f1", "n_val", "seconds")}
                             for c in search["candidates"]]
    print(name, {k: v for k, v in row.items() if k != "candidates"}, flush=True)
    if SAVE is not None:
        SAVE(name, row)
    return row


SAVE = None  # called with (run name, row) after every run, so that a long benchmark keeps what it measured


def landmass(work: Path, draws: int) -> dict:
    archive = np.load(SHARED / "landmass1_subset_2000" / "landmass1_subset_99x99.npz")
    x, y, names = archive["X"], archive["y"], archive["class_names"]
    labels = names[y]
    test_index = np.concatenate([np.flatnonzero(y == c)[375:] for c in range(len(names))])
    test = save_split(work, "landmass_test", x, labels, test_index)
    out = {}
    for draw in range(draws):
        rng = np.random.default_rng(draw)
        pick = np.concatenate([rng.choice(np.flatnonzero(y == c)[:375], 10, replace=False) for c in range(len(names))])
        train = save_split(work, f"landmass_train{draw}", x, labels, pick)
        out[f"draw{draw}"] = {"default": train_and_test(work, f"lm{draw}_default", train, test,
                                                         strategy="linear-probe"),
                              "auto": train_and_test(work, f"lm{draw}_auto", train, test, strategy="auto")}
    return out


def f3_split(fraction_labelled: float = 1.0, draw: int = 0):
    archive = np.load(SHARED / "f3_fault_patches_sfd" / "f3_fault_patches_45x45.npz")
    x, y, names = archive["X"], archive["y"], archive["class_names"]
    train, test = [], []
    rng = np.random.default_rng(draw)
    for c in range(len(names)):
        index = np.flatnonzero(y == c)
        cut = int(round(0.8 * len(index)))
        pool = index[:cut]
        if fraction_labelled < 1:
            pool = np.sort(rng.choice(pool, max(2, int(round(fraction_labelled * cut))), replace=False))
        train.append(pool)
        test.append(index[cut:])
    return x, names[y], np.concatenate(train), np.concatenate(test)


def f3(work: Path) -> dict:
    x, labels, train_index, test_index = f3_split()
    train = save_split(work, "f3_train", x, labels, train_index)
    test = save_split(work, "f3_test", x, labels, test_index)
    return {"default": train_and_test(work, "f3_default", train, test, "fault", strategy="linear-probe"),
            "auto": train_and_test(work, "f3_auto", train, test, "fault", strategy="auto")}


FIXED = ["linear-probe", "fewshot", "gradual", "full"]  # --fixed: the fixed strategies compared in f3_5pct


def f3_5pct(work: Path) -> dict:
    x, labels, train_index, test_index = f3_split(0.05)
    train = save_split(work, "f3_5_train", x, labels, train_index)
    test = save_split(work, "f3_test", x, labels, test_index)
    fixed = {"linear-probe": ("linear-probe (default)", {"strategy": "linear-probe"}),
             "fewshot": ("linear-probe --fewshot on", {"strategy": "linear-probe", "fewshot": "on"}),
             "gradual": ("gradual", {"strategy": "gradual"}), "full": ("full", {"strategy": "full"})}
    runs = {"auto": {"strategy": "auto"}, **{fixed[k][0]: fixed[k][1] for k in FIXED}}
    slug = lambda name: "f3_5_" + "".join(ch if ch.isalnum() else "_" for ch in name)  # noqa: E731  one run folder each
    return {name: train_and_test(work, slug(name), train, test, "fault", **options) for name, options in runs.items()}


def f3_5pct_draws(work: Path, draws: int, first: int = 0, auto: bool = True) -> dict:
    """F3 with 5 % of the labels over several label draws: auto (with the tiny-data fine-tuning candidate)
    against the fixed strategies named by --fixed (default: full, the best fixed one on draw 0)."""
    x, labels, _, test_index = f3_split(0.05, 0)
    test = save_split(work, "f3_test", x, labels, test_index)
    fixed = {"linear-probe": {"strategy": "linear-probe"}, "fewshot": {"strategy": "linear-probe", "fewshot": "on"},
             "gradual": {"strategy": "gradual"}, "full": {"strategy": "full"}}
    out = {}
    for draw in range(first, first + draws):
        _, _, train_index, _ = f3_split(0.05, draw)
        train = save_split(work, f"f3_5_train{draw}", x, labels, train_index)
        runs = {**({"auto": {"strategy": "auto"}} if auto else {}), **{k: fixed[k] for k in FIXED}}
        out[f"draw{draw}"] = {name: train_and_test(work, f"f3_5_d{draw}_{name.replace('-', '_')}", train, test,
                                                   "fault", **options) for name, options in runs.items()}
    return out


def f3_5pct_heads(work: Path, draws: int) -> dict:
    """Held-out fault F1 of single heads on frozen EfficientNet-Lite0 features at 64 px, on the draws of
    f3_5pct_draws: geotune's few-shot head (its own internal choice) and a plain logistic regression. How much
    does auto lose by choosing among six probes on 150 labels?"""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    import seismic_transfer_fewlabels as transfer  # beside this script, like _common
    from geotune.fewlabels.fewshot import fit_fewshot

    file = SHARED / "f3_fault_patches_sfd" / "f3_fault_patches_45x45.npz"
    features = transfer.features(file, None)
    archive = np.load(file)
    y, fault = archive["y"], [str(c) for c in archive["class_names"]].index("fault")
    out = {}
    for draw in range(draws):
        _, _, train, test = f3_split(0.05, draw)
        head = fit_fewshot(features[train], y[train], reference=features[train])
        logistic = LogisticRegression(max_iter=2000).fit(features[train], y[train])
        out[f"draw{draw}"] = {"fewshot_lite0_64": round(float(f1_score(y[test], head.predict(features[test]),
                                                                        pos_label=fault)), 4),
                              "fewshot_method": head.method,
                              "logistic_lite0_64": round(float(f1_score(y[test], logistic.predict(features[test]),
                                                                         pos_label=fault)), 4)}
        print(draw, out[f"draw{draw}"], flush=True)
    return out


def epoch_snapshots(datasets, every: int = 1):
    """A Lightning callback keeping class probabilities of ``datasets`` after every ``every``-th epoch (None
    between): the learning rate is constant, so epoch e of a long fit is what a fit of e epochs gives."""
    import lightning.pytorch as pl
    import torch
    from torch.utils.data import DataLoader

    class Snapshots(pl.Callback):
        def __init__(self):
            self.probabilities = []

        def on_train_epoch_end(self, trainer, module):
            if (trainer.current_epoch + 1) % every:
                self.probabilities.append(None)
                return
            module.eval()
            with torch.no_grad():
                self.probabilities.append([torch.cat([
                    module(batch.contiguous(memory_format=torch.channels_last)).float().softmax(1)
                    for batch in DataLoader(data, batch_size=128)]).numpy() for data in datasets])
            module.train()

    return Snapshots()


def fine_tune_with_snapshots(cfg, samples, y, train_idx, val_idx, datasets, every=1) -> list:
    """The tiny-data candidate's fit (FineTuneModule, as train_one runs it) with per-epoch snapshots."""
    import lightning.pytorch as pl
    from geotune.data.classify_datamodule import ClassificationDataModule
    from geotune.models.classifier import build_classifier
    from geotune.training.classify import _fit
    from geotune.training.modules import FineTuneModule, GradualUnfreeze, class_weight_tensor

    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    classes = [str(c) for c in range(int(y.max()) + 1)]
    model, _ = build_classifier({"backbone": cfg.backbone, "in_chans": samples.channels, "classes": classes,
                                 "head": cfg.head}, True, None)
    weights = class_weight_tensor(y[train_idx], len(classes)) if cfg.class_weights else None
    data = ClassificationDataModule.from_dataset(samples, y, np.ones(len(y), np.float32), train_idx, val_idx,
                                                 cfg.batch_size, 0, cfg.seed)
    module = FineTuneModule(model, cfg.lr, cfg.optimizer, cfg.weight_decay, cfg.strategy, cfg.lr_decay,
                            cfg.unfreeze_every, cfg.seed, cfg.augment, weights)
    snapshots = epoch_snapshots(datasets, every)
    _fit(cfg, module, data.train, data.val, None, [GradualUnfreeze(), snapshots], True)
    return snapshots.probabilities


def recipe_curves(work: Path, name: str, split, positive: str | None, **options) -> dict:
    """Out-of-fold macro F1 on the search's own folds, and held-out test score of the final fit on every label,
    after each epoch of a fine-tuning recipe: does the CV score pick what the test rewards, and at which epoch?"""
    from sklearn.metrics import f1_score
    from torch.utils.data import Subset

    from geotune.config import TrainConfig
    from geotune.data.samples import class_names, open_dataset
    from geotune.training.auto import make_folds
    from geotune.training.classify import encode

    x, labels, train_index, test_index = split
    train = save_split(work, f"{name}_train", x, labels, train_index)
    test = save_split(work, f"{name}_test", x, labels, test_index)
    started, load = time.perf_counter(), os.getloadavg()[0]
    cfg = TrainConfig(data=str(train[0]), labels=str(train[1]), **options)
    samples = open_dataset(cfg.data, cfg.labels, cfg.image_size)
    classes = class_names(samples.labels, cfg.data)
    y = encode(samples.labels, classes)
    test_samples = open_dataset(str(test[0]), str(test[1]), cfg.image_size)
    y_test = encode(test_samples.labels, classes)
    folds, _, how = make_folds(cfg, y, None)
    oof = np.zeros((cfg.epochs, len(y), len(classes)))
    for train_idx, val_idx in folds:
        for epoch, snap in enumerate(fine_tune_with_snapshots(cfg, samples, y, train_idx, val_idx,
                                                              [Subset(samples, val_idx)])):
            oof[epoch, val_idx] = snap[0]
    cv_seconds = time.perf_counter() - started
    final = fine_tune_with_snapshots(cfg, samples, y, np.arange(len(y)), np.arange(min(8, len(y))),
                                     [test_samples], every=2)

    def score(truth, proba):
        pred = proba.argmax(1)
        if positive:
            return round(float(f1_score(truth, pred, pos_label=classes.index(positive), average="binary")), 4)
        return round(float(np.mean(pred == truth)), 4)

    row = {"options": options, "validation": how,
           "cv_macro_f1_by_epoch": [round(float(f1_score(y, p.argmax(1), average="macro")), 4) for p in oof],
           "test_by_epoch": [None if s is None else score(y_test, s[0]) for s in final],
           "test_score": "fault F1" if positive else "accuracy", "cv_seconds": round(cv_seconds, 1),
           "seconds": round(time.perf_counter() - started, 1), "load_average_at_start": round(load, 2)}
    if positive:
        row["cv_fault_f1_by_epoch"] = [score(y, p) for p in oof]
    print(name, row, flush=True)
    if SAVE is not None:
        SAVE(name, row)
    return row


TINY_RECIPE = {"strategy": "full", "backbone": "tf_efficientnet_lite0", "image_size": 64, "epochs": 12,
               "class_weights": True, "lr": 3e-4}


def f3_5pct_recipe(work: Path, draws: int) -> dict:
    """The tiny-data fine-tuning recipe on F3 5 % per label draw (CV and test by epoch): --recipe options."""
    return {f"draw{d}": recipe_curves(work, f"f3r{d}", f3_split(0.05, d), "fault", **TINY_RECIPE)
            for d in range(draws)}


def table(results: dict) -> list[str]:
    lines = ["| data | run | test score | validation score (how) | train s | load avg | chosen by auto |",
             "|---|---|---|---|---|---|---|"]

    def row(data, run, r, score_key, label):
        lines.append(f"| {data} | {run} | {label} {r[score_key]:.3f} | {r['validation_macro_f1']:.3f} macro F1 "
                     f"({r['validation']}) | {r['train_seconds']:.0f} | {r['load_average_at_start']:.1f} | "
                     f"{r.get('chosen', '')} |")

    for draw, runs in (results.get("landmass") or {}).items():
        for run, r in runs.items():
            row(f"LANDMASS 10/class, {draw}", run, r, "test_accuracy", "accuracy")
    for run, r in (results.get("f3") or {}).items():
        row("F3 faults, last 20 % held out", run, r, "test_f1_fault", "fault F1")
    for run, r in (results.get("f3_5pct") or {}).items():
        row("F3 faults, 5 % of labels", run, r, "test_f1_fault", "fault F1")
    draws = results.get("f3_5pct_draws") or {}
    for draw, runs in draws.items():
        for run, r in runs.items():
            row(f"F3 faults, 5 % of labels, {draw}", run, r, "test_f1_fault", "fault F1")
    if len(draws) > 1:
        for run in dict.fromkeys(run for runs in draws.values() for run in runs):
            scores = [runs[run]["test_f1_fault"] for runs in draws.values() if run in runs]
            lines.append(f"| F3 faults, 5 % of labels, mean of {len(scores)} draws | {run} | fault F1 "
                         f"{np.mean(scores):.3f} (min {min(scores):.3f}, max {max(scores):.3f}) | | | | |")
    for part, runs in (results.get("partial") or {}).items():  # parts stopped before they finished
        for run, r in runs.items():
            key = "test_f1_fault" if "test_f1_fault" in r else "test_accuracy"
            row(f"{part} (part not finished)", run, r, key, "fault F1" if key == "test_f1_fault" else "accuracy")
    heads = results.get("f3_5pct_heads") or {}
    if heads:
        for key, label in (("fewshot_lite0_64", "few-shot head, Lite0 64 px (no search)"),
                           ("logistic_lite0_64", "logistic regression, Lite0 64 px (no search)")):
            scores = [r[key] for r in heads.values()]
            lines.append(f"| F3 faults, 5 % of labels, mean of {len(scores)} draws | {label} | fault F1 "
                         f"{np.mean(scores):.3f} (min {min(scores):.3f}, max {max(scores):.3f}) | | | | |")
    curves = results.get("f3_5pct_recipe") or {}
    if curves:
        lines += ["", "Tiny-data fine-tuning recipe, per epoch (part f3_5pct_recipe): out-of-fold macro F1 on the "
                  "search's 5 folds, and the held-out test fault F1 of the final fit on all 150 labels.", "",
                  "| draw | options | CV macro F1 by epoch | test fault F1 by epoch (every 2nd) | s | load avg |",
                  "|---|---|---|---|---|---|"]
        for draw, r in curves.items():
            lines.append(f"| {draw} | {_plain_options(r['options'])} | {' '.join(map(str, r['cv_macro_f1_by_epoch']))} "
                         f"| {' '.join(str(v) for v in r['test_by_epoch'] if v is not None)} | {r['seconds']:.0f} "
                         f"| {r['load_average_at_start']:.1f} |")
    notes = results.get("notes") or []  # measurements made outside a full part, each saying how
    if notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in notes]
    return lines


def merge_draws(old: dict, new: dict) -> dict:
    """Runs of each draw added to (or replacing) those already measured."""
    merged = {draw: dict(runs) for draw, runs in old.items()}
    for draw, runs in new.items():
        merged.setdefault(draw, {}).update(runs)
    return merged


def _plain_options(options: dict) -> str:
    return " ".join(f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}") for k, v in options.items())


def main() -> None:
    global SAVE
    parser = argparse.ArgumentParser()
    parser.add_argument("--parts", nargs="+", default=["f3", "landmass", "f3_5pct"],
                        choices=["f3", "landmass", "f3_5pct", "f3_5pct_draws", "f3_5pct_recipe", "f3_5pct_heads"])
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--without-auto", action="store_true",
                        help="f3_5pct_draws: only the --fixed strategies (added to the runs already in the results)")
    parser.add_argument("--first-draw", type=int, default=0,
                        help="f3_5pct_draws: the first label draw (draws are added to those already in the results)")
    parser.add_argument("--fixed", nargs="*", default=FIXED, choices=FIXED, help="none: auto alone")
    parser.add_argument("--markdown-only", action="store_true", help="rewrite the .md from the .json, run nothing")
    args = parser.parse_args()
    FIXED[:] = args.fixed
    warnings.filterwarnings("ignore")
    work = Path(tempfile.mkdtemp(prefix="geotune-auto-"))
    file = RESULTS / "strategy_auto.json"
    results = json.loads(file.read_text()) if file.is_file() else {}
    RESULTS.mkdir(parents=True, exist_ok=True)

    def write() -> None:
        file.write_text(json.dumps(results, indent=2, default=str) + "\n")
        lines = ["# strategy_auto", "", "Command: `PYTHONPATH=src .venv/bin/python benchmarks/strategy_auto.py "
                 "[--parts ...]`; default time budget (10 min); test = held-out files scored by `geotune evaluate`.",
                 "Rows named \"default\" are the default of their time, `--strategy linear-probe`; `auto` has been "
                 "the default since. Rows of the parts f3, landmass and f3_5pct predate later search changes (ties to "
                 "the cheapest measured recipe, time kept for the final fit, few-shot head first; on tiny data the "
                 "full fine-tuning candidate of issue #21) unless rerun; rows with a draw under \"F3 faults, 5 % "
                 "of labels, drawN\" (part f3_5pct_draws) have them.",
                 "The machine is shared: the load average at the start of each run is given (2 cores; above 2 every "
                 "process gets a fraction of a core, and the wall-clock budget buys fewer candidates).", ""]
        (RESULTS / "strategy_auto.md").write_text("\n".join(lines + table(results)) + "\n")

    for part in [] if args.markdown_only else args.parts:
        started = time.perf_counter()
        partial = results.setdefault("partial", {}).setdefault(part, {})

        def save(name, row, partial=partial):
            partial[name] = row
            write()

        SAVE = save
        results[part] = (landmass(work, args.draws) if part == "landmass" else
                         merge_draws(results.get(part) or {},
                                     f3_5pct_draws(work, args.draws, args.first_draw, not args.without_auto))
                         if part == "f3_5pct_draws" else
                         f3_5pct_recipe(work, args.draws) if part == "f3_5pct_recipe" else
                         f3_5pct_heads(work, args.draws) if part == "f3_5pct_heads" else globals()[part](work))
        results["partial"].pop(part, None)
        results.setdefault("seconds", {})[part] = round(time.perf_counter() - started, 1)
        results.setdefault("machine", {})[part] = machine()
        write()
    write()
    print((RESULTS / "strategy_auto.md").read_text())


if __name__ == "__main__":
    main()
