"""`geotune train --task logs` and the loaded log model behind `evaluate` and `predict`.

    fit(cfg)                      -> {"model_dir", "metrics", "cv"?, "note"}
    LogsModel.load(folder, config) .predict(df) .predict_proba(df) .classes
                                   .evaluate_source(data, labels, out_dir) .predict_to_file(input, out)

The logs options are typed fields of TrainConfig (``geotune train --help`` lists them under --task logs):
aliases, adjacency, score_exclude, features / exclude, curve_features, windows, shifts, window / width (CNN), normalise,
impute, gbm_params / forest_params (config files only), well_column, refit, max_rows_per_well,
cost_matrix / cost_classes (costs.py), cv_group / cv_min_wells / cv_blocks (areas.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import modeldir
from ..config import TrainConfig
from ..errors import ConfigError, DataError, ModelError
from . import decode as hmm
from . import features as feats
from . import areas
from . import costs
from . import impute
from . import progress
from . import shift
from .columns import label_names, not_logs
from .las import WELL, apply_aliases, load_aliases, order_by_depth, read_logs, warn

ROW = "_geotune_row"
# Default smoothing along depth, in samples: beds thinner than ~5 samples are rare in cored facies, and a
# one-sample facies flip is far more often noise (fixed a priori, not tuned on any score)
SMOOTH = 5
# Default depth-sequence decoding: none. The former default HMM (emissions divided by the class priors) cost
# 0.12-0.17 accuracy on held-out North Sea quadrants whatever the model under it; with plain emissions
# (decode.py) it adds 0.008 there (0.593 against 0.585), and on SEG 2016 the HMM added 0.004 to boosting
# (0.582 against 0.578; benchmarks/results/logs_force2020.md, logs_seg2016.md): too little for its cost by
# default. --decode hmm or smooth apply it
DECODE = "none"
DECODES = ("hmm", "smooth", "none")
WELL_NAMES = ("Well Name", "WELL", "Well", "well", "well_name", "WELL_NAME", "UWI")
DEPTH_NAMES = ("Depth", "DEPTH", "DEPT", "MD", "depth", "TDEP")


# ---------------------------------------------------------------- columns and preparation

def find_column(frame: pd.DataFrame, name: str | None, fallbacks=()) -> str | None:
    """A column by exact name, then case-insensitively, then the first fallback present."""
    if name:
        if name in frame.columns:
            return name
        lower = {str(c).lower(): c for c in frame.columns}
        if str(name).lower() in lower:
            return lower[str(name).lower()]
    for candidate in fallbacks:
        if candidate in frame.columns:
            return candidate
    return None


def _prepare(frame: pd.DataFrame, well: str | None, depth: str | None, aliases: dict, keep: set,
             source=None) -> tuple[pd.DataFrame, str, str | None]:
    """Copy with a row number, a well column (one well when there is none), aliases applied, each well in depth order."""
    frame = frame.copy()
    frame[ROW] = np.arange(len(frame))
    if well is None:
        well = WELL if WELL not in frame.columns else "__well__"
        frame[well] = Path(source).stem if source else "well"
    frame[well] = frame[well].astype(str)
    frame = apply_aliases(frame, aliases, keep=keep | {well, ROW} | ({depth} if depth else set()), path=source)
    # rows of one well together, first-appearance order; then depth order within each well
    order = pd.Categorical(frame[well], categories=pd.unique(frame[well]))
    frame = frame.iloc[np.argsort(order.codes, kind="stable")].reset_index(drop=True)
    if depth is not None:
        frame[depth] = pd.to_numeric(frame[depth], errors="coerce")
        frame = order_by_depth(frame, well, depth, source, sort=not isinstance(source, (str, os.PathLike)) or
                               Path(source).suffix.lower() != ".las")
    return frame, well, depth


def _read(data) -> tuple[pd.DataFrame, Any]:
    if isinstance(data, pd.DataFrame):
        return data, None
    return read_logs(data), data


def class_sort_key(value: str):
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def _load_adjacency(value, classes: list[str]) -> dict[str, list[str]] | None:
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"adjacency table is not readable JSON ({exc})", path) from exc
    if not isinstance(value, dict):
        raise ConfigError("adjacency must map a class to a list of adjacent classes")
    table = {str(k): [str(v) for v in vs] for k, vs in value.items()}
    unknown = sorted((set(table) | {v for vs in table.values() for v in vs}) - set(classes))
    if unknown:
        warn(f"adjacency table names classes not in the data: {', '.join(unknown)}; ignored")
    return table


def adjacent_accuracy(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str], adjacency: dict) -> float:
    """Share of samples predicted as the true facies or one the table calls adjacent to it."""
    ok = y_true == y_pred
    for i, name in enumerate(classes):
        near = [classes.index(c) for c in adjacency.get(name, []) if c in classes]
        ok |= (y_true == i) & np.isin(y_pred, near)
    return float(ok.mean()) if len(ok) else float("nan")


def score(y_true, y_pred, classes, proba=None, adjacency=None) -> dict:
    from ..evaluate.metrics import classification_metrics

    metrics = classification_metrics(y_true, y_pred, classes, proba)
    if adjacency:
        metrics["adjacent_accuracy"] = adjacent_accuracy(np.asarray(y_true), np.asarray(y_pred), classes, adjacency)
    return metrics


def smooth_proba(proba: np.ndarray, wells: np.ndarray, size: int) -> np.ndarray:
    """Average class probabilities over ``size`` samples along depth, within each well (a soft mode filter)."""
    if size <= 1:
        return proba
    from scipy.ndimage import uniform_filter1d

    out = proba.copy()
    boundaries = list(np.flatnonzero(wells[1:] != wells[:-1]) + 1) + [len(wells)]
    start = 0
    for stop in boundaries:
        out[start:stop] = uniform_filter1d(proba[start:stop], size=size, axis=0, mode="nearest")
        start = stop
    return out


# ---------------------------------------------------------------- the model, fitted or loaded

MODEL_TYPES = ("trees", "gbm", "cnn", "ensemble")
PARTS = {"trees": ("gbm", "forest"), "ensemble": ("gbm", "cnn")}


def _take(x: dict, idx) -> dict:
    return {k: v.select(idx) if hasattr(v, "select") else v[idx] for k, v in x.items()}


class _Engine:
    """What a log model needs to turn a prepared frame into probabilities.

    ``model_type`` trees (gradient boosting and a random forest on per-well features), gbm (boosting
    alone), cnn (1D CNN on depth windows) or ensemble (gbm and cnn). Members' probabilities are averaged
    with equal weights, fixed a priori: they err differently."""

    def __init__(self, spec: feats.FeatureSpec, model_type: str, well: str, depth: str | None,
                 n_classes: int, cnn_options: dict | None = None):
        self.spec, self.model_type, self.well, self.depth = spec, model_type, well, depth
        self.n_classes = n_classes
        self.cnn_options = dict(cnn_options or {})
        self.model: dict = {}
        self.trainer = None  # the CNN's Lightning trainer after a fit
        self.imputers: dict = {}  # curve -> regressor for wells that lack it (see impute.py)

    @property
    def parts(self) -> tuple[str, ...]:
        return PARTS.get(self.model_type, (self.model_type,))

    def inputs(self, frame: pd.DataFrame) -> dict:
        out = {}
        if "gbm" in self.parts or "forest" in self.parts:  # both members read the same feature table
            out["gbm"] = feats.build_features(frame, self.spec, self.well, self.depth)
        if "cnn" in self.parts:
            from . import cnn

            mean = self.cnn_options.get("mean")
            std = self.cnn_options.get("std")
            values, mean, std = cnn.channels(frame, self.spec, self.well, self.depth,
                                             None if mean is None else np.asarray(mean),
                                             None if std is None else np.asarray(std))
            self.cnn_options["mean"], self.cnn_options["std"] = list(map(float, mean)), list(map(float, std))
            out["cnn"] = cnn.windows(values, frame[self.well].to_numpy(), int(self.cnn_options.get("half", 16)))
        return out

    def fit(self, x: dict, y, cfg: TrainConfig, weights: np.ndarray | None, run_dir: Path | None = None,
            val: tuple[dict, np.ndarray] | None = None, epochs: int | None = None):
        """Fit every member. The CNN trains on the Lightning engine: a main fit (with ``run_dir``) honours
        --devices, --precision, --resume and checkpoints (and --patience on ``val`` = (inputs, labels));
        without ``run_dir`` it is a quiet single-device fit (cross-validation folds)."""
        if "gbm" in self.parts:
            from . import gbm

            sample_weight = None if weights is None else weights[y]
            self.model["gbm"] = gbm.fit(x["gbm"], y, seed=cfg.seed, sample_weight=sample_weight,
                                        categorical_mask=self.spec.categorical_mask(),
                                        **cfg.gbm_params)
        if "forest" in self.parts:
            from . import forest

            sample_weight = None if weights is None else weights[y]
            self.model["forest"] = forest.fit(x["gbm"], y, seed=cfg.seed, sample_weight=sample_weight,
                                              **cfg.forest_params)
        if "cnn" in self.parts:
            import torch

            from ..training.logs_module import fit_logs_cnn
            from .threads import threads

            torch.set_num_threads(threads())  # small convolutions: extra threads only contend for busy cores
            val_windows = None if val is None else val[0]["cnn"].labelled(val[1])
            self.model["cnn"], self.trainer = fit_logs_cnn(
                x["cnn"].labelled(y), self.n_classes, cfg, class_weight=weights,
                width=int(self.cnn_options.get("width", 32)), val=val_windows, run_dir=run_dir, epochs=epochs)
        return self

    def proba(self, x: dict) -> np.ndarray:
        out = []
        if "gbm" in self.parts:
            from . import gbm

            out.append(gbm.predict_proba(self.model["gbm"], x["gbm"], self.n_classes))
        if "forest" in self.parts:
            from . import forest

            out.append(forest.predict_proba(self.model["forest"], x["gbm"], self.n_classes))
        if "cnn" in self.parts:
            from . import cnn

            out.append(cnn.predict_proba(self.model["cnn"], x["cnn"]))
        return np.mean(out, axis=0)


def _class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    counts = np.bincount(y, minlength=n_classes).astype(float)
    weights = np.where(counts > 0, len(y) / (n_classes * np.maximum(counts, 1)), 0.0)
    return weights


# ---------------------------------------------------------------- training

# Labelled rows per well the trees learn from, evenly spaced along depth. Samples 0.15 m apart repeat each
# other; 22 North Sea wells (197,000 labelled rows) would otherwise need far more than 10 minutes on two
# cores. SEG 2016 wells (under 1,000 rows) are untouched. ``--max-rows-per-well 0`` uses every row.
MAX_ROWS_PER_WELL = 1000


def train_rows_per_well(cfg) -> int | None:
    value = cfg.max_rows_per_well
    if value is None or int(value) <= 0:
        return None
    return int(value)


def cost_scores(held_out: dict, y_all: np.ndarray, groups: np.ndarray, cost: np.ndarray) -> tuple[dict, float]:
    """Cost of the held-out decisions, pooled and per group, with the temperature fitted on the same
    held-out probabilities (one scalar; it is what the saved model decides with)."""
    rows = np.concatenate(held_out["rows"])
    proba = np.concatenate(held_out["proba"]).astype(float)
    temperature = costs.fit_temperature(proba, y_all[rows], cost)
    return costs.report(y_all[rows], proba, cost, groups[rows], temperature), temperature


def estimate_missing_curves(frame, spec, curves, well, depth, train_idx, seed, x_all: dict, models=False):
    """Curves missing from whole wells, estimated by regressors learned from ``train_idx`` (every training row,
    labelled or not); returns the filled frame, the feature tables with the estimated blocks rebuilt, and
    (``models``) the fitted regressors."""
    imputers = {}
    if curves:
        x = x_all.get("gbm")  # the tree features hold every curve's block: regressors reuse them
        imputers = {c: impute.fit(frame, spec, c, well, depth, train_idx, seed, x=x) for c in curves}
        imputers = {c: m for c, m in imputers.items() if m is not None}
    if not imputers:
        return (frame, x_all, imputers) if models else (frame, x_all)
    filled = impute.apply(frame, spec, imputers, well, depth, x=x_all.get("gbm"))
    x_fold = dict(x_all)
    if "gbm" in x_all:
        x_fold["gbm"] = impute.refresh_features(x_all["gbm"], filled, frame, spec, list(imputers), well, depth)
    return (filled, x_fold, imputers) if models else (filled, x_fold)


def fit(cfg: TrainConfig) -> dict:
    from .options import check_engine_options

    if cfg.model_type not in MODEL_TYPES:
        raise ConfigError(f"--model-type must be one of {', '.join(MODEL_TYPES)} for --task logs, "
                          f"got {cfg.model_type!r}")
    check_engine_options(cfg)
    if not cfg.label_column:
        raise ConfigError("--task logs needs --label-column (the facies column)")
    if not cfg.data:
        raise ConfigError("--data is required")
    smooth = SMOOTH if cfg.smooth is None else int(cfg.smooth)
    if smooth < 0:
        raise ConfigError(f"--smooth must be 0 (off) or a number of samples, got {smooth}")
    # an explicit --smooth N without --decode asks for the moving average
    decode = cfg.decode or ("smooth" if cfg.smooth is not None else DECODE)
    if decode not in DECODES:
        raise ConfigError(f"--decode must be one of {', '.join(DECODES)}, got {decode!r}")
    aliases = load_aliases(cfg.aliases)
    raw, source = _read(cfg.data)

    label = find_column(raw, cfg.label_column)
    if label is None:
        raise DataError(f"label column {cfg.label_column!r} not found; columns are {', '.join(map(str, raw.columns))}",
                        source)
    well_name = cfg.well_column or cfg.group_by
    well = find_column(raw, well_name, WELL_NAMES if not well_name or WELL in raw.columns else ())
    if well_name and well is None:
        raise DataError(f"--group-by column {well_name!r} not found; columns are {', '.join(map(str, raw.columns))}",
                        source)
    if well is None:
        warn("no well column found (give --group-by); the whole table is treated as one well", source)
    depth = find_column(raw, cfg.depth_column, DEPTH_NAMES)
    if cfg.depth_column and depth is None:
        raise DataError(f"--depth-column {cfg.depth_column!r} not found", source)
    group = find_column(raw, cfg.group_by) if cfg.group_by else well

    protected = {label} | ({group} if group else set())
    frame, well, depth = _prepare(raw, well, depth, aliases, protected, source)
    group = group or well
    frame[label] = label_names(frame[label])
    labelled = frame[label].notna()
    if not labelled.all():
        warn(f"{int((~labelled).sum())} rows without a label used for features only, not for training", source)
    classes = sorted(frame.loc[labelled, label].astype(str).unique().tolist(), key=class_sort_key)
    if len(classes) < 2:
        raise DataError(f"label column {label!r} holds fewer than two classes", source)
    y_all = np.full(len(frame), -1)
    index_of = {name: i for i, name in enumerate(classes)}
    y_all[labelled.to_numpy()] = frame.loc[labelled, label].astype(str).map(index_of).to_numpy()

    exclude = {label, well, ROW, group} | ({depth} if depth else set()) | set(cfg.exclude)
    if cfg.features is None:
        exclude |= not_logs(frame.drop(columns=list(exclude & set(frame.columns))), label, source)
    spec = feats.infer_spec(frame, exclude, well, depth, cfg.windows, cfg.shifts,
                            cfg.features, normalise=cfg.normalise, blocks=cfg.curve_features)
    # curves missing from whole wells are estimated from the other logs (per fold, from training wells only)
    impute_curves = impute.curves_to_impute(frame, spec, well) if cfg.impute else []
    adjacency = _load_adjacency(cfg.adjacency, classes)
    cost = costs.load(cfg.cost_matrix, classes, cfg.cost_classes) if cfg.cost_matrix else None
    held_out = {}  # rows scored on held-out data, their probabilities and groups: for calibration and costs
    cnn_options = {"half": cfg.window, "width": cfg.width}

    def new_engine():
        return _Engine(spec, cfg.model_type, well, depth, len(classes), dict(cnn_options))

    engine = new_engine()
    progress.stage(f"features of {frame[well].nunique()} wells ({len(frame)} samples, {len(spec.names())} features)")
    x_all = engine.inputs(frame)  # per-well features: computing them once for every fold leaks nothing across wells
    per_well = train_rows_per_well(cfg)
    groups = frame[group].astype(str).to_numpy()
    if cfg.cv_group:  # areas (quadrant, spatial blocks, a header column) instead of wells
        groups = areas.area_groups(frame, well, cfg.cv_group, cfg.cv_min_wells, cfg.cv_blocks, cfg.seed,
                                   source)
    wells = frame[well].to_numpy()

    def sequence(proba, test_idx, train_idx):
        """Decode held-out rows (whole stretches of well) with what the training rows teach."""
        if decode == "smooth":
            return smooth_proba(proba, wells[test_idx], smooth)
        if decode == "hmm":
            known = np.full(len(frame), -1)
            known[train_idx] = y_all[train_idx]  # held-out labels never reach the transition counts
            matrix, prior = hmm.transitions(known, wells, len(classes))
            return hmm.posterior(proba, wells[test_idx], matrix, prior)
        return proba

    run_dir = Path(cfg.out or "run")
    main_fit: dict = {}  # the epochs the main (validation-split) CNN fit ran: fewer when --patience stopped it

    def run(train_idx, test_idx, decoded=True, main=False):
        """Fit on ``train_idx``, predict ``test_idx``. ``main``: the one validated fit on the engine's full
        trainer (checkpoints in the run folder, --patience on the held-out rows, which are all labelled)."""
        e = new_engine()
        source_frame, x_fold = estimate_missing_curves(frame, spec, impute_curves, well, depth, train_idx, cfg.seed,
                                                       x_all)
        train_idx = impute.thin_rows(train_idx[y_all[train_idx] >= 0], wells, per_well)
        if "cnn" in e.parts:  # standardise with the training wells only
            from . import cnn

            _, mean, std = cnn.channels(source_frame.iloc[train_idx], spec, well, depth)
            e.cnn_options.update(mean=list(map(float, mean)), std=list(map(float, std)))
        # the shared features serve unless this fold changed the curves or the CNN's standardisation
        x = e.inputs(source_frame) if "cnn" in e.parts else x_fold
        weights = _class_weights(y_all[train_idx], len(classes)) if cfg.class_weights else None
        val = (_take(x, test_idx), y_all[test_idx]) if main else None
        e.fit(_take(x, train_idx), y_all[train_idx], cfg, weights, run_dir=run_dir if main else None, val=val)
        if main and e.trainer is not None:
            from ..training.lightning_fit import epochs_run

            main_fit["epochs"] = epochs_run(e.trainer)
        proba = e.proba(_take(x, test_idx))
        # decoding needs the held-out rows to be whole stretches of well (true for a held-out group)
        return sequence(proba, test_idx, train_idx) if decoded else proba

    summary: dict[str, Any] = {}
    notes = []
    score_exclude = {str(g) for g in cfg.score_exclude}
    if cfg.cv == "logo":
        from ..data.splits import leave_one_group_out, train_val_split
        from ..evaluate.metrics import summarise_folds

        per_group, oof, unsmoothed = {}, np.full(len(frame), -1), []
        # a group whose labels are all null (an unlabelled well) has nothing to score: no fold of its own
        folds = [fold for fold in leave_one_group_out(groups)
                 if fold[0] not in score_exclude and (y_all[fold[2]] >= 0).any()]
        for i, (name, train_idx, test_idx) in enumerate(folds, 1):
            progress.stage(f"fold {i}/{len(folds)}: holding out {name}")
            raw_proba = run(train_idx, test_idx, decoded=False)
            proba = sequence(raw_proba, test_idx, train_idx[y_all[train_idx] >= 0])
            scored = y_all[test_idx] >= 0
            oof[test_idx] = proba.argmax(1)
            held_out.setdefault("rows", []).append(test_idx[scored])
            held_out.setdefault("proba", []).append(proba[scored].astype(np.float32))
            per_group[name] = score(y_all[test_idx][scored], proba.argmax(1)[scored], classes, adjacency=adjacency)
            unsmoothed.append(score(y_all[test_idx][scored], raw_proba.argmax(1)[scored], classes)["micro_f1"])
            progress.stage(f"fold {i}/{len(folds)}: {name} accuracy {per_group[name]['accuracy']:.3f}")
        cv_summary = summarise_folds(per_group, "micro_f1")
        grouped_plain = float(np.mean(unsmoothed))
        # the same model on a random split of the same rows: how much a random split flatters it
        scored_rows = np.flatnonzero((y_all >= 0) & ~np.isin(groups, list(score_exclude)))
        tr, va = train_val_split(y_all[scored_rows], cfg.val_split, cfg.seed)
        extra_train = np.flatnonzero((y_all >= 0) & np.isin(groups, list(score_exclude)))
        # scattered rows are not stretches of well: no decoding here, and none in the grouped score it is set
        # against either (the grouped score with decoding is the headline)
        progress.stage("random split of the same rows (for comparison)")
        random_proba = run(np.concatenate([scored_rows[tr], extra_train]), scored_rows[va], decoded=False)
        random_f1 = score(y_all[scored_rows[va]], random_proba.argmax(1), classes)["micro_f1"]
        if cost is not None:
            held_out["random_split_mean_cost_argmax"] = costs.mean_cost(y_all[scored_rows[va]],
                                                                        random_proba.argmax(1), cost)
        cv_summary.update({"random_split_micro_f1": random_f1, "grouped_unsmoothed_micro_f1": grouped_plain,
                           "gap_random_minus_grouped": random_f1 - grouped_plain, "smooth": smooth,
                           "decode": decode,
                           "macro_f1_mean": float(np.mean([m["macro_f1"] for m in per_group.values()])),
                           "accuracy_mean": float(np.mean([m["accuracy"] for m in per_group.values()])),
                           "excluded_from_scoring": sorted(score_exclude)})
        if adjacency:
            cv_summary["adjacent_accuracy_mean"] = float(np.mean([m["adjacent_accuracy"] for m in per_group.values()]))
        pooled = (oof >= 0) & (y_all >= 0)
        metrics = score(y_all[pooled], oof[pooled], classes, adjacency=adjacency)
        metrics["evaluation"] = "leave-one-group-out, out-of-fold predictions pooled"
        metrics["cv_summary"] = cv_summary
        summary["cv"] = {"per_group": per_group, "summary": cv_summary}
        notes.append(f"random split micro F1 {random_f1:.3f} vs grouped {grouped_plain:.3f} (gap "
                     f"{random_f1 - grouped_plain:+.3f}, both undecoded); grouped with {decode} decoding {cv_summary['mean']:.3f}")
    else:
        from ..data.splits import train_val_split

        rows = np.flatnonzero(y_all >= 0)
        # whole wells held out whenever there are several: a random split of depth samples flatters the model
        use_groups = groups[rows] if len(np.unique(groups[rows])) >= 2 else None
        tr, va = train_val_split(y_all[rows], cfg.val_split, cfg.seed, use_groups)
        progress.stage("validation fit" + (" (held-out wells)" if use_groups is not None else " (random rows)"))
        proba = run(rows[tr], rows[va], decoded=use_groups is not None, main=True)  # whole wells only
        metrics = score(y_all[rows[va]], proba.argmax(1), classes, proba, adjacency)
        held_out = {"rows": [rows[va]], "proba": [proba]}
        metrics["evaluation"] = "grouped validation split" if use_groups is not None else "random validation split"

    if cfg.cv == "logo" and cfg.patience and "cnn" in engine.parts:
        # --patience picks the CNN's epochs on a validation split of whole wells, as without --cv
        from ..data.splits import train_val_split

        rows = np.flatnonzero(y_all >= 0)
        tr, va = train_val_split(y_all[rows], cfg.val_split, cfg.seed, groups[rows])
        run(rows[tr], rows[va], decoded=False, main=True)
        notes.append(f"--patience: the CNN's validation loss stopped improving after {main_fit['epochs']} epochs")

    temperature = None
    if cost is not None:
        metrics["cost"], temperature = cost_scores(held_out, y_all, groups, cost)
        if "random_split_mean_cost_argmax" in held_out:
            metrics["cost"]["random_split_mean_cost_argmax"] = held_out["random_split_mean_cost_argmax"]
        notes.append(f"mean cost on held-out data {metrics['cost']['mean_cost']:.3f} with least-expected-cost "
                     f"decisions, {metrics['cost']['mean_cost_argmax']:.3f} with arg-max")

    if not cfg.refit:  # benchmarks: held-out scores only, no saved model
        summary.update({"metrics": metrics, "note": "; ".join(notes + ["refit: false, no model saved"])})
        return summary

    # the saved model learns from every labelled row (the CNN for as many epochs as the validated fit ran)
    final = new_engine()
    final.cnn_options = dict(engine.cnn_options)  # CNN: standardised with every training well
    progress.stage("final fit on every labelled row")
    rows = impute.thin_rows(np.flatnonzero(y_all >= 0), wells, per_well)
    filled, x_filled, imputers = estimate_missing_curves(frame, spec, impute_curves, well, depth,
                                                         np.arange(len(frame)), cfg.seed, x_all, models=True)
    if imputers:
        x_all = final.inputs(filled) if "cnn" in final.parts else x_filled
    final.fit(_take(x_all, rows), y_all[rows], cfg,
              _class_weights(y_all[rows], len(classes)) if cfg.class_weights else None,
              run_dir=run_dir / "refit", epochs=main_fit.get("epochs") if cfg.patience else None)
    if final.trainer is not None and final.trainer.world_size > 1:
        from ..training.ddp import ddp_agreement

        metrics["ddp"] = ddp_agreement(final.trainer, final.model["cnn"])
        if final.trainer.global_rank != 0:  # only rank 0 writes the model folder
            return {**summary, "model_dir": str(run_dir / "model"), "metrics": metrics,
                    "rank": final.trainer.global_rank}
    notes.append("the saved model was refitted on all labelled rows; metrics are from held-out data")
    matrix, prior = hmm.transitions(y_all, wells, len(classes))
    # how far validation groups lay from each other: the yardstick for new wells at prediction
    shift_reference = shift.reference(frame, spec.curves, well, groups, x_all.get("gbm"))

    config = {
        "task": "logs",
        "model_type": cfg.model_type,
        "classes": classes,
        "label_column": label,
        "well_column": well if well in raw.columns else None,
        "depth_column": depth,
        "group_column": group if group in raw.columns else None,
        "features": spec.to_dict(),
        "feature_names": spec.names(),
        "aliases": aliases,
        "smooth": smooth,
        "decode": decode,
        "transitions": matrix.tolist() if decode == "hmm" else None,
        "priors": prior.tolist() if decode == "hmm" else None,
        "hmm_emission": hmm.EMISSION if decode == "hmm" else None,
        "adjacency": adjacency,
        "cost_matrix": None if cost is None else cost.tolist(),  # rows: true class, columns: predicted (classes order)
        "temperature": temperature,
        # curve -> file of its regressor, for wells that lack the curve entirely
        "imputers": {c: f"impute_{i}.skops" for i, c in enumerate(imputers)},
        "cnn": final.cnn_options if "cnn" in final.parts else None,
        "shift": shift_reference,
        "train": cfg.to_dict(),
    }
    out = run_dir / "model"
    files, tensors = {}, None
    if "gbm" in final.parts:
        from . import gbm

        files["model.skops"] = gbm.to_bytes(final.model["gbm"])
    for i, model in enumerate(imputers.values()):
        files[f"impute_{i}.skops"] = impute.to_bytes(model)
    if "forest" in final.parts:
        from . import forest

        files["forest.skops"] = forest.to_bytes(final.model["forest"])
    if "cnn" in final.parts:
        tensors = dict(final.model["cnn"].state_dict())
    modeldir.save(out, config, tensors=tensors, metrics=metrics, files=files)
    progress.stage(f"saved {out}")
    summary.update({"model_dir": str(out), "metrics": metrics, "note": "; ".join(notes)})
    return summary


# ---------------------------------------------------------------- the loaded model

class LogsModel:
    def __init__(self, folder: Path, config: dict, engine: _Engine):
        self.folder, self.config, self.engine = Path(folder), config, engine

    @classmethod
    def load(cls, folder, config: dict) -> "LogsModel":
        folder = Path(folder)
        spec = feats.FeatureSpec.from_dict(config["features"])
        engine = _Engine(spec, config["model_type"], config.get("well_column") or WELL, config.get("depth_column"),
                         len(config["classes"]), config.get("cnn") or {})
        if config["model_type"] not in MODEL_TYPES:
            raise ModelError(f"unknown logs model type {config['model_type']!r}", folder)
        if "gbm" in engine.parts:
            from . import gbm

            engine.model["gbm"] = gbm.from_bytes((folder / "model.skops").read_bytes(), folder / "model.skops")
        if "forest" in engine.parts:
            from . import forest

            engine.model["forest"] = forest.from_bytes((folder / "forest.skops").read_bytes(), folder / "forest.skops")
        engine.imputers = {}
        for curve, name in (config.get("imputers") or {}).items():
            path = folder / name
            if not path.is_file():
                raise ModelError(f"config.json names {name} (the {curve} regressor) but the file is missing", folder)
            engine.imputers[curve] = impute.from_bytes(path.read_bytes(), path)
        if "cnn" in engine.parts:
            from ..models.logs_cnn import build_log_cnn
            from . import cnn

            n_channels = len(cnn.channel_names(spec))
            net = build_log_cnn(n_channels, len(config["classes"]), int(engine.cnn_options.get("width", 32)))
            try:
                net.load_state_dict(modeldir.load_tensors(folder))
            except RuntimeError as exc:
                raise ModelError(f"weights do not fit the model described in config.json ({exc})", folder) from exc
            net.eval()
            engine.model["cnn"] = net
        return cls(folder, config, engine)

    @property
    def classes(self) -> list[str]:
        return list(self.config["classes"])

    def _prepared(self, data, allow_missing_curves: bool = False,
                  skip_bad: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
        if skip_bad and not isinstance(data, pd.DataFrame):  # --skip-bad: unreadable files of a folder left out
            from .batch import read_logs_skipping_bad

            raw, source = read_logs_skipping_bad(data), data
        else:
            raw, source = _read(data)
        cfg = self.config
        well = find_column(raw, cfg.get("well_column"), WELL_NAMES)
        depth = find_column(raw, cfg.get("depth_column"), DEPTH_NAMES)
        if cfg.get("depth_column") and depth is None:
            warn(f"no depth column ({cfg['depth_column']!r}); samples are taken in row order", source)
        label = find_column(raw, cfg["label_column"])
        keep = {label} if label else set()
        group = find_column(raw, cfg.get("group_column")) if cfg.get("group_column") else None
        keep |= {group} if group else set()
        frame, well, depth = _prepare(raw, well, depth, cfg["aliases"], keep, source)
        spec = self.engine.spec
        imputers = self.engine.imputers
        missing = [c for c in spec.curves + spec.indicators + list(spec.categorical)
                   if c not in frame.columns and c not in imputers]
        if missing:
            warn(f"curves the model was trained with are missing from the input and treated as not measured: "
                 f"{', '.join(missing)}", source)
        measured = [c for c in spec.curves if c in frame.columns and frame[c].notna().any()]
        if spec.curves and not measured and not allow_missing_curves:  # confident facies from nothing: refuse
            raise DataError(f"holds none of the model's curves ({', '.join(spec.curves[:8])}"
                            f"{', ...' if len(spec.curves) > 8 else ''}); check the curve names (--aliases at "
                            "training) or pass --allow-missing-curves to predict anyway", source)
        self.engine.well, self.engine.depth = well, depth
        if imputers:
            frame = impute.apply(frame, spec, imputers, well, depth, source, announce=True)
        return raw, frame, source

    def _proba_prepared(self, frame: pd.DataFrame, inputs: dict | None = None) -> np.ndarray:
        proba = self.engine.proba(self.engine.inputs(frame) if inputs is None else inputs)
        wells = frame[self.engine.well].to_numpy()
        decode = self.config.get("decode", "smooth")  # models saved before decoding existed smoothed
        if decode == "hmm":
            if not self.config.get("transitions") or not self.config.get("priors"):
                raise ModelError("config.json asks for hmm decoding but holds no transition table", self.folder)
            # models saved before hmm_emission existed divided by the priors
            return hmm.posterior(proba, wells, self.config["transitions"], self.config["priors"],
                                 self.config.get("hmm_emission", "scaled"))
        if decode == "smooth":
            return smooth_proba(proba, wells, int(self.config.get("smooth", 0)))
        return proba

    def predict_proba(self, data) -> np.ndarray:
        """Class probabilities, one row per input row in input order."""
        _, frame, _ = self._prepared(data)
        proba = self._proba_prepared(frame)
        out = np.empty_like(proba)
        out[frame[ROW].to_numpy()] = proba
        return out

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class indices: least expected cost when the model carries a cost matrix, else the most probable."""
        if self.config.get("cost_matrix"):
            calibrated = costs.calibrate(proba, float(self.config.get("temperature") or 1.0))
            return costs.decide(calibrated, np.asarray(self.config["cost_matrix"], dtype=float))
        return proba.argmax(1)

    def predict(self, data) -> np.ndarray:
        return np.asarray(self.classes, dtype=object)[self.decide(self.predict_proba(data))]

    def evaluate_source(self, data, labels=None, out_dir=None, allow_missing_curves: bool = False) -> dict:
        raw, frame, source = self._prepared(data, allow_missing_curves)
        label = find_column(raw, self.config["label_column"])
        if labels is not None:
            label_table = read_logs(labels)
            column = find_column(label_table, self.config["label_column"])
            if column is None or len(label_table) != len(raw):
                raise DataError(f"labels need a {self.config['label_column']!r} column with one row per data row",
                                labels)
            frame["__labels__"] = label_table[column].to_numpy()[frame[ROW].to_numpy()]
            label = "__labels__"
        if label is None:
            raise DataError(f"no label column {self.config['label_column']!r} to score against", source)
        inputs = self.engine.inputs(frame)
        proba = self._proba_prepared(frame, inputs)
        truth = label_names(frame[label])
        known = truth.notna() & truth.astype(str).isin(self.classes)
        unseen = sorted(truth[truth.notna() & ~known].astype(str).unique().tolist(), key=class_sort_key)
        if unseen:
            warn(f"{int((truth.notna() & ~known).sum())} rows with classes the model never saw "
                 f"({', '.join(unseen)}) were left out of the scores", source)
        if not known.any():
            raise DataError("no rows with a class the model knows; nothing to score", source)
        mask = known.to_numpy()
        y = np.array([self.classes.index(v) for v in truth[mask].astype(str)])
        metrics = score(y, self.decide(proba[mask]), self.classes, proba[mask], self.config.get("adjacency"))
        if unseen:
            metrics["unseen_classes_left_out"] = unseen
        group = find_column(raw, self.config.get("group_column")) or self.engine.well
        if group in frame.columns:
            metrics["per_group"] = {}
            for name in pd.unique(frame.loc[mask, group]):
                sel = (frame[group] == name).to_numpy() & mask
                yy = np.array([self.classes.index(v) for v in truth[sel].astype(str)])
                metrics["per_group"][str(name)] = {
                    "micro_f1": score(yy, self.decide(proba[sel]), self.classes)["micro_f1"], "n_samples": int(sel.sum())}
        if self.config.get("cost_matrix"):
            wells = frame[group if group in frame.columns else self.engine.well].astype(str).to_numpy()
            metrics["cost"] = costs.report(y, proba[mask], np.asarray(self.config["cost_matrix"], dtype=float),
                                           wells[mask], float(self.config.get("temperature") or 1.0))
        if self.config.get("shift"):
            metrics["shift"] = shift.measure(frame, self.engine.well, inputs.get("gbm"), self.config["shift"], source)
        if out_dir is not None:
            from .._atomic import atomic_file

            with atomic_file(Path(out_dir) / "metrics.json") as handle:
                json.dump(metrics, handle, indent=2, default=float)
        return metrics

    def predict_to_file(self, input, out, allow_missing_curves: bool = False, skip_bad: bool = False) -> Path:
        out = Path(out)
        if out.suffix.lower() != ".csv":
            raise DataError("log predictions are written as .csv", out)
        raw, frame, source = self._prepared(input, allow_missing_curves, skip_bad)
        inputs = self.engine.inputs(frame)
        proba = np.empty((len(raw), len(self.classes)))
        order = frame[ROW].to_numpy()
        proba[order] = self._proba_prepared(frame, inputs)
        columns = {}
        if self.config.get("shift"):  # each row carries its well's distance from the training wells
            report = shift.measure(frame, self.engine.well, inputs.get("gbm"), self.config["shift"], source)
            names = frame[self.engine.well].astype(str).to_numpy()
            for key, column in (("feature_distance", "shift_feature_distance"),
                                ("beyond_validation", "shift_beyond_validation")):
                values = np.empty(len(raw), dtype=object)
                values[order] = [report[n].get(key) for n in names]
                columns[column] = values
        keep = (find_column(raw, self.config.get("well_column"), WELL_NAMES), find_column(raw, self.config.get("group_column")),
                find_column(raw, self.config.get("depth_column"), DEPTH_NAMES))
        written = write_table_predictions(raw, keep, self.classes, proba, out, self.decide(proba), columns)
        if skip_bad:
            from .batch import write_skipped

            write_skipped(out, raw)
        return written


def write_table_predictions(raw: pd.DataFrame, keep, classes, proba: np.ndarray, out, decided=None, columns=None):
    """CSV of one row per input row: the identifying columns ``keep`` (None skipped), ``predicted`` and
    one ``proba_<class>`` column per class, written atomically."""
    from .._atomic import atomic_file

    table = pd.DataFrame(index=range(len(raw)))
    for name in keep:
        if name is not None and name not in table.columns:
            table[name] = raw[name].to_numpy()
    table["predicted"] = np.asarray(classes, dtype=object)[proba.argmax(1) if decided is None else decided]
    for i, name in enumerate(classes):
        table[f"proba_{name}"] = proba[:, i]
    for name, values in (columns or {}).items():
        table[name] = values
    with atomic_file(out, newline="") as handle:
        table.to_csv(handle, index=False, float_format="%.5g")
    return out
