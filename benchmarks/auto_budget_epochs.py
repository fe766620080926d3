"""What one epoch of gradual fine-tuning (activation cache on, as `--strategy auto` runs it) costs, in frozen
forward passes over every sample: the calibration of geotune.training.auto_budget.PASSES_PER_EPOCH.

    PYTHONPATH=src .venv/bin/python benchmarks/auto_budget_epochs.py [--n 240] [--size 128] [--epochs 5]

Random pixels (the cost does not depend on them), EfficientNet-Lite0, 80 % training split. One process times
a frozen forward pass over every sample, then each epoch of `train_one` with --strategy gradual. The ratio is
what matters (both sides run under the same load; the load average is recorded).
Writes benchmarks/results/auto_budget_epochs.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import write_results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=240)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    from geotune.config import TrainConfig
    from geotune.data.samples import open_dataset
    from geotune.models.classifier import build_classifier
    from geotune.training.auto_budget import TimeLimit
    from geotune.training.classify import train_one
    from geotune.training.features import extract_features

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, args.n)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "x.npy", rng.random((args.n, 3, args.size, args.size)).astype(np.float16))
        np.save(Path(tmp) / "y.npy", np.asarray(["a", "b", "c"])[y])
        samples = open_dataset(Path(tmp) / "x.npy", Path(tmp) / "y.npy", args.size)
        model, _ = build_classifier({"backbone": "tf_efficientnet_lite0", "in_chans": 3, "classes": ["a", "b", "c"],
                                     "head": "linear"}, True)
        load_start = os.getloadavg()[0]
        started = time.perf_counter()
        extract_features(model, samples)
        forward = time.perf_counter() - started
        cfg = TrainConfig(strategy="gradual", image_size=args.size, epochs=args.epochs)
        limit = TimeLimit(time.perf_counter() + 1e6)
        split = int(0.8 * args.n)
        idx = np.arange(args.n)
        train_one(cfg, model, samples, y, np.ones(args.n, dtype=np.float32), idx[:split], idx[split:], None,
                  quiet=True, callbacks=[limit])
    passes = [round(s / forward, 2) for s in limit.epoch_seconds]
    payload = {"n": args.n, "size": args.size, "forward_pass_s": round(forward, 1), "epoch_seconds":
               limit.epoch_seconds, "passes_per_epoch": passes, "load_average_start": round(load_start, 2),
               "load_average_end": round(os.getloadavg()[0], 2)}
    rows = [(i + 1, s, p) for i, (s, p) in enumerate(zip(limit.epoch_seconds, passes))]
    write_results("auto_budget_epochs", payload, rows, ("epoch", "seconds", "frozen forward passes"))


if __name__ == "__main__":
    main()
