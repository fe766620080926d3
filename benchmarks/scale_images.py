"""Classification on image folders that do not fit in memory: peak memory and throughput of `geotune train`.

    python benchmarks/scale_images.py [--sizes 200,1000] [--old-src PATH] [--old-up-to 1000] [--workers 2]
        [--gradual 600] [--gradual-size 128] [--gradual-epochs 6]

1. ``run(n, tmp)`` writes ``n`` generated 512 x 512 JPEG textures (four classes, one sub-folder each) and
   runs `geotune train` (linear-probe default, 224 px) on the folder in a subprocess; it returns the peak
   resident memory (PSS) of that process and its children (DataLoader workers) summed, sampled every 0.1 s, the
   throughput of feature extraction (from RUN/cache/features-*.json) and the whole run's wall time.
2. With ``--old-src`` (a `src` folder of an earlier geotune, e.g. from `git archive`), the same runs through
   that code, up to ``--old-up-to`` images: the in-memory path decoded every image before training.
3. ``--gradual N`` (run first): `--strategy gradual` on N of the images at ``--gradual-size`` px, new code in RAM, new
   code spilled to disk (cache_memory_gb 0) and, with ``--old-src``, the old all-boundaries cache.
Writes benchmarks/results/scale_images.{json,md}.
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

SRC = Path(__file__).resolve().parents[1] / "src"
CLASSES = ("laminated", "cross_bedded", "massive", "nodular")


def texture(kind: str, rng: np.random.Generator, size: int = 512) -> np.ndarray:
    """A size x size x 3 uint8 texture of one class: stripes of two orientations, noise, or blobs."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    phase, freq = rng.uniform(0, 2 * np.pi), rng.uniform(18, 30)
    if kind == "laminated":
        base = np.sin(2 * np.pi * freq * yy + phase)
    elif kind == "cross_bedded":
        angle = rng.uniform(0.5, 1.0)
        base = np.sin(2 * np.pi * freq * (np.cos(angle) * yy + np.sin(angle) * xx) + phase)
    elif kind == "massive":
        base = np.zeros_like(yy)
    else:
        cx, cy = rng.uniform(0, 1, (2, 12))
        base = np.max(np.exp(-((xx[..., None] - cx) ** 2 + (yy[..., None] - cy) ** 2) / 0.002), axis=-1) * 2 - 1
    grey = 0.5 + 0.3 * base + rng.normal(0, 0.12, base.shape)
    tint = rng.uniform(0.8, 1.0, 3)
    return (np.clip(grey[..., None] * tint, 0, 1) * 255).astype(np.uint8)


def write_images(n_images: int, folder: Path, seed: int = 0) -> Path:
    from PIL import Image

    rng = np.random.default_rng(seed)
    for i in range(n_images):
        kind = CLASSES[i % len(CLASSES)]
        (folder / kind).mkdir(parents=True, exist_ok=True)
        Image.fromarray(texture(kind, rng)).save(folder / kind / f"{i:06d}.jpg", quality=85)
    return folder


def tree_memory(pid: int) -> int:
    """Proportional set size (PSS) of a process and all its descendants, summed: forked DataLoader workers
    share their parent's pages, which a sum of RSS would count once per process."""
    import psutil

    total = 0
    try:
        processes = [psutil.Process(pid)]
        processes += processes[0].children(recursive=True)
    except psutil.Error:
        return 0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def train(data: Path, out: Path, src: Path, options: list[str]) -> dict:
    """`geotune train` in a subprocess on the given source tree; peak summed PSS and wall time."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-m", "geotune", "train", "--data", str(data), "--out", str(out), *options]
    started, peak = time.perf_counter(), 0
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while process.poll() is None:
        peak = max(peak, tree_memory(process.pid))
        time.sleep(0.1)
    output = process.stdout.read()
    if process.returncode != 0:
        raise RuntimeError(f"geotune train failed ({process.returncode}):\n{output[-3000:]}")
    metrics = json.loads((out / "model" / "metrics.json").read_text())
    return {"peak_pss_mb": round(peak / 2**20, 1), "wall_s": round(time.perf_counter() - started, 1),
            "accuracy": metrics["accuracy"]}


def run(n_images: int, tmp: Path, src: Path = SRC, workers: int = 2, images: Path | None = None) -> dict:
    """Peak memory (PSS, process + children) and images/s through feature extraction of a linear-probe train."""
    tmp = Path(tmp)
    folder = images or write_images(n_images, tmp / f"images_{n_images}")
    out = tmp / f"run_{n_images}_{abs(hash(str(src))) % 10**6}"
    result = train(folder, out, Path(src), ["--workers", str(workers), "--epochs", "5", "--strategy", "linear-probe"])
    stats = [json.loads(f.read_text()) for f in sorted((out / "cache").glob("features-*.json"))]
    if stats:
        result["features_images_per_s"] = round(stats[0]["samples"] / stats[0]["seconds"], 1)
    result["images_per_s_overall"] = round(n_images / result["wall_s"], 1)
    return {"n_images": n_images, **result}


def run_gradual(images: Path, n_images: int, tmp: Path, src: Path, size: int, epochs: int, workers: int,
                extra: dict | None = None) -> dict:
    options = ["--strategy", "gradual", "--image-size", str(size), "--epochs", str(epochs), "--workers",
               str(workers)]
    if extra:  # options read from cfg.extra go through a config file
        config = tmp / "gradual.yaml"
        config.write_text("extra:\n" + "".join(f"  {k}: {v}\n" for k, v in extra.items()))
        options += ["--config", str(config)]
    out = tmp / f"gradual_{abs(hash((str(src), str(extra)))) % 10**6}"
    result = train(images, out, src, options)
    assert not list((out / "cache").glob("activations-*")), "activation cache files left behind"
    return {"n_images": n_images, **result}


def linked_subset(folder: Path, n: int, tmp: Path) -> Path:
    """The first ``n`` images of ``folder`` in their class folders, linked (not copied)."""
    subset = tmp / f"images_{n}"
    if not subset.exists():
        for i in range(n):
            kind = CLASSES[i % len(CLASSES)]
            (subset / kind).mkdir(parents=True, exist_ok=True)
            os.symlink(folder / kind / f"{i:06d}.jpg", subset / kind / f"{i:06d}.jpg")
    return subset


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import write_results

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="200,1000")
    parser.add_argument("--old-src", type=Path, help="src folder of the geotune to compare with")
    parser.add_argument("--old-up-to", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gradual", type=int, default=0, help="images for the gradual comparison (0: skip)")
    parser.add_argument("--gradual-size", type=int, default=128)
    parser.add_argument("--gradual-epochs", type=int, default=6)
    args = parser.parse_args()
    rows, payload = [], {"linear_probe": [], "gradual": []}
    header = ("run", "images", "peak memory MB (PSS, process + workers)", "feature images/s", "wall s", "val accuracy")

    def save() -> None:  # after every run, so a long benchmark cut short keeps what it measured
        write_results("scale_images", payload, rows, header)

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        sizes = [int(s) for s in args.sizes.split(",") if s]
        folder = write_images(max(sizes + [args.gradual]), tmp / "images_all")
        if args.gradual:
            subset = linked_subset(folder, args.gradual, tmp)
            sides = [("one boundary in RAM (this code)", SRC, None),
                     ("spilled to disk, cache_memory_gb 0 (this code)", SRC, {"cache_memory_gb": 0.0})]
            if args.old_src:
                sides.append(("every boundary in RAM (old code)", args.old_src, None))
            for label, src, extra in sides:
                result = {"path": label, **run_gradual(subset, args.gradual, tmp, src, args.gradual_size,
                                                       args.gradual_epochs, args.workers, extra)}
                payload["gradual"].append(result)
                rows.append((f"gradual {label}", args.gradual, result["peak_pss_mb"], "-", result["wall_s"],
                             result["accuracy"]))
                save()
        for n in sizes:
            subset = linked_subset(folder, n, tmp)
            sides = [("streamed (this code)", SRC)]
            if args.old_src and n <= args.old_up_to:
                sides.append(("in memory (old code)", args.old_src))
            for label, src in sides:
                result = {"path": label, **run(n, tmp, src, args.workers, images=subset)}
                payload["linear_probe"].append(result)
                rows.append((f"linear-probe {label}", n, result["peak_pss_mb"],
                             result.get("features_images_per_s", "-"), result["wall_s"], result["accuracy"]))
                save()


if __name__ == "__main__":
    main()
