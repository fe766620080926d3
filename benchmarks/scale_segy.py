"""Segmentation training on SEG-Y surveys of growing size: peak memory and windows per second.

    PYTHONPATH=src python benchmarks/scale_segy.py --sizes 0.05 0.4 [--steps 20] [--tmp DIR] [--out benchmarks/results]

For each size ``run(size_gb, tmp)`` writes a synthetic post-stack SEG-Y of about that many GB (inline by
inline, never whole in memory) and a uint8 label volume (.npy in segyio's (inline, crossline, sample)
shape), then trains segmentation on it through the product's ``fit`` in a fresh subprocess, capped at a
fixed number of steps, with a handful of validation inlines. The subprocess reports its peak RSS
(``ru_maxrss``, which counts memory-mapped file pages it touched) and the peak of its anonymous memory
(``RssAnon``, sampled every 50 ms: what the process itself allocated), and the training throughput.
Writes ``scale_segy.json`` and ``scale_segy.md`` into --out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

N_SAMPLES, N_CROSSLINES = 320, 320  # one inline is about 0.49 MB of SEG-Y
TRACE_BYTES = 240 + 4 * N_SAMPLES
ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, resource, sys, threading, time
peak = {"anon_kb": 0}
def watch():
    while True:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("RssAnon:"):
                    peak["anon_kb"] = max(peak["anon_kb"], int(line.split()[1]))
        time.sleep(0.05)
threading.Thread(target=watch, daemon=True).start()
from geotune.config import TrainConfig
from geotune.training.segment import fit
cfg = TrainConfig(**json.loads(sys.argv[1])).validate()
started = time.monotonic()
metrics = fit(cfg)["metrics"]
print("RESULT" + json.dumps({
    "fit_seconds": time.monotonic() - started,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "peak_anon_mb": peak["anon_kb"] / 1024,
    "train_steps": metrics["train_steps"], "train_seconds": metrics["train_seconds"],
    "windows_per_second": metrics["windows_per_second"], "n_train_sections": metrics["n_train_sections"],
    "n_val_sections": metrics["n_val_sections"], "mean_iou": metrics["mean_iou"]}))
"""


def inline_section(inline: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(crossline, sample) amplitudes and labels for one inline: dipping layers, a salt dome, one fault."""
    xl = np.arange(N_CROSSLINES)[:, None]
    depth = np.arange(N_SAMPLES)[None, :]
    fault_x = 0.4 * N_CROSSLINES + 0.3 * depth + 0.02 * inline % N_CROSSLINES
    throw = np.where(xl > fault_x, 6.0, 0.0)
    layers = np.sin((depth + 0.1 * xl + throw) / 5.0)
    salt = ((xl - N_CROSSLINES / 2) / 70.0) ** 2 + ((depth - 0.7 * N_SAMPLES) / 60.0) ** 2 < 1.0
    labels = np.zeros((N_CROSSLINES, N_SAMPLES), np.uint8)
    labels[np.abs(xl - fault_x) < 1.5] = 1
    labels[salt] = 2
    amplitude = np.where(salt, 0.2, layers) + 0.3 * rng.standard_normal((N_CROSSLINES, N_SAMPLES))
    return amplitude.astype(np.float32), labels


def write_survey(size_gb: float, folder: Path) -> tuple[Path, Path, int]:
    """A SEG-Y of about ``size_gb`` and its label volume, written one inline at a time."""
    import segyio

    n_inlines = max(8, int(round(size_gb * 1e9 / (N_CROSSLINES * TRACE_BYTES))))
    folder.mkdir(parents=True, exist_ok=True)
    survey, labels_path = folder / "survey.sgy", folder / "labels.npy"
    spec = segyio.spec()
    spec.format, spec.sorting = 5, segyio.TraceSortingFormat.INLINE_SORTING
    spec.samples = np.arange(N_SAMPLES) * 4.0
    spec.ilines, spec.xlines = list(range(1, n_inlines + 1)), list(range(1, N_CROSSLINES + 1))
    labels = np.lib.format.open_memmap(labels_path, mode="w+", dtype=np.uint8,
                                       shape=(n_inlines, N_CROSSLINES, N_SAMPLES))
    rng = np.random.default_rng(0)
    with segyio.create(str(survey), spec) as f:
        f.bin.update(hdt=4000, hns=N_SAMPLES, format=5)
        for i in range(n_inlines):
            amplitude, labels[i] = inline_section(i, rng)
            for x in range(N_CROSSLINES):
                trace = i * N_CROSSLINES + x
                f.header[trace] = {segyio.TraceField.INLINE_3D: i + 1, segyio.TraceField.CROSSLINE_3D: x + 1,
                                   segyio.TraceField.TRACE_SAMPLE_COUNT: N_SAMPLES,
                                   segyio.TraceField.TRACE_SAMPLE_INTERVAL: 4000}
                f.trace[trace] = amplitude[x]
    labels.flush()
    del labels
    return survey, labels_path, n_inlines


def run(size_gb: float, tmp: Path, steps: int = 20, batch_size: int = 16, image_size: int = 96,
        val_sections: int = 4) -> dict:
    """Write a survey of about ``size_gb`` into ``tmp``, train ``steps`` steps on it in a subprocess, and
    return its size, peak memory and throughput."""
    tmp = Path(tmp)
    started = time.monotonic()
    survey, labels, n_inlines = write_survey(size_gb, tmp / f"survey_{size_gb:g}gb")
    write_seconds = time.monotonic() - started
    options = {"data": str(survey), "labels": str(labels), "out": str(tmp / f"run_{size_gb:g}gb"), "task": "segment",
               "epochs": 1, "batch_size": batch_size, "image_size": image_size, "loss": "dice+ce",
               "val_split": min(0.5, val_sections / n_inlines), "accelerator": "cpu", "seed": 0,
               "extra": {"class_names": ["background", "fault", "salt"], "max_steps": steps}}
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(options)], capture_output=True, text=True,
                          env=env, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"training on {survey} failed: {done.stderr[-2000:]}")
    result = json.loads(line[len("RESULT"):])
    return {"size_gb": round((survey.stat().st_size) / 1e9, 3), "labels_gb": round(labels.stat().st_size / 1e9, 3),
            "inlines": n_inlines, "section_shape": [N_SAMPLES, N_CROSSLINES], "steps": steps,
            "batch_size": batch_size, "image_size": image_size, "write_seconds": round(write_seconds, 1), **result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.05, 0.4])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--tmp", default=None, help="folder for the surveys (default: a temporary folder)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    import shutil
    import tempfile

    tmp = Path(args.tmp or tempfile.mkdtemp(prefix="geotune-scale-"))
    rows = []
    try:
        for size in args.sizes:
            rows.append(run(size, tmp / f"{size:g}", steps=args.steps))
            print(json.dumps(rows[-1]))
    finally:
        if args.tmp is None:
            shutil.rmtree(tmp, ignore_errors=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale_segy.json").write_text(json.dumps(rows, indent=2))
    lines = ["| SEG-Y GB | inlines | peak RSS MB | peak anon MB | windows/s | steps | fit s |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['size_gb']} | {r['inlines']} | {r['peak_rss_mb']:.0f} | {r['peak_anon_mb']:.0f} | "
              f"{r['windows_per_second']:.1f} | {r['train_steps']} | {r['fit_seconds']:.0f} |" for r in rows]
    (out / "scale_segy.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
