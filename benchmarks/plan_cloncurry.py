"""Replay drilling on real data: the Cloncurry IOCG district, half the area hidden at a time.

Command (from the repository root):
    .venv/bin/python benchmarks/plan_cloncurry.py [--budget 20] [--random-runs 50]

The grid (2487 x 1259 cells of 100 m) is split into a north and a south half. A prospectivity
model (geotune.prospect.MLProspectivity, logistic, 5-member ensemble; scikit-learn logistic
regression when that module is not importable) is fitted on the evidence layers and the deposits
of one half only. The other half's deposits are hidden; each strategy drills 20 holes there one
after another, and a hole hits when a hidden deposit lies within 2 km. Prospectivity is expressed
per unit cell of pi * 2 km^2 (the hit disc), so it reads as the probability that a hole hits. Both
ways round. Random is repeated over 50 seeds; the other strategies are deterministic. The planner's
prior uncertainty is the ensemble spread combined with 0.5 sqrt(p (1 - p)) (the spread alone is
far smaller than what one hole can teach). Holes keep 2 km apart.
Writes benchmarks/results/plan_cloncurry.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geotune.data.rasters import Raster
from geotune.explore import Planner, run_campaign

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cloncurry_iocg_wofe"
RESULTS = Path(__file__).resolve().parent / "results"
RADIUS = 2000.0
STRATEGIES = ("voi", "greedy", "ucb", "ei", "grid", "random")
LAYERS = {"Dist2Breccia": "evidence_multiclass/Dist2Breccia.tif",
          "FaultDensity": "evidence_multiclass/FaultDensity.tif",
          "Dist2Fault": "evidence_binary/Dist2Fault.tif", "StratNo": "evidence_binary/StratNo.tif"}


def _auc(p, rows, cols, area) -> float:
    """AUC of the map at the hidden deposits' cells against every cell of the hidden half."""
    try:
        from geotune.prospect import deposit_auc
    except ImportError:  # pragma: no cover
        from scipy.stats import mannwhitneyu

        pos, neg = p[rows, cols], p[area]
        return float(mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg)))
    return float(deposit_auc(p, rows, cols, area))


def fit_prospectivity(train: np.ndarray, dep_xy: np.ndarray):
    """(probability map, uncertainty map, grid Raster, how) fitted on ``train`` cells and their deposits."""
    try:
        from geotune.prospect import Deposits, EvidenceStack, MLProspectivity
    except ImportError:
        return _fallback(train, dep_xy)
    stack = EvidenceStack.from_files([DATA / p for p in LAYERS.values()], names=list(LAYERS))
    deposits = Deposits(dep_xy[:, 0], dep_xy[:, 1])
    model = MLProspectivity(method="logistic", n_members=5, unit_cell_km2=math.pi * (RADIUS / 1000) ** 2, seed=0)
    model.fit(stack, deposits, region=train)
    p, u = model.predict_both(stack)
    return p, u, stack.grid, "geotune.prospect.MLProspectivity(method='logistic', n_members=5)"


def _fallback(train, dep_xy):  # pragma: no cover - only when geotune.prospect is missing
    from sklearn.linear_model import LogisticRegression

    from geotune.data.rasters import read_raster

    rasters = [read_raster(DATA / p) for p in LAYERS.values()]
    grid = rasters[0]
    feats = np.stack([np.log1p(r.array) if i == 0 else r.array for i, r in enumerate(rasters)], -1)
    mean, std = feats[train].mean(0), feats[train].std(0)
    feats = (feats - mean) / std
    rows, cols = grid.xy_to_rowcol(dep_xy[:, 0], dep_xy[:, 1])
    rng = np.random.default_rng(0)
    neg = rng.choice(np.flatnonzero(train.ravel()), 20 * len(rows), replace=False)
    x = np.concatenate([feats[rows, cols], feats.reshape(-1, feats.shape[-1])[neg]])
    y = np.r_[np.ones(len(rows)), np.zeros(len(neg))]
    model = LogisticRegression(max_iter=2000).fit(x, y)
    odds = np.exp(model.decision_function(feats.reshape(-1, feats.shape[-1]))).reshape(grid.shape)
    units = train.sum() * 0.01 / (math.pi * (RADIUS / 1000) ** 2)
    odds *= len(neg) / units
    p = odds / (1 + odds)
    return p, None, grid, "scikit-learn LogisticRegression (fallback)"


def replay(name, train, test, deps, rowcol, budget, random_runs):
    p, u, grid_r, how = fit_prospectivity(train, deps[train[rowcol]])
    hidden = deps[test[rowcol]]
    prior = Raster(p, grid_r.transform, grid_r.crs, "prospectivity")
    unc = None if u is None else Raster(np.sqrt(u ** 2 + (0.5 * np.sqrt(p * (1 - p))) ** 2), grid_r.transform,
                                        grid_r.crs, "uncertainty")
    hr, hc = grid_r.xy_to_rowcol(hidden[:, 0], hidden[:, 1])
    auc = _auc(p, hr, hc, test)
    out = dict(direction=name, model=how, hidden_deposits=int(len(hidden)), test_auc=round(auc, 4),
               p_test_mean=float(np.nanmean(p[test])), p_test_max=float(np.nanmax(p[test])), strategies={})
    base = Planner(budget=budget, radius=RADIUS, min_spacing=RADIUS, max_cells=20000)
    t0 = time.perf_counter()
    grid, gp, radius = base.prepare(prior, unc, exclude=~test)
    out["planning_grid"] = f"{grid.block_shape[0]}x{grid.block_shape[1]} blocks of {grid.factor}x{grid.factor} cells"
    for strategy in STRATEGIES:
        planner = Planner(strategy=strategy, budget=budget, radius=RADIUS, min_spacing=RADIUS, max_cells=20000)
        runs = random_runs if strategy == "random" else 1
        found, hits = [], []
        for seed in range(runs):
            rows = run_campaign(planner, grid, gp, radius, hidden, np.ones(len(hidden)),
                                np.random.default_rng(seed))
            found.append(rows[-1]["deposits"])
            hits.append(sum(r["hit"] for r in rows))
        found = np.array(found, float)
        entry = dict(deposits_found=float(found.mean()), holes_that_hit=float(np.mean(hits)), runs=runs)
        if runs > 1:
            from scipy import stats

            half = stats.t.ppf(0.975, runs - 1) * found.std(ddof=1) / np.sqrt(runs)
            entry.update(ci_low=float(found.mean() - half), ci_high=float(found.mean() + half))
        out["strategies"][strategy] = entry
    out["seconds_planning"] = round(time.perf_counter() - t0, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=20)
    ap.add_argument("--random-runs", dest="random_runs", type=int, default=50)
    ap.add_argument("--extra-splits", dest="extra_splits", default="0.4,0.6",
                    help="further north/south split lines (fractions of the rows) for a robustness check")
    args = ap.parse_args()
    from geotune.data.rasters import read_raster

    ref = read_raster(DATA / LAYERS["Dist2Breccia"])
    table = pd.read_csv(DATA / "deposits" / "IOCG_Deposits.csv")
    deps = table[["x", "y"]].to_numpy(float)
    rowcol = ref.xy_to_rowcol(deps[:, 0], deps[:, 1])
    results, extra = [], []
    splits = [0.5] + [float(f) for f in args.extra_splits.split(",") if f.strip()]
    for split in splits:
        north = np.zeros(ref.shape, bool)
        north[: int(round(ref.shape[0] * split))] = True
        for name, train, test in (("fit north, drill south", north, ~north), ("fit south, drill north", ~north, north)):
            t0 = time.perf_counter()
            res = replay(name, train, test, deps, rowcol, args.budget, args.random_runs)
            res["seconds_total"] = round(time.perf_counter() - t0, 1)
            res["split_fraction"] = split
            (results if split == 0.5 else extra).append(res)
            print(json.dumps(res, indent=1))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "plan_cloncurry.json").write_text(json.dumps(dict(budget=args.budget, radius_m=RADIUS,
                                                                  min_spacing_m=RADIUS, results=results,
                                                                  extra_splits=extra), indent=1))
    md = [f"# Drilling replay on Cloncurry IOCG ({args.budget} holes, hit radius 2 km, spacing 2 km)", "",
          "Command: `.venv/bin/python benchmarks/plan_cloncurry.py`", ""]
    for res in results:
        md += [f"## {res['direction']}: {res['hidden_deposits']} hidden deposits, prospectivity AUC on the hidden "
               f"half {res['test_auc']:.3f}", "", f"Model: {res['model']}; planning grid {res['planning_grid']}.", "",
               "| strategy | distinct deposits found | holes that hit |", "|---|---|---|"]
        for s, e in res["strategies"].items():
            ci = f" (95 % CI {e['ci_low']:.2f}–{e['ci_high']:.2f}, {e['runs']} seeds)" if "ci_low" in e else ""
            md.append(f"| {s} | {e['deposits_found']:.2f}{ci} | {e['holes_that_hit']:.2f} |")
        md.append("")
    if extra:
        md += _robustness(results + extra)
    (RESULTS / "plan_cloncurry.md").write_text("\n".join(md))
    print("\n".join(md))


def _robustness(all_results: list[dict]) -> list[str]:
    """Deposits found per replay for every split line and direction, and their total."""
    names = list(all_results[0]["strategies"])
    md = ["## Robustness: split lines at " + ", ".join(sorted({f"{r['split_fraction']:.0%}" for r in all_results}))
          + " of the rows, both ways round", "",
          "| split, direction | hidden | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for r in all_results:
        md.append(f"| {r['split_fraction']:.0%}, {r['direction']} | {r['hidden_deposits']} | "
                  + " | ".join(f"{r['strategies'][s]['deposits_found']:.1f}" for s in names) + " |")
    totals = {s: sum(r["strategies"][s]["deposits_found"] for r in all_results) for s in names}
    md.append("| **total** | | " + " | ".join(f"**{totals[s]:.1f}**" for s in names) + " |")
    return md + [""]


if __name__ == "__main__":
    main()
