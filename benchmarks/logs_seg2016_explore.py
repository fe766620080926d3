"""What else was tried against the SEG 2016 leave-one-well-out target (restricted data: numbers only).

    .venv/bin/python benchmarks/logs_seg2016_explore.py [--variants base,rf-leaf5,...] [--jobs 2]

Ideas that `geotune train` options cannot express, each scored on the same folds as the product default
(`trees`: boosting + random forest, PE estimated per fold, per-well features, HMM decoding). Features and
the PE estimate are computed once per fold through geotune's own code; each variant changes one thing.
Only the HMM decoding is applied (no random-split score), so ``base`` here equals `logs_seg2016.py`'s
``trees`` mean. Writes benchmarks/results/logs_seg2016_explore.{json,md}, merged with earlier runs.
The LightGBM variants need `pip install lightgbm` (not a geotune dependency).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DATA = Path(os.environ.get("GEOTUNE_SHARED_DATA", ROOT.parent / "shared" / "data")) / "seg2016_facies_vectors" / \
    "facies_vectors.csv"
TRAIN_ONLY = "Recruit F9"
# adjacent facies (1-based) from the data's SOURCE.md
ADJACENT = {1: [2], 2: [1, 3], 3: [2], 4: [5], 5: [4, 6], 6: [5, 7, 8], 7: [6, 8], 8: [6, 7, 9], 9: [7, 8]}
STATE: dict = {}  # per process: the prepared folds


def prepare() -> dict:
    from geotune.logs import features as feats, impute, table as pipeline
    from geotune.logs.las import load_aliases

    raw = pd.read_csv(DATA)
    frame, well, depth = pipeline.prepare(raw, "Well Name", "Depth", load_aliases(None), {"Facies", "Well Name"},
                                           DATA)
    classes = sorted(frame["Facies"].astype(str).unique().tolist(), key=pipeline.class_sort_key)
    y = np.array([classes.index(v) for v in frame["Facies"].astype(str)])
    spec = feats.infer_spec(frame, {"Facies", well, pipeline.ROW, depth}, well, depth)
    curves = impute.curves_to_impute(frame, spec, well)
    wells = frame[well].to_numpy()
    folds = {}
    for name in pd.unique(wells):
        if name == TRAIN_ONLY:
            continue
        test, train = np.flatnonzero(wells == name), np.flatnonzero(wells != name)
        imputers = {c: impute.fit(frame, spec, c, well, depth, train, 42) for c in curves}
        folds[name] = dict(train=train, test=test, frame=impute.apply(frame, spec, imputers, well, depth))
    return dict(y=y, wells=wells, spec=spec, well=well, depth=depth, k=len(classes), folds=folds)


# ---------------------------------------------------------------- members: (x_train, y_train, x_test, ctx) -> proba

def gbm_member(xtr, ytr, xte, ctx, **params):
    from geotune.logs import gbm

    mask = np.zeros(xtr.shape[1], bool)
    mask[xtr.shape[1] - len(STATE["spec"].categorical):] = True  # categories are the last columns
    return gbm.predict_proba(gbm.fit(xtr, ytr, categorical_mask=mask, sample_weight=ctx.get("weight"), **params),
                             xte, STATE["k"])


def forest_member(xtr, ytr, xte, ctx, fill=None, **params):
    from geotune.logs import forest

    if fill is not None:
        xtr, xte = np.nan_to_num(xtr, nan=fill), np.nan_to_num(xte, nan=fill)
    return forest.predict_proba(forest.fit(xtr, ytr, sample_weight=ctx.get("weight"), **params), xte, STATE["k"])


def extra_trees_member(xtr, ytr, xte, ctx):
    from sklearn.ensemble import ExtraTreesClassifier

    model = ExtraTreesClassifier(n_estimators=300, min_samples_leaf=5, max_features=0.3, random_state=42)
    model.fit(np.nan_to_num(xtr, nan=-999), ytr)
    out = np.zeros((len(xte), STATE["k"]))
    out[:, model.classes_] = model.predict_proba(np.nan_to_num(xte, nan=-999))
    return out


def lightgbm_member(xtr, ytr, xte, ctx, seed=42):
    """LightGBM (not a geotune dependency) regularised like geotune's HistGB, plus row bagging."""
    import lightgbm

    cats = len(STATE["spec"].categorical)
    model = lightgbm.LGBMClassifier(n_estimators=250, learning_rate=0.05, num_leaves=15, min_child_samples=40,
                                    reg_lambda=1.0, colsample_bytree=0.5, subsample=0.7, subsample_freq=1,
                                    random_state=seed, n_jobs=1, verbose=-1)
    model.fit(xtr, ytr, categorical_feature=list(range(xtr.shape[1] - cats, xtr.shape[1])))
    out = np.zeros((len(xte), STATE["k"]))
    out[:, model.classes_] = model.predict_proba(xte)
    return out


def cnn_member(xtr, ytr, xte, ctx, half=16, epochs=15):
    """geotune's 1D CNN over depth windows, its curves first turned into per-well robust z-scores (the
    trees' best-transferring view) instead of one global standardisation."""
    from geotune.logs import cnn, features as feats

    frame, well, spec = ctx["frame"].copy(), STATE["well"], STATE["spec"]
    for c in spec.curves:
        for name in pd.unique(frame[well]):
            rows = (frame[well] == name).to_numpy()
            frame.loc[rows, c] = feats._normalised(frame.loc[rows, c].to_numpy(dtype=float))[0]
    from geotune.config import TrainConfig
    from geotune.training.logs_module import fit_logs_cnn

    values, _, _ = cnn.channels(frame, spec, well, STATE["depth"])
    x = cnn.windows(values, frame[well].to_numpy(), half)
    cfg = TrainConfig(epochs=epochs, lr=2e-3, batch_size=64, seed=42, accelerator="cpu")
    net, _ = fit_logs_cnn(x.select(ctx["train"], labels=STATE["y"][ctx["train"]]), STATE["k"], cfg)
    return cnn.predict_proba(net, x.select(ctx["test"]))


def mlp_member(xtr, ytr, xte, ctx):
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    a, b = np.nan_to_num(xtr[:, :-1]), np.nan_to_num(xte[:, :-1])  # the formation code left out
    scaler = StandardScaler().fit(a)
    a, b = np.clip(scaler.transform(a), -5, 5), np.clip(scaler.transform(b), -5, 5)
    out = np.zeros((len(b), STATE["k"]))
    for seed in range(3):
        model = MLPClassifier((64,), alpha=1.0, max_iter=300, random_state=seed).fit(a, ytr)
        out[:, model.classes_] += model.predict_proba(b) / 3
    return out


BASE = (gbm_member, forest_member)


# ---------------------------------------------------------------- feature variants: (fold frame) -> x

def default_features(frame):
    from geotune.logs import features as feats

    return feats.build_features(frame, STATE["spec"], STATE["well"], STATE["depth"])


def porosity_features(frame):
    """Neutron and density porosity recovered from their mean (PHIND) and difference (DeltaPHI)."""
    from geotune.logs import features as feats

    frame = frame.assign(PHIN=frame["PHIND"] + frame["DeltaPHI"] / 2, PHID=frame["PHIND"] - frame["DeltaPHI"] / 2)
    spec = replace(STATE["spec"], curves=STATE["spec"].curves + ["PHIN", "PHID"])
    return feats.build_features(frame, spec, STATE["well"], STATE["depth"])


def long_window_features(frame):
    from geotune.logs import features as feats

    spec = replace(STATE["spec"], windows=list(STATE["spec"].windows) + [63])
    return feats.build_features(frame, spec, STATE["well"], STATE["depth"])


def formation_z_features(frame):
    """Each curve's robust z-score within its formation in its well, beside the default features."""
    groups = frame.groupby([STATE["well"], "Formation"])
    extra = []
    for c in STATE["spec"].curves:
        median = groups[c].transform("median")
        iqr = groups[c].transform(lambda v: v.quantile(0.75) - v.quantile(0.25))
        extra.append(((frame[c] - median) / iqr.where(iqr > 0, 1.0)).to_numpy(np.float32))
    return np.concatenate([np.column_stack(extra), default_features(frame)], 1)


def zone_position_features(frame):
    """Relative position within each (well, formation) zone and the zone's thickness, beside the defaults."""
    d, keys = frame[STATE["depth"]], [frame[STATE["well"]], frame["Formation"]]
    top, base = d.groupby(keys).transform("min"), d.groupby(keys).transform("max")
    span = (base - top).where(base > top, 1.0)
    extra = np.column_stack([((d - top) / span).to_numpy(np.float32), (base - top).to_numpy(np.float32)])
    return np.concatenate([extra, default_features(frame)], 1)


# ---------------------------------------------------------------- training-set variants

def well_weights(ctx):
    """Each training well counts about equally (very small wells capped at half the mean size)."""
    w = STATE["wells"][ctx["train"]]
    _, inverse, counts = np.unique(w, return_inverse=True, return_counts=True)
    weight = (1.0 / np.maximum(counts, counts.mean() / 2))[inverse]
    return weight * len(weight) / weight.sum()


def augmented(x, ctx, copies=1, gain=0.1, offset=0.25, seed=0):
    """Domain randomisation: each training well's curves get a random gain and offset (offset in units of the
    curve's spread), features recomputed, rows appended."""
    from geotune.logs import features as feats

    rng = np.random.default_rng(seed)
    frame, well = ctx["frame"], STATE["well"]
    xs, ys = [x[ctx["train"]]], [STATE["y"][ctx["train"]]]
    for _ in range(copies):
        g = frame.copy()
        for c in STATE["spec"].curves:
            sd = np.nanstd(g[c])
            for name in pd.unique(g[well]):
                rows = (g[well] == name).to_numpy()
                g.loc[rows, c] = g.loc[rows, c] * (1 + gain * rng.standard_normal()) + offset * sd * rng.standard_normal()
        xs.append(feats.build_features(g, STATE["spec"], well, STATE["depth"])[ctx["train"]])
        ys.append(STATE["y"][ctx["train"]])
    return np.concatenate(xs), np.concatenate(ys)


VARIANTS = {
    "base": dict(),
    # the same model with other seeds: how much the score moves by chance alone
    "base-seed-1": dict(members=(partial(gbm_member, seed=1), partial(forest_member, seed=1))),
    "base-seed-2": dict(members=(partial(gbm_member, seed=2), partial(forest_member, seed=2))),
    "rf-leaf5-300": dict(members=(gbm_member, partial(forest_member, min_samples_leaf=5, n_estimators=300))),
    "rf-fill-999": dict(members=(gbm_member, partial(forest_member, fill=-999.0))),
    "rf-all-rows": dict(members=(gbm_member, partial(forest_member, min_samples_leaf=5, n_estimators=300,
                                                     max_samples=None))),
    "window-63": dict(features=long_window_features),
    "porosity-curves": dict(features=porosity_features),
    "formation-z": dict(features=formation_z_features),
    "equal-well-weight": dict(weights=well_weights),
    "augment-gain-offset": dict(augment=True),
    "plus-extratrees": dict(members=BASE + (extra_trees_member,)),
    "plus-mlp": dict(members=BASE + (mlp_member,)),
    "self-training": dict(self_train=0.9),
    "hmm-temper-1.5": dict(temper=1.5),
    "indicator-mask": dict(mask=0.02),
    "zone-position": dict(features=zone_position_features),
    "seed-bag-3": dict(members=tuple(partial(m, seed=s) for s in (42, 1, 2) for m in BASE)),
    "auto-context": dict(auto_context=True),
    "plus-lightgbm": dict(members=BASE + (lightgbm_member,)),
    "lightgbm-for-gbm": dict(members=(lightgbm_member, forest_member)),
    "plus-cnn": dict(members=BASE + (cnn_member,)),
    "cnn-only": dict(members=(cnn_member,)),
    "gbm-only": dict(members=(gbm_member,)),
    "forest-only": dict(members=(forest_member,)),
}


def indicator_mask(proba, frame, ctx, floor):
    """Classes seen in under ``floor`` of the training rows with an indicator's value are ruled out for test rows
    with that value (NM_M: non-marine rows are facies 1-3 in 98.6 % of the labels)."""
    proba = proba.copy()
    y = STATE["y"]
    for flag in STATE["spec"].indicators:
        values = frame[flag].to_numpy()
        for value in np.unique(values[ctx["train"]][~np.isnan(values[ctx["train"]])]):
            share = np.bincount(y[ctx["train"]][values[ctx["train"]] == value], minlength=STATE["k"])
            share = share / share.sum()
            rows = values[ctx["test"]] == value
            proba[np.ix_(rows, share < floor)] = 0.0
    return proba / np.maximum(proba.sum(1, keepdims=True), 1e-12)


def context_features(proba, wells):
    """Each row's class probabilities with their windowed means and the values a few samples away, well by well."""
    frame = pd.DataFrame(proba)
    groups = frame.groupby(wells, sort=False)
    blocks = [proba]
    for w in (3, 7, 15):
        blocks.append(groups.transform(lambda c: c.rolling(w, center=True, min_periods=1).mean()).to_numpy())
    for k in (-4, -2, 2, 4):
        blocks.append(groups.shift(k).to_numpy())
    return np.concatenate(blocks, 1)


def auto_context(x, ctx, members, splits=4):
    """Second stage trained on out-of-fold first-stage probabilities of the training wells (inner folds by
    well), so it learns how the first stage errs along depth; applied to the test well's first-stage output."""
    from sklearn.model_selection import GroupKFold

    y, wells = STATE["y"], STATE["wells"]
    train, test = ctx["train"], ctx["test"]
    oof = np.zeros((len(train), STATE["k"]))
    for inner_tr, inner_te in GroupKFold(splits).split(train, groups=wells[train]):
        a, b = train[inner_tr], train[inner_te]
        oof[inner_te] = np.mean([m(x[a], y[a], x[b], ctx) for m in members], 0)
    first = np.mean([m(x[train], y[train], x[test], ctx) for m in members], 0)
    # context first: gbm_member takes the last columns for the categories
    xtr = np.concatenate([context_features(oof, wells[train]), x[train]], 1)
    xte = np.concatenate([context_features(first, wells[test]), x[test]], 1)
    return (first + gbm_member(xtr, y[train], xte, ctx)) / 2


def decode(proba, ctx, temper=1.0):
    from geotune.logs import decode as hmm

    y, wells = STATE["y"], STATE["wells"]
    if temper != 1.0:
        proba = proba ** temper
        proba = proba / proba.sum(1, keepdims=True)
    known = np.full(len(y), -1)
    known[ctx["train"]] = y[ctx["train"]]  # held-out labels never reach the transition counts
    matrix, prior = hmm.transitions(known, wells, STATE["k"])
    return hmm.posterior(proba, wells[ctx["test"]], matrix, prior)


def run_variant(name: str) -> dict:
    warnings.simplefilter("ignore")
    if not STATE:
        STATE.update(prepare())
    v = VARIANTS[name]
    members, features = v.get("members", BASE), v.get("features", default_features)
    start, scores = time.time(), {}
    confusion = np.zeros((STATE["k"], STATE["k"]), int)
    for well_name, fold in STATE["folds"].items():
        ctx = dict(fold)
        x = features(fold["frame"])
        if "weights" in v:
            ctx["weight"] = v["weights"](ctx)
        xtr, ytr = augmented(x, ctx) if v.get("augment") else (x[fold["train"]], STATE["y"][fold["train"]])
        xte = x[fold["test"]]
        if v.get("auto_context"):
            proba = auto_context(x, ctx, members)
        else:
            proba = np.mean([m(xtr, ytr, xte, ctx) for m in members], 0)
        if "mask" in v:
            proba = indicator_mask(proba, fold["frame"], ctx, v["mask"])
        if "self_train" in v:  # refit with the held-out well's confident decoded predictions as labels
            q = decode(proba, ctx)
            keep = q.max(1) >= v["self_train"]
            xtr, ytr = np.concatenate([xtr, xte[keep]]), np.concatenate([ytr, q.argmax(1)[keep]])
            proba = np.mean([m(xtr, ytr, xte, ctx) for m in members], 0)
        pred = decode(proba, ctx, v.get("temper", 1.0)).argmax(1)
        scores[well_name] = float((pred == STATE["y"][fold["test"]]).mean())
        np.add.at(confusion, (STATE["y"][fold["test"]], pred), 1)
    values = np.array(list(scores.values()))
    return dict(micro_f1_mean=float(values.mean()), micro_f1_std=float(values.std()), micro_f1_min=float(values.min()),
                micro_f1_max=float(values.max()), per_well_micro_f1=scores, confusion=confusion.tolist(),
                seconds=round(time.time() - start, 1))


def render(results: dict) -> str:
    base = results.get("base", {}).get("micro_f1_mean")
    lines = ["# SEG 2016 leave-one-well-out: ideas tried against the 0.60 target", "",
             f"Command: `.venv/bin/python benchmarks/logs_seg2016_explore.py --variants {','.join(results)}`"
             " (the LightGBM variants need `pip install lightgbm`, not a geotune dependency)", "",
             "Each variant changes one thing in the default `trees` model (base); HMM decoding throughout; micro F1 "
             "over the 9 real wells.", "",
             "| variant | micro F1 mean ± sd | min–max | vs base | s |", "|---|---|---|---|---|"]
    for name, r in results.items():
        delta = "" if base is None else f"{r['micro_f1_mean'] - base:+.3f}"
        lines.append(f"| {name} | {r['micro_f1_mean']:.3f} ± {r['micro_f1_std']:.3f} | {r['micro_f1_min']:.2f}–"
                     f"{r['micro_f1_max']:.2f} | {delta} | {r['seconds']} |")
    lines += ["", "base-seed-1 and base-seed-2 are the base model with other random seeds: differences of that "
              "size are chance. s: the variant's wall time (with --jobs 2, two variants share the two cores)."]
    if "confusion" in results.get("base", {}):
        cm = np.array(results["base"]["confusion"])
        errors = cm.sum() - np.trace(cm)
        adjacent = sum(cm[i - 1, j - 1] for i, js in ADJACENT.items() for j in js)
        lines += ["", f"Where base errs (all 9 folds): {errors} wrong samples, {adjacent / errors:.0%} of them between "
                  f"adjacent facies (SOURCE.md's table); coarse vs fine non-marine siltstone (2<->3) alone "
                  f"{(cm[1, 2] + cm[2, 1]) / errors:.0%}, wackestone vs packstone (6<->8) {(cm[5, 7] + cm[7, 5]) / errors:.0%}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--jobs", type=int, default=2, help="variants run in parallel, one thread each")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args(argv)
    if not DATA.is_file():
        print(f"SEG 2016 data not found at {DATA}; skipped", file=sys.stderr)
        return 2
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    if any("lightgbm" in n for n in names):
        try:
            import lightgbm  # noqa: F401
        except ImportError:
            parser.error("the lightgbm variants need LightGBM: pip install lightgbm")
    out = Path(args.out)
    results_file = out / "logs_seg2016_explore.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for name, result in zip(names, pool.map(run_variant, names)):
            results[name] = result
            print(f"{name}: {result['micro_f1_mean']:.4f} ± {result['micro_f1_std']:.3f}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    report = render(results)
    (out / "logs_seg2016_explore.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
