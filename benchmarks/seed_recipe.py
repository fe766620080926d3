"""The Keras seed recipe done naively (frozen backbone recomputed every epoch) against geotune's cached
linear probe, side by side in one process on the same data, split, head, optimizer and epochs.

    python benchmarks/seed_recipe.py [--n-per-class 150] [--image-size 96] [--epochs 10]
    python benchmarks/seed_recipe.py --n-per-class 100 --image-size 224 --name seed_recipe_224

Writes benchmarks/results/seed_recipe.{json,md}. Target: accuracy within one point, >= 5x less wall time.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from _common import landmass_or_synthetic, write_results


def naive_seed_recipe(x_train, y_train, x_val, y_val, classes, image_size, epochs, seed=42):
    """What the Keras code does: every batch of every epoch goes through the frozen base again (eager,
    default memory format), then the Dense(1024) head; Adam 1e-3, batch 32."""
    from geotune.models.classifier import build_classifier

    torch.manual_seed(seed)
    model, _ = build_classifier({"backbone": "tf_efficientnet_lite0", "in_chans": x_train.shape[1],
                                 "classes": classes, "head": "seed"}, pretrained=True)
    model.backbone.requires_grad_(False)
    model.backbone.eval()
    optimizer = torch.optim.Adam(model.head.parameters(), lr=1e-3, foreach=True)
    xt, yt = torch.from_numpy(x_train.astype(np.float32)), torch.from_numpy(y_train)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(xt), generator=generator)
        for start in range(0, len(xt), 32):
            batch = order[start:start + 32]
            loss = torch.nn.functional.cross_entropy(model(xt[batch]), yt[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():  # Keras evaluates the validation split every epoch, through the base again
            logits = torch.cat([model(torch.from_numpy(x_val[s:s + 64].astype(np.float32)))
                                for s in range(0, len(x_val), 64)])
    return float((logits.argmax(1).numpy() == y_val).mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-per-class", type=int, default=150)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--name", default="seed_recipe", help="results file name (benchmarks/results/NAME.*)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    from geotune.api import finetune
    from geotune.data.samples import class_names, load_samples
    from geotune.data.splits import train_val_split
    from geotune.training.classify import encode

    x, labels, source = landmass_or_synthetic(args.n_per_class)
    work = Path(tempfile.mkdtemp(prefix="geotune-bench-"))
    np.save(work / "data.npy", x)
    np.save(work / "labels.npy", labels)
    samples = load_samples(work / "data.npy", work / "labels.npy", args.image_size)
    classes = class_names(samples.labels, "")
    y = encode(samples.labels, classes)
    train, val = train_val_split(y, 0.2, 42)

    t0 = time.perf_counter()
    naive_acc = naive_seed_recipe(samples.x[train], y[train], samples.x[val], y[val], classes, args.image_size,
                                  args.epochs)
    naive_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    summary = finetune(work / "data.npy", work / "run", labels=work / "labels.npy", image_size=args.image_size,
                       recipe="seed", backbone="tf_efficientnet_lite0", epochs=args.epochs)
    cached_s = time.perf_counter() - t0  # includes reading the data and writing the model directory
    cached_acc = summary["metrics"]["accuracy"]
    shutil.rmtree(work, ignore_errors=True)

    payload = {"data": source, "n_samples": len(y), "n_train": len(train), "n_val": len(val),
               "image_size": args.image_size, "epochs": args.epochs,
               "naive": {"val_accuracy": naive_acc, "seconds": naive_s},
               "geotune_cached_linear_probe": {"val_accuracy": cached_acc, "seconds": cached_s},
               "speedup": naive_s / cached_s, "accuracy_gap_points": 100 * (cached_acc - naive_acc)}
    write_results(args.name, payload,
                  [("seed recipe, naive (base recomputed each epoch)", f"{naive_acc:.3f}", f"{naive_s:.1f}", "1.0x"),
                   ("geotune cached linear probe (--recipe seed)", f"{cached_acc:.3f}", f"{cached_s:.1f}",
                    f"{naive_s / cached_s:.1f}x")],
                  ("run", "val accuracy", "wall s", "speed-up"))


if __name__ == "__main__":
    main()
