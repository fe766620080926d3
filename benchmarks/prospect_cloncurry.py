"""Cloncurry IOCG prospectivity: GA's WofE reproduced, then WofE vs ML under spatial block CV.

Command (from the repository root; needs ../shared/data/cloncurry_iocg_wofe):

    .venv/bin/python benchmarks/prospect_cloncurry.py [--methods wofe logistic gbm] [--folds 5] [--members 3]

1. Weights of evidence on GA's four binary layers: resubstitution AUC against all 258 deposits
   (GA's published 0.7145) and the largest W+ / W- difference to GA's tables.
2. On the multi-class / continuous layers (Dist2Breccia, Dist2Fault_overview_200m resampled onto the
   100 m grid, FaultDensity, StratNo): resubstitution AUC and spatial block CV AUC (5 folds of
   ~25 km blocks, deposits balanced across folds) for each method.
Writes benchmarks/results/prospect_cloncurry.json and .md.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DATA = ROOT.parent / "shared" / "data" / "cloncurry_iocg_wofe"
RESULTS = ROOT / "benchmarks" / "results"
BINARY = ("Dist2Breccia", "Dist2Fault", "FaultDensity", "StratNo")
MULTI = ("Dist2Breccia.tif", "Dist2Fault_overview_200m.tif", "FaultDensity.tif", "StratNo.tif")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--methods", nargs="+", default=["wofe", "logistic", "gbm"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found")
        return 0
    from geotune.prospect import EvidenceStack, WeightsOfEvidence, deposit_auc, read_deposits, spatial_block_cv
    from geotune.prospect.run import make_estimator

    deposits = read_deposits(DATA / "deposits" / "IOCG_Deposits.shp")
    result: dict = {"dataset": "cloncurry_iocg_wofe", "n_deposits": len(deposits), "machine": platform.machine(),
                    "command": "python benchmarks/prospect_cloncurry.py " + " ".join(sys.argv[1:])}

    t0 = time.time()
    binary = EvidenceStack.from_files([DATA / "evidence_binary" / f"{n}.tif" for n in BINARY])
    rows, cols = deposits.cells(binary.grid)
    wofe = WeightsOfEvidence(unit_cell_km2=1.0).fit(binary, deposits)
    max_diff = 0.0
    for name in BINARY:
        with open(DATA / "weights_tables" / f"binary_{name}_CT.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                ours = [r for r in wofe.weights_table(name) if r["class"] == int(row["CLASS"])][0]
                max_diff = max(max_diff, abs(ours["wplus"] - float(row["WPLUS"])),
                               abs(ours["wminus"] - float(row["WMINUS"])))
    ci = wofe.conditional_independence(binary, deposits)
    result["ga_binary_wofe"] = {
        "resubstitution_auc": deposit_auc(wofe.predict_proba(binary), rows, cols, binary.mask),
        "published_auc": 0.714467740807205, "max_abs_weight_difference": max_diff,
        "omnibus_ratio": ci["omnibus_ratio"], "agterberg_cheng_p": ci["agterberg_cheng_p"],
        "seconds": time.time() - t0}
    binary_cv = spatial_block_cv(lambda: WeightsOfEvidence(), binary, deposits, n_folds=args.folds, seed=args.seed)
    result["ga_binary_wofe"]["spatial_cv_auc_pooled"] = binary_cv["auc_pooled"]
    result["ga_binary_wofe"]["spatial_cv_auc_mean"] = binary_cv["auc_mean"]
    print(json.dumps(result["ga_binary_wofe"], indent=1), flush=True)

    multi = EvidenceStack.from_files([DATA / "evidence_multiclass" / n for n in MULTI], resample=True)
    result["multiclass_layers"] = [{"name": l.name, "kind": l.kind} for l in multi.layers]
    result["resampled"] = multi.resampled
    result["methods"] = {}
    for method in args.methods:
        t0 = time.time()
        make = lambda: make_estimator(method, 1.0, args.seed, args.members)  # noqa: E731
        model = make().fit(multi, deposits)
        resub = deposit_auc(model.predict_proba(multi), rows, cols, multi.mask)
        cv = spatial_block_cv(make, multi, deposits, n_folds=args.folds, seed=args.seed)
        entry = {"resubstitution_auc": resub, "spatial_cv_auc_pooled": cv["auc_pooled"],
                 "spatial_cv_auc_mean": cv["auc_mean"], "spatial_cv_auc_std": cv["auc_std"],
                 "fold_aucs": [f["auc"] for f in cv["folds_detail"]], "block_km": cv["block_km"],
                 "prediction_rate_auc": cv["prediction_rate"]["auc"], "seconds": time.time() - t0}
        if method == "wofe":
            entry["thresholds"] = {s["name"]: [s.get("favourable"), s.get("threshold")] for s in model.layers_
                                   if s["kind"] == "continuous"}
        else:
            entry["members"] = args.members
            entry["sampling"] = model.sampling_
        result["methods"][method] = entry
        print(method, json.dumps({k: v for k, v in entry.items() if k != "sampling"}), flush=True)
    best_ml = max((m for m in result["methods"] if m != "wofe"),
                  key=lambda m: result["methods"][m]["spatial_cv_auc_pooled"], default=None)
    if best_ml and "wofe" in result["methods"]:
        result["ml_beats_wofe_on_held_out_blocks"] = (
            result["methods"][best_ml]["spatial_cv_auc_pooled"] > result["methods"]["wofe"]["spatial_cv_auc_pooled"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "prospect_cloncurry.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = ["# Cloncurry IOCG prospectivity", "", f"Command: `{result['command']}`", "",
             "GA binary WofE (4 layers, unit cell 1 km^2): resubstitution AUC "
             f"{result['ga_binary_wofe']['resubstitution_auc']:.4f} (published 0.7145); largest |W+/W- - GA| "
             f"{max_diff:.1e}; spatial {args.folds}-fold block CV AUC "
             f"{result['ga_binary_wofe']['spatial_cv_auc_pooled']:.4f} pooled.", "",
             "Multi-class / continuous layers (Dist2Fault 200 m resampled onto the 100 m grid):", "",
             "| method | resubstitution AUC | spatial CV AUC (pooled) | per-fold mean +/- sd | seconds |",
             "|---|---|---|---|---|"]
    for method, e in result["methods"].items():
        lines.append(f"| {method} | {e['resubstitution_auc']:.4f} | {e['spatial_cv_auc_pooled']:.4f} | "
                     f"{e['spatial_cv_auc_mean']:.4f} +/- {e['spatial_cv_auc_std']:.4f} | {e['seconds']:.0f} |")
    lines += ["", "Resubstitution = scored on the deposits the model was fitted on (optimistic). Spatial CV: "
              "deposits and area of the held-out blocks are never seen in training."]
    (RESULTS / "prospect_cloncurry.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
