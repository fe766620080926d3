"""`--strategy auto` (default time budget) against the former default, `--strategy linear-probe` (the rows named
"default"; auto has been the default since this benchmark), and the
fixed strategies, through the plain API a user would call (geotune.api finetune + evaluate).

    PYTHONPATH=src .venv/bin/python benchmarks/strategy_auto.py [--parts f3 landmass f3_5pct f3_5pct_draws]
        [--draws 2] [--fixed linear-probe fewshot gradual full]

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
             "fewshot": ("linear-probe --fewshot on", {"fewshot": "on"}),
             "gradual": ("gradual", {"strategy": "gradual"}), "full": ("full", {"strategy": "full"})}
    runs = {"auto": {"strategy": "auto"}, **{fixed[k][0]: fixed[k][1] for k in FIXED}}
    slug = lambda name: "f3_5_" + "".join(ch if ch.isalnum() else "_" for ch in name)  # noqa: E731  one run folder each
    return {name: train_and_test(work, slug(name), train, test, "fault", **options) for name, options in runs.items()}


def f3_5pct_draws(work: Path, draws: int) -> dict:
    """F3 with 5 % of the labels over several label draws: auto (with the tiny-data fine-tuning candidate)
    against the fixed strategies named by --fixed (default: full, the best fixed one on draw 0)."""
    x, labels, _, test_index = f3_split(0.05, 0)
    test = save_split(work, "f3_test", x, labels, test_index)
    fixed = {"linear-probe": {"strategy": "linear-probe"}, "fewshot": {"fewshot": "on"},
             "gradual": {"strategy": "gradual"}, "full": {"strategy": "full"}}
    out = {}
    for draw in range(draws):
        _, _, train_index, _ = f3_split(0.05, draw)
        train = save_split(work, f"f3_5_train{draw}", x, labels, train_index)
        runs = {"auto": {"strategy": "auto"}, **{k: fixed[k] for k in FIXED}}
        out[f"draw{draw}"] = {name: train_and_test(work, f"f3_5_d{draw}_{name.replace('-', '_')}", train, test,
                                                   "fault", **options) for name, options in runs.items()}
    return out


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
    for draw, runs in (results.get("f3_5pct_draws") or {}).items():
        for run, r in runs.items():
            row(f"F3 faults, 5 % of labels, {draw}", run, r, "test_f1_fault", "fault F1")
    for part, runs in (results.get("partial") or {}).items():  # parts stopped before they finished
        for run, r in runs.items():
            key = "test_f1_fault" if "test_f1_fault" in r else "test_accuracy"
            row(f"{part} (part not finished)", run, r, key, "fault F1" if key == "test_f1_fault" else "accuracy")
    return lines


def main() -> None:
    global SAVE
    parser = argparse.ArgumentParser()
    parser.add_argument("--parts", nargs="+", default=["f3", "landmass", "f3_5pct"],
                        choices=["f3", "landmass", "f3_5pct", "f3_5pct_draws"])
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--fixed", nargs="+", default=FIXED, choices=FIXED)
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

    for part in args.parts:
        started = time.perf_counter()
        partial = results.setdefault("partial", {}).setdefault(part, {})

        def save(name, row, partial=partial):
            partial[name] = row
            write()

        SAVE = save
        results[part] = (landmass(work, args.draws) if part == "landmass" else
                         f3_5pct_draws(work, args.draws) if part == "f3_5pct_draws" else globals()[part](work))
        results["partial"].pop(part, None)
        results.setdefault("seconds", {})[part] = round(time.perf_counter() - started, 1)
        results.setdefault("machine", {})[part] = machine()
        write()
    print((RESULTS / "strategy_auto.md").read_text())


if __name__ == "__main__":
    main()
