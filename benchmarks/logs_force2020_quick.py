"""FORCE 2020, leave-one-quadrant-out: geotune's boosting on its own feature table, one change at a time.

    PYTHONPATH=src .venv/bin/python benchmarks/logs_force2020_quick.py --variants default,one-model,rows-500
    PYTHONPATH=src .venv/bin/python benchmarks/logs_force2020_quick.py --model-cost

A lighter loop than `logs_force2020.py --variants`: the table is exactly what `geotune train` builds
(features.FeatureSpec with its default blocks and per-well z-score and rank, relative position in the well;
depth as DEPTH_MD/Z_LOC curves), boosting with geotune's settings (gbm.py: a bag of four models) on 1,000
labelled rows per well, no forest, no curve estimates, no decoding. Quadrants 25, 31 and 32-36 held out in turn.
Beside arg-max accuracy / penalty it scores the `--cost-matrix` decision rule (costs.fit_temperature with the
penalty matrix) cross-fitted: the temperature for a held-out area is chosen on the other areas' held-out rows.
Writes benchmarks/results/logs_force2020_quick.json and .md. ``--model-cost`` instead fits one boosted model and the
default bag on 1,000 rows of every well and writes their file size and prediction time to
benchmarks/results/logs_force2020_model_cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GEOTUNE_SHARED_DATA", ROOT.parent / "shared" / "data")) / "force2020_wells"
LABEL = "FORCE_2020_LITHOFACIES_LITHOLOGY"
CODES = ["30000", "65030", "65000", "80000", "74000", "70000", "70032", "88000", "86000", "99000", "90000", "93000"]
# name -> (feature spec options, boosting options, labelled rows per well)
VARIANTS = {
    "default": ({}, {}, 1000),  # every curve, the default bag of four boosted models on 1,000 rows per well
    "common-curves": ({"min_well_share": 0.5}, {}, 1000),  # only curves measured in at least half the wells
    "one-model": ({}, {"bags": 1}, 1000),  # one boosted model on the same rows (the former default)
    "rows-500": ({}, {"bags": 1}, 500),  # one model on half the rows: is the bag's gain only fewer rows per model?
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--model-cost", action="store_true", help="instead: fit one model and the default bag on "
                        "1,000 rows of every well; file size and seconds to predict 50,000 rows")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from geotune.logs import costs, gbm
    from geotune.logs import features as feats
    from geotune.logs.areas import area_groups
    from geotune.logs.columns import label_names, not_logs
    from geotune.logs.impute import thin_rows
    from geotune.logs.las import DEPTH, WELL, read_logs
    from geotune.logs.table import ROW, prepare

    matrix = np.load(DATA / "penalty_matrix.npy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = read_logs(DATA)
        skip = not_logs(table, LABEL) | {LABEL, WELL}
        frame, well, depth = prepare(table, WELL, DEPTH, {}, set(table.columns))
    y = np.array([CODES.index(v) if v is not None else -1 for v in label_names(frame[LABEL])])
    groups, wells = area_groups(frame, well, "quadrant"), frame[well].to_numpy()
    results_file = Path(args.out) / "logs_force2020_quick.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    if args.model_cost:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec = feats.infer_spec(frame, {LABEL, well, ROW, depth} | skip, well, depth)
            x = feats.build_features(frame, spec, well, depth)
        train = thin_rows(np.flatnonzero(y >= 0), wells, 1000)
        cost = {}
        for name, bags in (("one model", 1), ("bag", gbm.BAGS)):
            start = time.time()
            model = gbm.fit(x[train], y[train], seed=args.seed, bags=bags)
            fitted = time.time()
            gbm.predict_proba(model, x[:50000], len(CODES))
            cost[name] = {"fit_seconds": round(fitted - start, 1), "predict_50000_rows_seconds":
                          round(time.time() - fitted, 1), "skops_mb": round(len(gbm.to_bytes(model)) / 1e6, 1)}
            print(name, json.dumps(cost[name]), file=sys.stderr, flush=True)
        cost["load_average"], cost["cpus"] = round(os.getloadavg()[0], 1), os.cpu_count()
        results_file.with_name("logs_force2020_model_cost.json").write_text(json.dumps(cost, indent=2) + "\n")
        return 0
    for name in args.variants.split(","):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec_options, gbm_options, per_well = VARIANTS[name]
            spec = feats.infer_spec(frame, {LABEL, well, ROW, depth} | skip, well, depth, **spec_options)
            x = feats.build_features(frame, spec, well, depth)
        start, cpu = time.time(), time.process_time()
        per, probas, truths, held = {}, [], [], []
        for g in dict.fromkeys(groups[y >= 0]):
            test = np.flatnonzero((groups == g) & (y >= 0))
            train = thin_rows(np.flatnonzero((groups != g) & (y >= 0)), wells, per_well)
            proba = gbm.predict_proba(gbm.fit(x[train], y[train], seed=args.seed, **gbm_options), x[test], len(CODES))
            pred = proba.argmax(1)
            per[str(g)] = {"accuracy": float(np.mean(pred == y[test])),
                           "penalty_score": -float(matrix[y[test], pred].mean()), "n_samples": int(len(test))}
            probas.append(proba), truths.append(y[test]), held.append(np.full(len(test), str(g)))
            print(name, g, json.dumps(per[str(g)]), file=sys.stderr, flush=True)
        proba, t, h = np.concatenate(probas), np.concatenate(truths), np.concatenate(held)
        chosen = np.empty(len(t), dtype=int)
        for g in per:  # the cost rule for an area, chosen on the other areas' held-out rows
            mine = h == g
            temperature = costs.fit_temperature(proba[~mine], t[~mine], matrix)
            chosen[mine] = costs.decide(costs.calibrate(proba[mine], temperature), matrix)
            per[g]["penalty_score_cost_rule"] = -float(matrix[t[mine], chosen[mine]].mean())
            per[g]["cost_rule_temperature"] = temperature
        log_loss_t = costs.fit_temperature(proba, t)
        results[name] = {
            "pooled": {"accuracy": float(np.mean(proba.argmax(1) == t)),
                       "penalty_score": -float(matrix[t, proba.argmax(1)].mean())},
            "cost_rule_cross_fitted": -float(matrix[t, chosen].mean()),
            "least_cost_log_loss_temperature": {"temperature": log_loss_t, "penalty_score": -float(
                matrix[t, costs.decide(costs.calibrate(proba, log_loss_t), matrix)].mean())},
            "per_group": per, "curves": spec.curves, "n_features": len(spec.names()),
            "gbm_options": gbm_options, "rows_per_well": per_well,
            "seconds": round(time.time() - start, 1), "cpu_seconds": round(time.process_time() - cpu, 1),
            "load_average": round(os.getloadavg()[0], 1)}
        results_file.parent.mkdir(parents=True, exist_ok=True)
        results_file.write_text(json.dumps(results, indent=2) + "\n")
    results_file.with_suffix(".md").write_text(render(results))
    return 0


def render(results: dict) -> str:
    groups = list(next(iter(results.values()))["per_group"])
    lines = ["# FORCE 2020 leave-one-quadrant-out: geotune's boosting, one change at a time", "",
             "Accuracy / penalty score (minus the mean penalty) pooled and per held-out area; `cost rule`: the "
             "`--cost-matrix` decisions with the temperature chosen on the other areas (cross-fitted); "
             "`least cost at log-loss T`: least-cost decisions under the log-loss temperature (the former rule).", "",
             "| variant | accuracy | penalty | cost rule | least cost at log-loss T | " + " | ".join(groups)
             + " | features | CPU s (load) |", "|---|---|---|---|---|" + "---|" * len(groups) + "---|---|"]
    for name, r in results.items():
        cells = [f"{r['per_group'][g]['accuracy']:.3f} / {r['per_group'][g]['penalty_score']:.3f}" for g in groups]
        lt = r["least_cost_log_loss_temperature"]
        lines.append(f"| {name} | {r['pooled']['accuracy']:.3f} | {r['pooled']['penalty_score']:.3f} | "
                     f"{r['cost_rule_cross_fitted']:.3f} | {lt['penalty_score']:.3f} (T {lt['temperature']:.2f}) | "
                     + " | ".join(cells) + f" | {r['n_features']} | {r['cpu_seconds']} ({r['load_average']}) |")
    notes = [f"- {name}: {r['note']}" for name, r in results.items() if r.get("note")]
    lines += ["", *notes, "", "Command: `PYTHONPATH=src .venv/bin/python benchmarks/logs_force2020_quick.py "
              "--variants default,one-model,rows-500`"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
