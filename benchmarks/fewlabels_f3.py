"""F3 fault patches with 5 % of the training labels: fault F1 with and without the unlabelled rest.

    .venv/bin/python benchmarks/fewlabels_f3.py

Frozen tf_efficientnet_lite0 (offline ImageNet weights) features (no augmented views, to keep it short)
of the 3756 45x45 patches at 64 px,
cached in ~/.cache/geotune/fewlabels. Held-out block: the last 20 % of each class in file order
(patch index order, so neighbouring overlapping patches rarely straddle train and test); of the
first 80 %, 5 % (stratified, at random; five draws) keep their labels and the rest are unlabelled.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fewlabels_common import DATA, features, summary, write  # noqa: E402

from geotune.fewlabels.fewshot import fit_fewshot  # noqa: E402
from geotune.fewlabels.semi import pseudo_label  # noqa: E402

DRAWS = 5


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    start = time.time()
    npz = DATA / "f3_fault_patches_sfd" / "f3_fault_patches_45x45.npz"
    f, y, names = features(npz, 64)
    by_class = [np.where(y == c)[0] for c in range(2)]
    cut = [int(0.8 * len(i)) for i in by_class]
    train_all = np.concatenate([i[:n] for i, n in zip(by_class, cut)])
    test = np.concatenate([i[n:] for i, n in zip(by_class, cut)])
    runs = {"baseline_logreg": [], "fewshot": [], "fewshot+unlabelled": [], "n_labelled": [], "n_pseudo": [],
            "pseudo_label_accuracy": []}
    for draw in range(DRAWS):
        rng = np.random.default_rng(draw)
        labelled = np.concatenate([rng.choice(i[:n], max(2, int(round(0.05 * n))), replace=False)
                                   for i, n in zip(by_class, cut)])
        unl = np.setdiff1d(train_all, labelled)
        base = LogisticRegression(max_iter=2000).fit(f[labelled], y[labelled])
        runs["baseline_logreg"].append(f1_score(y[test], base.predict(f[test])))
        head = fit_fewshot(f[labelled], y[labelled], None, reference=f[unl], seed=draw)
        runs["fewshot"].append(f1_score(y[test], head.predict(f[test])))
        idx, lab, conf, how = pseudo_label(f[labelled], y[labelled], f[unl])
        semi = fit_fewshot(np.concatenate([f[labelled], f[unl][idx]]), np.concatenate([y[labelled], lab]),
                           weights=np.concatenate([np.ones(len(labelled)), conf]), reference=f[unl], seed=draw)
        runs["fewshot+unlabelled"].append(f1_score(y[test], semi.predict(f[test])))
        runs["n_labelled"].append(len(labelled))
        runs["n_pseudo"].append(len(idx))
        runs["pseudo_label_accuracy"].append(float((lab == y[unl][idx]).mean()) if len(idx) else float("nan"))
        print(draw, {k: round(float(v[-1]), 3) for k, v in runs.items()}, flush=True)
    result = {"data": str(npz.relative_to(DATA)), "n_test": int(len(test)), "n_unlabelled_pool": int(len(train_all)),
              **{k: summary(v) for k, v in runs.items()}, "seconds": round(time.time() - start, 1)}
    table = ["# F3 fault patches: 5 % labels (+ the rest unlabelled), fault F1 on the held-out last 20 % per class", "",
             "Command: `.venv/bin/python benchmarks/fewlabels_f3.py`; frozen tf_efficientnet_lite0 features at 64 px; "
             "5 draws of the labelled 5 %.", "", "| model | fault F1 (mean ± std) |", "|---|---|"]
    for k in ("baseline_logreg", "fewshot", "fewshot+unlabelled"):
        table.append(f"| {k} | {np.mean(runs[k]):.3f} ± {np.std(runs[k]):.3f} |")
    table += ["", f"labelled per draw: {int(np.mean(runs['n_labelled']))}; pseudo-labelled used: "
              f"{np.mean(runs['n_pseudo']):.0f} of {len(train_all) - int(np.mean(runs['n_labelled']))} unlabelled "
              f"(pseudo-label accuracy {np.nanmean(runs['pseudo_label_accuracy']):.3f}); test: {len(test)} patches.",
              f"{result['seconds']} s on 2 CPU cores."]
    write("fewlabels_f3", result, "\n".join(table))


if __name__ == "__main__":
    main()
