"""`geotune train --task logs`: read the wells, validate, fit the saved model, write the model directory.

    fit(cfg) -> {"model_dir", "metrics", "cv"?, "note"}

The parts: table.py (reading and preparing), estimator.py (the model, fitted per fold and for the saved
model), validation.py (the protocols), scoring.py, model.py (the saved model loaded: ``LogsModel``).
The logs options are typed fields of TrainConfig (``geotune train --help`` lists them under --task logs):
aliases, adjacency, score_exclude, features / exclude, curve_features, windows, shifts, window / width (CNN), normalise,
impute, gbm_params / forest_params (config files only), well_column, refit, max_rows_per_well,
cost_matrix / cost_classes (costs.py), cv_group / cv_min_wells / cv_blocks (areas.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone

from ..config import TrainConfig
from ..errors import ConfigError, DataError
from . import areas, costs, progress, shift, validation
from . import features as feats
from .columns import label_names, not_logs
from .engine import MODEL_TYPES, parts_of
from .estimator import LogsClassifier
from .las import WELL, load_aliases, warn
from .modelfiles import save_model
from .scoring import cost_scores, load_adjacency
from .sequence import DECODE, DECODES, SMOOTH
from .table import DEPTH_NAMES, ROW, WELL_NAMES, encode_labels, find_column, prepare, read


def _decoding(cfg: TrainConfig) -> tuple[str, int]:
    smooth = SMOOTH if cfg.smooth is None else int(cfg.smooth)
    if smooth < 0:
        raise ConfigError(f"--smooth must be 0 (off) or a number of samples, got {smooth}")
    # an explicit --smooth N without --decode asks for the moving average
    decode = cfg.decode or ("smooth" if cfg.smooth is not None else DECODE)
    if decode not in DECODES:
        raise ConfigError(f"--decode must be one of {', '.join(DECODES)}, got {decode!r}")
    return decode, smooth


def estimator_for(cfg: TrainConfig, well: str, depth: str | None, spec: feats.FeatureSpec | None = None
                  ) -> LogsClassifier:
    """The estimator ``geotune train`` fits in every fold and for the saved model, from its options
    (``spec``: the features chosen for the whole table; None: chosen by the estimator's own ``fit``)."""
    decode, smooth = _decoding(cfg)
    return LogsClassifier(well=well, depth=depth, model_type=cfg.model_type, decode=decode, smooth=smooth,
                          impute=cfg.impute, max_rows_per_well=cfg.max_rows_per_well, seed=cfg.seed,
                          gbm_params=cfg.gbm_params, forest_params=cfg.forest_params, normalise=cfg.normalise,
                          curve_features=tuple(cfg.curve_features), windows=cfg.windows, shifts=cfg.shifts,
                          features=cfg.features, exclude=tuple(cfg.exclude), class_weights=cfg.class_weights,
                          window=cfg.window, width=cfg.width, spec=spec, train_config=cfg)


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
    _decoding(cfg)
    aliases = load_aliases(cfg.aliases)
    raw, source = read(cfg.data)

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
    frame, well, depth = prepare(raw, well, depth, aliases, protected, source)
    group = group or well
    frame[label] = label_names(frame[label])
    labelled = frame[label].notna()
    if not labelled.all():
        warn(f"{int((~labelled).sum())} rows without a label used for features only, not for training", source)
    y_all, classes = encode_labels(frame[label])
    if len(classes) < 2:
        raise DataError(f"label column {label!r} holds fewer than two classes", source)

    exclude = {label, well, ROW, group} | ({depth} if depth else set()) | set(cfg.exclude)
    if cfg.features is None:
        exclude |= not_logs(frame.drop(columns=list(exclude & set(frame.columns))), label, source)
    spec = feats.infer_spec(frame, exclude, well, depth, cfg.windows, cfg.shifts,
                            cfg.features, normalise=cfg.normalise, blocks=cfg.curve_features)
    adjacency = load_adjacency(cfg.adjacency, classes)
    cost = costs.load(cfg.cost_matrix, classes, cfg.cost_classes) if cfg.cost_matrix else None
    base = estimator_for(cfg, well, depth, spec)
    progress.stage(f"features of {frame[well].nunique()} wells ({len(frame)} samples, {len(spec.names())} features)")
    data = base.rows(frame, well, depth, y_all, classes, spec, source)
    groups = frame[group].astype(str).to_numpy()
    if cfg.cv_group:  # areas (quadrant, spatial blocks, a header column) instead of wells
        groups = areas.area_groups(frame, well, cfg.cv_group, cfg.cv_min_wells, cfg.cv_blocks, cfg.seed,
                                   source)

    run_dir = Path(cfg.out or "run")
    summary: dict[str, Any] = {}
    if cfg.cv == "logo":
        checked = validation.leave_one_group_out(base, data, groups, cfg, adjacency, cost)
        summary["cv"] = checked.cv
        if cfg.patience and "cnn" in parts_of(cfg.model_type):
            checked.epochs = validation.patience_epochs(base, data, groups, cfg, run_dir)
            checked.notes.append(f"--patience: the CNN's validation loss stopped improving after {checked.epochs} "
                                 "epochs")
    else:
        checked = validation.validation_split(base, data, groups, cfg, adjacency, run_dir)
    metrics, notes = checked.metrics, checked.notes

    temperature = None
    if cost is not None:
        metrics["cost"], temperature = cost_scores(checked.held_out, y_all, groups, cost)
        if "random_split_mean_cost_argmax" in checked.held_out:
            metrics["cost"]["random_split_mean_cost_argmax"] = checked.held_out["random_split_mean_cost_argmax"]
        notes.append(f"mean cost on held-out data {metrics['cost']['mean_cost']:.3f} with least-expected-cost "
                     f"decisions, {metrics['cost']['mean_cost_argmax']:.3f} with arg-max")

    if not cfg.refit:  # benchmarks: held-out scores only, no saved model
        summary.update({"metrics": metrics, "note": "; ".join(notes + ["refit: false, no model saved"])})
        return summary

    # the saved model learns from every labelled row (the CNN for as many epochs as the validated fit ran)
    progress.stage("final fit on every labelled row")
    final = clone(base).set_params(cost_matrix=cost)
    final.fit_rows(data, np.arange(len(frame)), run_dir=run_dir / "refit",
                   epochs=checked.epochs if cfg.patience else None, whole_table=True)
    final.temperature_ = temperature
    trainer = final.engine_.trainer
    if trainer is not None and trainer.world_size > 1:
        from ..training.ddp import ddp_agreement

        metrics["ddp"] = ddp_agreement(trainer, final.engine_.model["cnn"])
        if trainer.global_rank != 0:  # only rank 0 writes the model folder
            return {**summary, "model_dir": str(run_dir / "model"), "metrics": metrics, "rank": trainer.global_rank}
    notes.append("the saved model was refitted on all labelled rows; metrics are from held-out data")
    # how far validation groups lay from each other: the yardstick for new wells at prediction
    final.shift_reference_ = shift.reference(frame, spec.curves, well, groups, final.fitted_inputs_.get("gbm"))
    described = {
        "label_column": label,
        "well_column": well if well in raw.columns else None,
        "depth_column": depth,
        "group_column": group if group in raw.columns else None,
        "aliases": aliases,
        "adjacency": adjacency,
    }
    out = save_model(run_dir / "model", final, described, cfg, metrics)
    progress.stage(f"saved {out}")
    summary.update({"model_dir": str(out), "metrics": metrics, "note": "; ".join(notes)})
    return summary
