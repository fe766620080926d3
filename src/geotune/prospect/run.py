"""A prospect RUN folder: fit a model from files and save it; map a saved model back onto its grid.

    RUN/model/config.json     schema_version, task "prospect", method, layers, grid, options
    RUN/model/wofe.json       weights tables (WofE)  |  ml.json (+ member_k.skops for tree models)
    RUN/model/metrics.json    resubstitution and spatial-CV AUC, each labelled
    RUN/model/curves.json     success-rate (training) and prediction-rate (held-out blocks) curves
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .. import modeldir
from ..errors import DataError, ModelError
from .deposits import read_deposits
from .layers import EvidenceStack
from .ml import METHODS as ML_METHODS
from .ml import MLProspectivity
from .validation import deposit_auc, spatial_block_cv, success_rate_curve
from .wofe import WeightsOfEvidence

TASK = "prospect"
METHODS = ("wofe",) + ML_METHODS
RESUB_LABEL = ("resubstitution (training-set) score: the model was fitted on every deposit it is scored on; "
               "optimistic, comparable with Geoscience Australia's published AUC")


def make_estimator(method: str, unit_cell_km2: float = 1.0, seed: int = 0, n_members: int = 5):
    if method == "wofe":
        return WeightsOfEvidence(unit_cell_km2=unit_cell_km2)
    if method in ML_METHODS:
        return MLProspectivity(method, n_members=n_members, unit_cell_km2=unit_cell_km2, seed=seed)
    raise DataError(f"method must be one of {METHODS}, got {method!r}")


def fit_run(layers: Sequence[str | os.PathLike], deposits: str | os.PathLike, method: str, out: str | os.PathLike,
            unit_cell_km2: float = 1.0, cv_blocks: int = 5, block_km: float | None = None, resample: bool = False,
            kinds: Mapping[str, str] | None = None, favourable: Mapping[str, str] | None = None,
            seed: int = 0, n_members: int = 5) -> dict:
    """Fit on every deposit, score it (resubstitution and spatial block CV) and write RUN/model."""
    stack = EvidenceStack.from_files(layers, resample=resample, kinds=kinds, favourable=favourable)
    points = read_deposits(deposits)
    rows, cols = points.cells(stack.grid)
    if cv_blocks and len(points) < cv_blocks:
        raise DataError(f"{len(points)} deposit(s) cannot fill {cv_blocks} cross-validation folds; "
                        "use fewer --cv-blocks", deposits)
    model = make_estimator(method, unit_cell_km2, seed, n_members).fit(stack, points)
    proba, _ = model.predict_both(stack)
    metrics: dict = {
        "method": method, "n_deposits": int(len(points)), "unit_cell_km2": unit_cell_km2,
        "resubstitution": {"label": RESUB_LABEL, "auc": deposit_auc(proba, rows, cols, stack.mask)},
    }
    curves = {"success_rate": success_rate_curve(proba, rows, cols, stack.mask)}
    metrics["resubstitution"]["success_rate_auc"] = curves["success_rate"]["auc"]
    if cv_blocks:
        cv = spatial_block_cv(lambda: make_estimator(method, unit_cell_km2, seed, n_members), stack, points,
                              n_folds=cv_blocks, block_km=block_km, seed=seed)
        curves["prediction_rate"] = cv["prediction_rate"]
        metrics["spatial_cv"] = {
            "label": "spatial block cross-validation: deposits and area of held-out blocks never seen in training",
            **{k: cv[k] for k in ("n_folds", "block_km", "seed", "auc_pooled", "auc_mean", "auc_std", "folds_detail")},
            "prediction_rate_auc": cv["prediction_rate"]["auc"],
        }
    files: dict[str, bytes] = {"curves.json": _json_bytes(curves)}
    if method == "wofe":
        files["wofe.json"] = _json_bytes(model.to_dict())
        metrics["conditional_independence"] = model.conditional_independence(stack, points)
    else:
        files["ml.json"] = _json_bytes(model.to_dict())
        files.update(model.member_files())
        metrics["sampling"] = model.sampling_
    config = {
        "task": TASK, "method": method, "unit_cell_km2": unit_cell_km2, "seed": seed, "n_members": n_members,
        "layers": [{**spec, "path": str(Path(spec["path"]).resolve())} for spec in stack.specs()],
        "resample": resample, "resampled_layers": stack.resampled,
        "deposits": str(Path(deposits).resolve()),
        "grid": {"shape": list(stack.shape), "transform": list(stack.grid.transform)[:6],
                 "crs": stack.grid.crs.to_wkt() if stack.grid.crs is not None else None},
        "cv_blocks": cv_blocks, "block_km": block_km,
    }
    modeldir.save(Path(out) / "model", config, metrics=metrics, files=files)
    return metrics


def load_run(run: str | os.PathLike):
    """(model folder, config, estimator) from RUN or RUN/model."""
    folder, config = modeldir.load_config(run)
    if config.get("task") != TASK:
        raise ModelError(f"is a {config.get('task')!r} model, not a prospectivity run", folder)
    if config["method"] == "wofe":
        model = WeightsOfEvidence.from_dict(json.loads((folder / "wofe.json").read_text(encoding="utf-8")))
    else:
        data = json.loads((folder / "ml.json").read_text(encoding="utf-8"))
        files = {p.name: p.read_bytes() for p in folder.glob("member_*.skops")}
        model = MLProspectivity.from_dict(data, files)
    return folder, config, model


def stack_for_run(config: dict) -> EvidenceStack:
    """The evidence stack a run was fitted on, re-read from the recorded files; the grid must match."""
    specs = config["layers"]
    stack = EvidenceStack.from_files([s["path"] for s in specs], resample=config.get("resample", False),
                                     kinds={s["name"]: s["kind"] for s in specs},
                                     favourable={s["name"]: s["favourable"] for s in specs},
                                     names=[s["name"] for s in specs])
    grid = config["grid"]
    if list(stack.shape) != grid["shape"] or not np.allclose(list(stack.grid.transform)[:6], grid["transform"]):
        raise DataError("the evidence layers no longer lie on the grid the run was fitted on", specs[0]["path"])
    return stack


def map_run(run: str | os.PathLike, out: str | os.PathLike) -> dict:
    """Write the prospectivity GeoTIFF ``out`` and, beside it, uncertainty.tif, map.png and curves.png."""
    from ..data.rasters import write_raster
    from .plots import curves_png, map_png

    folder, config, model = load_run(run)
    out = Path(out)
    if out.suffix.lower() not in (".tif", ".tiff"):
        raise DataError("the prospectivity map must be a GeoTIFF (.tif)", out)
    stack = stack_for_run(config)
    proba, uncertainty = model.predict_both(stack)
    points = read_deposits(config["deposits"]) if Path(config["deposits"]).is_file() else None
    curves = json.loads((folder / "curves.json").read_text(encoding="utf-8"))
    labels = {"success_rate": "success rate (training deposits)",
              "prediction_rate": "prediction rate (held-out blocks)"}
    paths = {"prospectivity": out, "uncertainty": out.with_name("uncertainty.tif"),
             "map": out.with_name("map.png"), "curves": out.with_name("curves.png")}
    write_raster(paths["prospectivity"], proba, stack.grid)
    write_raster(paths["uncertainty"], uncertainty, stack.grid)
    map_png(paths["map"], proba, uncertainty, stack.grid,
            None if points is None else (points.x, points.y), title=f"{config['method']} prospectivity")
    curves_png(paths["curves"], {labels.get(k, k): v for k, v in curves.items()})
    return {k: str(v) for k, v in paths.items()}


def _json_bytes(payload) -> bytes:
    return (json.dumps(payload, indent=1, default=modeldir._json_default) + "\n").encode("utf-8")
