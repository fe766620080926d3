"""Scores for prospectivity maps, and spatial block cross-validation.

A map is scored the way Geoscience Australia scores it: each deposit point is a positive (scored by
its cell; points sharing a cell count separately), every deposit-free cell a negative, ties count
one half (ROC-AUC). The success-rate curve is the fraction of deposits captured against the
fraction of the area, cells taken from the most to the least prospective; on training deposits
it is a success-rate curve, on held-out deposits a prediction-rate curve.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import progress
from ..errors import DataError
from .layers import EvidenceStack
from .wofe import deposit_cells


def _scores(score_map: np.ndarray, rows, cols, area: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    has_deposit = np.zeros(score_map.shape, dtype=bool)
    has_deposit[rows, cols] = True
    valid = area & np.isfinite(score_map)
    positives = score_map[rows, cols]
    positives = positives[np.isfinite(positives)]
    negatives = score_map[valid & ~has_deposit]
    return positives, negatives


def deposit_auc(score_map: np.ndarray, rows, cols, area: np.ndarray | None = None) -> float:
    """ROC-AUC of a map against deposit cells (GA's way: ties one half)."""
    area = np.isfinite(score_map) if area is None else area
    positives, negatives = _scores(score_map, rows, cols, area)
    if len(positives) == 0 or len(negatives) == 0:
        return float("nan")
    # Mann-Whitney with average ranks over the few distinct values is exact and fast.
    values, inverse = np.unique(np.concatenate([positives, negatives]), return_inverse=True)
    n_pos = len(positives)
    pos_counts = np.bincount(inverse[:n_pos], minlength=len(values)).astype(float)
    neg_counts = np.bincount(inverse[n_pos:], minlength=len(values)).astype(float)
    below = np.cumsum(neg_counts) - neg_counts  # negatives strictly lower than each value
    wins = np.sum(pos_counts * (below + 0.5 * neg_counts))
    return float(wins / (n_pos * len(negatives)))


def success_rate_curve(score_map: np.ndarray, rows, cols, area: np.ndarray | None = None,
                       n_points: int = 101) -> dict:
    """Fraction of area (x) against fraction of deposits captured (y), best cells first; with its AUC."""
    area = np.isfinite(score_map) if area is None else (area & np.isfinite(score_map))
    cell_scores = score_map[area]
    deposit_scores = score_map[rows, cols]
    deposit_scores = deposit_scores[np.isfinite(deposit_scores) & area[rows, cols]]
    if len(deposit_scores) == 0:
        raise DataError("no deposit falls in the scored area")
    thresholds = np.unique(cell_scores)[::-1]
    if len(thresholds) > 2000:
        thresholds = np.unique(np.quantile(cell_scores, np.linspace(0, 1, 2001)))[::-1]
    sorted_cells = np.sort(cell_scores)
    sorted_deposits = np.sort(deposit_scores)
    area_frac = (len(sorted_cells) - np.searchsorted(sorted_cells, thresholds, side="left")) / len(sorted_cells)
    captured = (len(sorted_deposits) - np.searchsorted(sorted_deposits, thresholds, side="left")) / len(sorted_deposits)
    area_frac = np.concatenate([[0.0], area_frac, [1.0]])
    captured = np.concatenate([[0.0], captured, [1.0]])
    grid = np.linspace(0, 1, n_points)
    return {"area_fraction": grid.tolist(), "deposit_fraction": np.interp(grid, area_frac, captured).tolist(),
            "auc": float(np.trapezoid(captured, area_frac)), "n_deposits": int(len(deposit_scores))}


def block_folds(shape: tuple[int, int], deposit_rows, deposit_cols, n_folds: int, block_cells: int,
                seed: int = 0, path=None, offset_cells: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Fold number per cell: square blocks of ``block_cells`` cells a side, dealt to folds so each
    fold gets about the same number of deposits (largest blocks first, ties broken by the seed).
    ``offset_cells`` (row, col) shifts the block lattice, so one area gives several partitions."""
    if n_folds < 2:
        raise DataError(f"spatial cross-validation needs at least 2 folds, got {n_folds}", path)
    if len(deposit_rows) < n_folds:
        raise DataError(f"{len(deposit_rows)} deposit(s) cannot fill {n_folds} cross-validation folds; "
                        "use fewer blocks (--cv-blocks) or more deposits", path)
    block_cells = max(1, int(block_cells))
    # a shifted lattice: the first block row/column is cut short by the offset
    off_r, off_c = ((block_cells - int(o) % block_cells) % block_cells for o in offset_cells)
    n_block_cols = -(-(shape[1] + off_c) // block_cells)
    block_of = lambda r, c: ((np.asarray(r) + off_r) // block_cells) * n_block_cols + \
        (np.asarray(c) + off_c) // block_cells  # noqa: E731
    n_blocks = (-(-(shape[0] + off_r) // block_cells)) * n_block_cols
    per_block = np.bincount(block_of(deposit_rows, deposit_cols), minlength=n_blocks)
    if (per_block > 0).sum() < n_folds:
        raise DataError(f"deposits occupy only {(per_block > 0).sum()} spatial block(s), fewer than the "
                        f"{n_folds} folds; use smaller blocks or fewer folds", path)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(n_blocks), -per_block))
    fold_of_block = np.empty(n_blocks, dtype=int)
    load = np.zeros(n_folds)
    blocks_in = np.zeros(n_folds)
    for block in order:
        # deposits balance the folds; empty blocks are dealt round to balance area
        fold = int(np.lexsort((rng.random(n_folds), blocks_in, load))[0]) if per_block[block] else \
            int(np.lexsort((rng.random(n_folds), blocks_in))[0])
        fold_of_block[block] = fold
        load[fold] += per_block[block]
        blocks_in[fold] += 1
    rows, cols = np.indices(shape)
    return fold_of_block[block_of(rows, cols)]


def spatial_block_cv(make_model: Callable[[], object], stack: EvidenceStack, deposits, n_folds: int = 5,
                     block_km: float | None = None, seed: int = 0, curve_points: int = 101,
                     offset_km: tuple[float, float] = (0.0, 0.0)) -> dict:
    """Spatial block cross-validation: each fold's model is fitted on the other blocks only (its
    deposits and its area) and scored on the held-out blocks. ``seed`` (how blocks are dealt to
    folds) and ``offset_km`` (a shift of the block lattice, along y and x) give other partitions.

    Returns per-fold AUCs, their mean and spread, the pooled out-of-fold AUC, the prediction-rate
    curve, and the out-of-fold map (``oof_map``) and fold map (``folds``).
    """
    mask = stack.mask
    rows, cols = deposit_cells(stack, deposits, mask)
    if block_km is None:
        # about four blocks per fold along the longer side gives folds made of scattered blocks
        long_side_km = max(stack.shape) * max(stack.grid.cell_size) / 1000.0
        block_km = long_side_km / max(4, 2 * n_folds)
    block_cells = max(1, int(round(block_km * 1000.0 / max(stack.grid.cell_size))))
    cell = max(stack.grid.cell_size)
    offset = tuple(int(round(o * 1000.0 / cell)) for o in offset_km)
    folds = block_folds(stack.shape, rows, cols, n_folds, block_cells, seed, getattr(deposits, "path", None), offset)
    oof = np.full(stack.shape, np.nan)
    oof_unc = np.full(stack.shape, np.nan)
    fold_rows = []
    deposit_fold = folds[rows, cols]
    for k in range(n_folds):
        train_area = mask & (folds != k)
        test_area = mask & (folds == k)
        train = deposit_fold != k
        progress.stage(f"spatial CV fold {k + 1}/{n_folds}: fitting on {int(train.sum())} deposits, "
                       f"scoring {int((~train).sum())} held out")
        model = make_model()
        model.fit(stack, (rows[train], cols[train]), region=train_area)
        proba, unc = model.predict_both(stack, test_area)
        oof[test_area] = proba[test_area]
        oof_unc[test_area] = unc[test_area]
        held = ~train
        fold_rows.append({"fold": k, "n_train_deposits": int(train.sum()), "n_test_deposits": int(held.sum()),
                          "test_area_fraction": float(test_area.sum() / mask.sum()),
                          "auc": deposit_auc(proba, rows[held], cols[held], test_area)})
    aucs = np.array([f["auc"] for f in fold_rows], dtype=float)
    return {
        "n_folds": n_folds, "block_km": float(block_cells * cell / 1000.0), "seed": seed,
        "offset_km": [float(o * cell / 1000.0) for o in offset],
        "folds_detail": fold_rows,
        "auc_mean": float(np.nanmean(aucs)), "auc_std": float(np.nanstd(aucs, ddof=1)) if n_folds > 1 else 0.0,
        "auc_pooled": deposit_auc(oof, rows, cols, mask),
        "prediction_rate": success_rate_curve(oof, rows, cols, mask, curve_points),
        "oof_map": oof, "oof_uncertainty": oof_unc, "folds": folds,
        "note": "held-out blocks: a fold's deposits and area are never seen when fitting that fold's model",
    }
