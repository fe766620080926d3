"""Drilling strategies on synthetic worlds: deposits found per hole, 95 % CIs over 50 seeds.

Command (from the repository root):
    .venv/bin/python benchmarks/plan_synthetic.py [--runs 50] [--budget 20]

The map is a smooth random 100 x 100 prospectivity field (probabilities 0..0.3, seed 0), planned
on a 50 x 50 grid; worlds are drawn from the map's own prior (geotune.explore.simulate). Two
settings: no minimum spacing (greedy may stack holes on a known deposit) and a minimum spacing of
two hit radii (holes can never share a deposit, so only the choice of place counts).
Writes benchmarks/results/plan_synthetic.{json,md} and plan_synthetic_curve.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from geotune.explore import simulate
from geotune.explore.io import markdown_table
from geotune.explore.plots import plot_curve

RESULTS = Path(__file__).resolve().parent / "results"
STRATEGIES = ("voi", "greedy", "ucb", "ei", "grid", "random")


def synthetic_map(seed: int = 0) -> np.ndarray:
    p = gaussian_filter(np.random.default_rng(seed).normal(size=(100, 100)), 6)
    return (p - p.min()) / (p.max() - p.min()) * 0.3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--budget", type=int, default=20)
    args = ap.parse_args()
    prior = synthetic_map()
    out = {"runs": args.runs, "budget": args.budget, "map": "100x100 smooth random field, p 0..0.3, seed 0",
           "settings": {}}
    md = [f"# Drilling strategies on synthetic worlds ({args.runs} seeds, {args.budget} holes)", "",
          "Command: `.venv/bin/python benchmarks/plan_synthetic.py`", ""]
    for name, spacing in (("no_spacing", 0.0), ("spacing_2R", 4.0)):  # hit radius is 2 map cells here
        t0 = time.perf_counter()
        result = simulate(prior, budget=args.budget, runs=args.runs, strategies=STRATEGIES, seed=0,
                          min_spacing=spacing)
        seconds = time.perf_counter() - t0
        last = result.curve[result.curve.hole == args.budget]
        out["settings"][name] = dict(min_spacing=spacing, seconds=round(seconds, 1),
                                     final=last.round(4).to_dict(orient="records"),
                                     comparisons=result.comparisons, notes=result.notes,
                                     curve=result.curve.round(4).to_dict(orient="records"))
        md += [f"## min spacing {spacing:g} ({seconds:.1f} s for {len(STRATEGIES)} strategies x {args.runs} "
               f"worlds x {args.budget} holes)", "", markdown_table(result)]
        if name == "no_spacing":
            plot_curve(RESULTS / "plan_synthetic_curve.png", result.curve)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "plan_synthetic.json").write_text(json.dumps(out, indent=1))
    (RESULTS / "plan_synthetic.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
