"""Seismic volume inference: throughput and peak memory at three volume sizes.

    python benchmarks/volume_inference.py [--sizes 1,64,128,256] [--crosslines 128] [--samples 128]

A small segmentation model is trained on synthetic sections, synthetic 3D SEG-Y volumes of growing inline
count are written, and each is predicted in a fresh process (`geotune predict RUN vol.sgy --out pred.sgy`,
the streaming path: one inline at a time, windows batched, output written as produced). Reports samples/s
and the process's peak RSS. Target: time linear in volume size, memory flat.
Writes benchmarks/results/volume_inference.{json,md}.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from _common import write_results


def run_measured(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one child process, measured by GNU time.

    Not os.wait4's ru_maxrss: a forked child counts its parent's resident pages until it execs, so the
    figure would grow with this (training) process rather than with the prediction."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        t0 = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *command],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - t0
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stderr[-2000:]}")
        return seconds, int(rss_file.read().split()[-1]) / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,64,128,256", help="inline counts (the first one measures start-up)")
    parser.add_argument("--crosslines", type=int, default=128)
    parser.add_argument("--samples", type=int, default=128)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from geotune.api import finetune
    from geotune.data.seismic import write_volume_segy
    from geotune.data.synthetic import make_sections, make_volume

    work = Path(tempfile.mkdtemp(prefix="geotune-volume-"))
    x, y = make_sections(12, 64, 64, seed=0)
    np.save(work / "x.npy", x)
    np.save(work / "y.npy", y)
    finetune(work / "x.npy", work / "run", labels=work / "y.npy", task="segment", image_size=64, epochs=1,
             batch_size=8)
    rows, runs = [], []
    for n_inlines in [int(s) for s in args.sizes.split(",")]:
        volume = make_volume(n_inlines, args.crosslines, args.samples, seed=n_inlines)["amplitude"]
        # make_volume gives (inline, sample, crossline); SEG-Y wants (inline, crossline, sample)
        segy = write_volume_segy(work / f"vol{n_inlines}.sgy", np.transpose(volume, (0, 2, 1)))
        seconds, rss = run_measured([sys.executable, "-m", "geotune", "predict", str(work / "run"), str(segy),
                                     "--out", str(work / f"pred{n_inlines}.sgy")])
        n = n_inlines * args.crosslines * args.samples
        runs.append({"inlines": n_inlines, "samples_total": n, "seconds": seconds, "samples_per_s": n / seconds,
                     "peak_rss_mib": rss, "input_mib": segy.stat().st_size / 2 ** 20})
        rows.append((n_inlines, f"{n:,}", f"{segy.stat().st_size / 2 ** 20:.1f}", f"{seconds:.1f}",
                     f"{n / seconds:,.0f}", f"{rss:.0f}"))
    base = runs[0]
    for run, row in zip(runs[1:], rows[1:]):  # throughput beyond process start-up, from the smallest run
        extra = run["samples_total"] - base["samples_total"]
        run["marginal_samples_per_s"] = extra / max(run["seconds"] - base["seconds"], 1e-9)
    rows = [(*row, f"{run.get('marginal_samples_per_s', float('nan')):,.0f}") for row, run in zip(rows, runs)]
    write_results("volume_inference", {"crosslines": args.crosslines, "samples": args.samples, "runs": runs,
                                       "note": "each run is a fresh `geotune predict` process (start-up included)"},
                  rows, ("inlines", "samples", "input MiB", "wall s", "samples/s", "peak RSS MiB",
                         "samples/s beyond start-up"))


if __name__ == "__main__":
    main()
