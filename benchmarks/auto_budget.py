"""`geotune train --strategy auto --time-budget 20` on ~1,500 images of a few hundred pixels (issue #21): does
the search reach a fine-tuned model within its budget, and does it beat a linear probe on held-out files?

    PYTHONPATH=src .venv/bin/python benchmarks/auto_budget.py [--runs probe before after] [--budget 20]
        [--train-per-class 500] [--test-per-class 167] [--size 300] [--before-src /work/main/src] [--after-src src]

Proxy for a thin-section set (3 classes, ~1,500 training photographs): TGS salt tiles (../shared/data,
restricted: only numbers leave this script) classed by salt cover -- none, some (below the median cover of
the tiles with salt) and mostly -- drawn balanced, upsampled from 101 px to ``--size`` px (bicubic) and saved
as RGB PNG files in class folders in a temporary directory, so decoding and compute cost what real photographs
would. The first ``--train-per-class`` tiles of each class (in the set's id order) train, the next
``--test-per-class`` are the test set, scored by `geotune evaluate`.
Runs, each the whole command line timed (`python -m geotune train ...`), then `geotune evaluate`:
  probe   --strategy linear-probe (frozen EfficientNet-Lite0 + trained head): the baseline to beat
  before  --strategy auto --time-budget B with the code of ``--before-src`` (the main checkout before #21)
  after   --strategy auto --time-budget B with this checkout's code
The budget is wall-clock and the machine is shared: the load average at start and end of each run is recorded.
Writes benchmarks/results/auto_budget.{json,md}; runs done separately are merged into the same files.
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

from _common import RESULTS, SHARED, machine

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("none", "some", "mostly")


def build_set(work: Path, per_train: int, per_test: int, size: int) -> dict:
    """Class folders of PNG files under work/train and work/test; returns counts and the cover threshold."""
    from PIL import Image

    archive = np.load(SHARED / "tgs_salt_train" / "tgs_salt_train_101x101.npz")
    images, masks = archive["images"], archive["masks"]
    cover = masks.reshape(len(masks), -1).mean(1)
    blank = images.reshape(len(images), -1).std(1) == 0  # constant tiles carry no information about their class
    threshold = float(np.median(cover[cover > 0]))
    label = np.where(cover == 0, 0, np.where(cover < threshold, 1, 2))
    counts = {}
    for c, name in enumerate(CLASSES):
        index = np.flatnonzero((label == c) & ~blank)
        if len(index) < per_train + per_test:
            raise SystemExit(f"class {name} has {len(index)} tiles, fewer than {per_train + per_test}")
        for part, chosen in (("train", index[:per_train]), ("test", index[per_train:per_train + per_test])):
            folder = work / part / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in chosen:
                grey = Image.fromarray(images[i]).resize((size, size), Image.BICUBIC)
                Image.merge("RGB", (grey, grey, grey)).save(folder / f"tile{i:04d}.png")
        counts[name] = {"train": per_train, "test": per_test}
    return {"classes": counts, "cover_threshold": round(threshold, 4), "image_size": size,
            "source": "tgs_salt_train (restricted; numbers only)"}


def run_cli(src: Path, args: list[str], log: Path, timeout: float) -> tuple[int, float]:
    env = {**os.environ, "PYTHONPATH": str(src), "GEOTUNE_PROGRESS": "1"}
    started = time.perf_counter()
    with open(log, "a") as handle:
        handle.write(f"$ geotune {' '.join(args)}\n")
        handle.flush()
        try:
            rc = subprocess.run([sys.executable, "-m", "geotune", *args], env=env, stdout=handle, stderr=handle,
                                timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = 124
    return rc, time.perf_counter() - started


def one_run(name: str, src: Path, work: Path, options: list[str], timeout: float) -> dict:
    run = work / "runs" / name
    log = work / f"{name}.log"
    load_start = os.getloadavg()[0]
    rc, seconds = run_cli(src, ["train", "--data", str(work / "train"), "--out", str(run), *options], log, timeout)
    row = {"options": " ".join(options), "code": str(src), "train_rc": rc, "train_wall_s": round(seconds, 1),
           "load_average_start": round(load_start, 2), "load_average_end": round(os.getloadavg()[0], 2)}
    if rc == 0:
        rc, eval_s = run_cli(src, ["evaluate", str(run), "--data", str(work / "test"), "--out", str(run / "eval")],
                             log, timeout)
        row["evaluate_wall_s"] = round(eval_s, 1)
        if rc == 0:
            test = json.loads((run / "eval" / "metrics.json").read_text())
            row["test_accuracy"], row["test_macro_f1"] = round(test["accuracy"], 4), round(test["macro_f1"], 4)
        metrics = json.loads((run / "model" / "metrics.json").read_text())
        config = json.loads((run / "model" / "config.json").read_text())
        row["validation_accuracy"] = round(metrics["accuracy"], 4)
        search = metrics.get("search")
        if search:
            row["chosen"] = search["chosen"]
            row["search_s"] = search.get("seconds")
            row["candidates"] = [{k: c.get(k) for k in ("recipe", "status", "accuracy", "seconds")}
                                 for c in search["candidates"]]
        row["tta"] = config.get("tta")
    print(name, {k: v for k, v in row.items() if k != "candidates"}, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", nargs="+", default=["probe", "before", "after"])
    parser.add_argument("--budget", type=float, default=20.0)
    parser.add_argument("--train-per-class", type=int, default=500)
    parser.add_argument("--test-per-class", type=int, default=167)
    parser.add_argument("--size", type=int, default=300)
    parser.add_argument("--before-src", default="/work/main/src")
    parser.add_argument("--after-src", default=str(ROOT / "src"), help="this checkout's code (or a copy of it)")
    parser.add_argument("--extra", default="", help="more `geotune train` options for the auto runs, e.g. "
                        "'--backbone tf_efficientnet_lite0 --image-size 160' (the search then varies the rest)")
    parser.add_argument("--work", default=None, help="keep the data and runs here (default: a temporary folder)")
    args = parser.parse_args()
    out_json = RESULTS / "auto_budget.json"
    previous = json.loads(out_json.read_text()) if out_json.is_file() else {}
    results = previous.get("runs", {})
    timeout = args.budget * 60 * 2 + 600
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        data = build_set(work, args.train_per_class, args.test_per_class, args.size)
        print("data", data, "in", work, flush=True)
        auto = ["--strategy", "auto", "--time-budget", f"{args.budget:g}", *args.extra.split()]
        plans = {"probe": (ROOT / "src", ["--strategy", "linear-probe"]),
                 "before": (Path(args.before_src), auto), "after": (Path(args.after_src), auto)}
        for name in args.runs:
            src, options = plans[name]
            key = f"{name} ({args.train_per_class * 3} train, {args.size}px, budget {args.budget:g}{' ' + args.extra if args.extra else ''})"
            results[key] = one_run(name, src, work, options, timeout)
            save(data, results, args)


def save(data: dict, results: dict, args) -> None:
    out_json = RESULTS / "auto_budget.json"
    if out_json.is_file():  # another invocation may have added runs meanwhile
        results = {**json.loads(out_json.read_text()).get("runs", {}), **results}
    payload = {"benchmark": "auto_budget", "date": time.strftime("%Y-%m-%d %H:%M"),
               "command": "python benchmarks/auto_budget.py " + " ".join(sys.argv[1:]), "machine": machine(),
               "data": data, "runs": results}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "auto_budget.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    lines = ["# auto_budget", "", f"Command: `{payload['command']}`  ",
             "Data: TGS salt tiles (restricted, numbers only) classed by salt cover (none / some / mostly), "
             f"upsampled to {data['image_size']} px RGB PNG; test = held-out tiles scored by `geotune evaluate`.  ",
             f"Machine: {payload['machine'].get('cpu', '?')}, {payload['machine']['cpus']} cores (shared; load "
             "averages per run).", "",
             "| run | test accuracy | test macro F1 | train wall s | load avg start/end | chosen | TTA |",
             "|---|---|---|---|---|---|---|"]
    for key, row in results.items():
        lines.append(f"| {key} | {row.get('test_accuracy', '-')} | {row.get('test_macro_f1', '-')} | "
                     f"{row['train_wall_s']} | {row['load_average_start']} / {row['load_average_end']} | "
                     f"{row.get('chosen', '')} | {row.get('tta', '')} |")
    (RESULTS / "auto_budget.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
