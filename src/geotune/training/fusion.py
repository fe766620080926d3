"""`geotune train --task fusion`: logs (or any table) fused with a seismic/image patch per row.

Input: ``--data`` a CSV/Parquet table with ``--label-column`` and numeric feature columns, and
``--patches`` a .npy aligned row by row with it: either patches (n, height, width), embedded once by
a fixed conv net (``models.fusion.frozen_patch_embedder``), or embeddings (n, d) cached from a
fine-tuned backbone. ``--fusion-mode late`` (default: one encoder per modality, modality dropout)
or ``early`` (the baseline: everything concatenated). With ``--group-by`` the validation split keeps
groups (wells) apart. The saved model is refitted on every labelled row.

Both fits run on the Lightning engine (``make_trainer``): the validated fit in RUN (checkpoints in
RUN/checkpoints; --patience watches its validation loss), the refit in RUN/refit for as many epochs as
the validated fit ran. --devices N trains both with DDP; only rank 0 writes RUN/model, and
metrics["ddp"] records every rank's parameter checksum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..config import TrainConfig
from ..errors import ConfigError, DataError

EMBEDDER = {"n_filters": 16, "seed": 0}  # the fixed patch embedder's settings, recorded in config.json


def read_patches(path, n_rows: int, embedder: dict | None = None) -> np.ndarray:
    """(n_rows, d) embeddings from a patches (n, H, W) or embeddings (n, d) .npy; DataError naming the file."""
    from ..models.fusion import frozen_patch_embedder

    if path is None:
        raise ConfigError("a fusion model needs --patches FILE.npy (one patch or embedding per table row)")
    path = Path(path)
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError as exc:
        raise DataError("no such file", path) from exc
    except (OSError, ValueError) as exc:
        raise DataError(f"not a readable .npy array ({exc})", path) from exc
    if array.ndim not in (2, 3) or not np.issubdtype(array.dtype, np.number):
        raise DataError(f"patches must be numeric (n, height, width) or embeddings (n, d), got {array.dtype} "
                        f"{array.shape}", path)
    if len(array) != n_rows:
        raise DataError(f"{len(array)} patches for {n_rows} table rows; they must align row by row", path)
    if array.ndim == 3:
        array = frozen_patch_embedder(**(embedder or EMBEDDER))(array)
    if not np.isfinite(array).all():
        raise DataError("patches hold NaN or infinite values", path)
    return array.astype(np.float32)


def table_features(table: pd.DataFrame, columns: list[str], source) -> np.ndarray:
    """The numeric feature columns; a missing column is a DataError (missing values stay NaN)."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"columns the model needs are missing: {', '.join(missing)}", source)
    return table[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float32)


def fit(cfg: TrainConfig) -> dict:
    from ..data.splits import train_val_split
    from ..logs.las import read_logs
    from ..logs.scoring import score
    from ..logs.table import DEPTH_NAMES, class_sort_key, find_column
    from .ddp import ddp_agreement
    from .fusion_classifier import FusionClassifier
    from .lightning_fit import epochs_run

    if not cfg.data or not cfg.label_column:
        raise ConfigError("--task fusion needs --data TABLE and --label-column")
    table = read_logs(cfg.data)
    label = find_column(table, cfg.label_column)
    if label is None:
        raise DataError(f"label column {cfg.label_column!r} not found", cfg.data)
    group = find_column(table, cfg.group_by) if cfg.group_by else None
    if cfg.group_by and group is None:
        raise DataError(f"--group-by column {cfg.group_by!r} not found", cfg.data)
    embeddings = read_patches(cfg.patches, len(table))
    skip = {label, group, find_column(table, cfg.depth_column, DEPTH_NAMES)} | set(cfg.exclude)
    columns = [c for c in table.columns if c not in skip and pd.api.types.is_numeric_dtype(table[c])]
    if not columns:
        raise DataError("no numeric feature columns beside the label", cfg.data)
    features = table_features(table, columns, cfg.data)

    labelled = table[label].notna().to_numpy()
    classes = sorted(table.loc[labelled, label].astype(str).unique().tolist(), key=class_sort_key)
    if len(classes) < 2:
        raise DataError(f"label column {label!r} holds fewer than two classes", cfg.data)
    rows = np.flatnonzero(labelled)
    y = np.array([classes.index(v) for v in table.loc[labelled, label].astype(str)])
    blocks = {"logs": features[rows], "patches": embeddings[rows]}
    mode = cfg.fusion_mode

    def model(epochs: int):
        return FusionClassifier(mode=mode, epochs=epochs, lr=cfg.lr, batch_size=cfg.batch_size, seed=cfg.seed)

    run_dir = Path(cfg.out or "run")
    groups = table[group].astype(str).to_numpy()[rows] if group else None
    tr, va = train_val_split(y, cfg.val_split, cfg.seed, groups)
    val_blocks = {k: v[va] for k, v in blocks.items()}
    held_out = model(cfg.epochs).fit({k: v[tr] for k, v in blocks.items()}, y[tr], len(classes), cfg=cfg,
                                     run_dir=run_dir, val=(val_blocks, y[va]))
    proba = held_out.predict_proba(val_blocks)
    metrics = score(y[va], proba.argmax(1), classes, proba)
    metrics["evaluation"] = "grouped validation split" if groups is not None else "random validation split"

    # --patience: the refit runs as many epochs as the validated fit did before its loss stopped improving
    epochs = epochs_run(held_out.trainer) if cfg.patience else cfg.epochs
    final = model(epochs).fit(blocks, y, len(classes), cfg=cfg, run_dir=run_dir / "refit")
    if final.trainer.world_size > 1:
        metrics["ddp"] = ddp_agreement(final.trainer, final.net)
        if final.trainer.global_rank != 0:  # only rank 0 writes the model folder
            return {"model_dir": str(run_dir / "model"), "metrics": metrics, "rank": final.trainer.global_rank}
    out = run_dir / "model"
    final.save(out, classes=classes, metrics=metrics,
               extra={"feature_columns": columns, "label_column": label, "group_column": group,
                      "embedder": EMBEDDER, "train": cfg.to_dict()})
    return {"model_dir": str(out), "metrics": metrics,
            "note": f"{mode} fusion of {len(columns)} table columns and {embeddings.shape[1]}-d patch embeddings; "
                    f"the saved model was refitted on all labelled rows ({epochs} epochs)"}
