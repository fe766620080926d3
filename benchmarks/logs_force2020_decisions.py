"""Do least-cost decisions lower the FORCE 2020 penalty on areas held out? Decision rules compared, cross-fitted.

    PYTHONPATH=src .venv/bin/python benchmarks/logs_force2020.py --protocols loqo --models geotune-folds \
        --save-proba /tmp/force_loqo_proba.npz
    PYTHONPATH=src .venv/bin/python benchmarks/logs_force2020_decisions.py /tmp/force_loqo_proba.npz

Input: the default model's out-of-fold probabilities, leave-one-quadrant-out (the first command; they stay outside
the repository). For each held-out area, every rule's parameters are chosen on the other two areas' rows only and
the rule is scored on the held-out area (cross-fitting), so no area's own labels choose its decisions:

- ``argmax``: the most probable class;
- ``least_cost_T1``: least expected cost under the probabilities as they are;
- ``least_cost_chosen_T``: what ``--cost-matrix`` does (``costs.fit_temperature`` with the matrix: the temperature,
  arg-max included, whose decisions cost least on the other areas);
- ``class_bias_argmax`` / ``class_bias_least_cost``: one log-probability offset per class (prior shift), found by
  coordinate descent to lower the cost on the other areas, then arg-max or least-cost decisions;
- ``ceiling_*``: not rules but ceilings: the temperature, or the class offsets, chosen on the held-out area's own
  labels, so how much any such rule could gain at best.

Writes benchmarks/results/logs_force2020_decisions.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from _common import RESULTS, SHARED

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from geotune.logs import costs  # noqa: E402

STEPS = (-1.0, -0.5, -0.25, 0.25, 0.5, 1.0)  # offsets tried per class and round
ROUNDS = 3


def shifted(proba: np.ndarray, bias: np.ndarray) -> np.ndarray:
    q = np.exp(np.log(np.clip(proba, 1e-12, 1.0)) + bias)
    return q / q.sum(axis=1, keepdims=True)


def fit_bias(proba: np.ndarray, y: np.ndarray, matrix: np.ndarray, least_cost: bool) -> np.ndarray:
    def spent(bias):
        q = shifted(proba, bias)
        return costs.mean_cost(y, costs.decide(q, matrix) if least_cost else q.argmax(1), matrix)

    bias = np.zeros(matrix.shape[0])
    best = spent(bias)
    for _ in range(ROUNDS):
        for k in range(len(bias)):
            for step in STEPS:
                trial = bias.copy()
                trial[k] += step
                cost = spent(trial)
                if cost < best - 1e-6:
                    best, bias = cost, trial
    return bias


def rules_for(proba, y, fit, test, matrix) -> dict:
    p, t = proba[test], y[test]
    out = {"argmax": costs.mean_cost(t, p.argmax(1), matrix),
           "least_cost_T1": costs.mean_cost(t, costs.decide(p, matrix), matrix)}
    temperature = costs.fit_temperature(proba[fit], y[fit], matrix)
    out["least_cost_chosen_T"] = costs.mean_cost(t, costs.decide(costs.calibrate(p, temperature), matrix), matrix)
    for least_cost in (False, True):
        q = shifted(p, fit_bias(proba[fit], y[fit], matrix, least_cost))
        key = "class_bias_least_cost" if least_cost else "class_bias_argmax"
        out[key] = costs.mean_cost(t, costs.decide(q, matrix) if least_cost else q.argmax(1), matrix)
    # ceilings, not rules: chosen on the held-out area's own labels, so no decision rule can do better this way
    own = costs.fit_temperature(p, t, matrix)
    out["ceiling_least_cost_own_T"] = costs.mean_cost(t, costs.decide(costs.calibrate(p, own), matrix), matrix)
    q = shifted(p, fit_bias(p, t, matrix, True))
    out["ceiling_class_bias_own_area"] = costs.mean_cost(t, costs.decide(q, matrix), matrix)
    return {"penalty_score": {k: -v for k, v in out.items()}, "chosen_temperature": temperature,
            "n_samples": int(test.sum())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("proba", help=".npz written by logs_force2020.py --save-proba")
    args = parser.parse_args()
    data = np.load(args.proba, allow_pickle=True)
    proba, y, groups = data["proba"], data["y"], data["groups"].astype(str)
    matrix = np.load(SHARED / "force2020_wells" / "penalty_matrix.npy")
    per_area = {g: rules_for(proba, y, groups != g, groups == g, matrix) for g in dict.fromkeys(groups)}
    n = sum(r["n_samples"] for r in per_area.values())
    rules = list(next(iter(per_area.values()))["penalty_score"])
    pooled = {rule: sum(r["penalty_score"][rule] * r["n_samples"] for r in per_area.values()) / n for rule in rules}
    result = {"pooled_penalty_score": pooled, "per_area": per_area, "n_samples": n}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "logs_force2020_decisions.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# FORCE 2020: decision rules on areas held out (cross-fitted)", "",
             "Penalty score (minus the mean penalty) of the default model's leave-one-quadrant-out probabilities "
             "under each decision rule; each area's rule is chosen on the other two areas (the `ceiling_` rows on the "
             "area's own labels: the most such a rule could gain). Command: see "
             "benchmarks/logs_force2020_decisions.py.", "",
             "| rule | pooled | " + " | ".join(per_area) + " |", "|---|---|" + "---|" * len(per_area)]
    for rule in rules:
        lines.append(f"| {rule} | {pooled[rule]:.4f} | "
                     + " | ".join(f"{r['penalty_score'][rule]:.4f}" for r in per_area.values()) + " |")
    lines += ["", "Temperatures chosen on the other areas: "
              + ", ".join(f"{g}: {r['chosen_temperature']:g}" for g, r in per_area.items()) + "."]
    (RESULTS / "logs_force2020_decisions.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
