"""A prospect RUN folder: fit a model from files and save it; map a saved model back onto its grid.

    RUN/model/config.json     schema_version, task "prospect", method, layers (paths relative to this
                              folder, and absolute), grid, options
    RUN/model/deposits.csv    the training deposits (x, y), so the folder is whole when moved
    RUN/model/wofe.json       weights tables (WofE), also as weights_<layer>.csv  |  ml.json (+ member_k.skops)
    RUN/model/metrics.json    resubstitution and spatial-CV AUC, each labelled
    RUN/model/curves.json     success-rate (training) and prediction-rate (held-out blocks) curves
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .. import modeldir, progress
from ..errors import DataError, ModelError
from .deposits import read_deposits
from .layers import EvidenceStack
from .ml import METHODS as ML_METHODS
from .ml import MLProspectivity
from .validation import deposit_auc, spatial_block_cv, success_rate_curve
from .deposits import Deposits
from .wofe import WeightsOfEvidence, WofEWarning
from .wofe_tables import DEFAULT_CUT_METHOD, DEFAULT_STUDENTIZED_THRESHOLD, table_csv

TASK = "prospect"
METHODS = ("wofe",) + ML_METHODS
RESUB_LABEL = ("resubstitution (training-set) score: the model was fitted on every deposit it is scored on; "
               "optimistic, comparable with Geoscience Australia's published AUC")


def make_estimator(method: str, unit_cell_km2: float = 1.0, seed: int = 0, n_members: int = 5,
                   wofe_options: Mapping | None = None):
    """``wofe_options``: keyword arguments of WeightsOfEvidence (weights_types, cut_method, ...)."""
    if method == "wofe":
        return WeightsOfEvidence(unit_cell_km2=unit_cell_km2, **dict(wofe_options or {}))
    if method in ML_METHODS:
        return MLProspectivity(method, n_members=n_members, unit_cell_km2=unit_cell_km2, seed=seed)
    raise DataError(f"method must be one of {METHODS}, got {method!r}")


def fit_run(layers: Sequence[str | os.PathLike], deposits: str | os.PathLike, method: str, out: str | os.PathLike,
            unit_cell_km2: float = 1.0, cv_blocks: int = 5, block_km: float | None = None, resample: bool = False,
            kinds: Mapping[str, str] | None = None, favourable: Mapping[str, str] | None = None,
            seed: int = 0, n_members: int = 5, nodata: Mapping[str, float] | None = None,
            weights_types: Mapping[str, str] | None = None, cut_method: str = DEFAULT_CUT_METHOD,
            studentized_threshold: float = DEFAULT_STUDENTIZED_THRESHOLD,
            manual_cuts: Mapping[str, float] | None = None, empty_classes: str = "zero") -> dict:
    """Fit on every deposit, score it (resubstitution and spatial block CV) and write RUN/model.

    WofE decisions (classes without deposits, layers left without weight) are listed in
    ``metrics["wofe_notes"]`` rather than raised as warnings."""
    progress.stage(f"reading {len(layers)} evidence layer(s) and the deposits")
    stack = EvidenceStack.from_files(layers, resample=resample, kinds=kinds, favourable=favourable, nodata=nodata)
    points = read_deposits(deposits)
    rows, cols = points.cells(stack.grid)
    if cv_blocks and len(points) < cv_blocks:
        raise DataError(f"{len(points)} deposit(s) cannot fill {cv_blocks} cross-validation folds; "
                        "use fewer --cv-blocks", deposits)
    wofe_options = {"weights_types": dict(weights_types or {}), "cut_method": cut_method,
                    "studentized_threshold": studentized_threshold, "manual_cuts": dict(manual_cuts or {}),
                    "empty_classes": empty_classes}
    if method != "wofe" and (weights_types or manual_cuts or cut_method != DEFAULT_CUT_METHOD
                             or empty_classes != "zero"):
        raise DataError(f"weights types and cut methods belong to weights of evidence, not to --method {method}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WofEWarning)
        return _fit_and_save(stack, points, rows, cols, deposits, method, out, unit_cell_km2, cv_blocks, block_km,
                             resample, seed, n_members, dict(nodata or {}), wofe_options)


def _fit_and_save(stack, points, rows, cols, deposits, method, out, unit_cell_km2, cv_blocks, block_km, resample,
                  seed, n_members, nodata, wofe_options) -> dict:
    progress.stage(f"{method}: fitting on {len(points)} deposits over {int(stack.mask.sum())} cells")
    model = make_estimator(method, unit_cell_km2, seed, n_members, wofe_options).fit(stack, points)
    proba, _ = model.predict_both(stack)
    metrics: dict = {
        "method": method, "n_deposits": int(len(points)), "unit_cell_km2": unit_cell_km2,
        "resubstitution": {"label": RESUB_LABEL, "auc": deposit_auc(proba, rows, cols, stack.mask)},
    }
    curves = {"success_rate": success_rate_curve(proba, rows, cols, stack.mask)}
    metrics["resubstitution"]["success_rate_auc"] = curves["success_rate"]["auc"]
    if cv_blocks:
        cv = spatial_block_cv(lambda: make_estimator(method, unit_cell_km2, seed, n_members, wofe_options), stack, points,
                              n_folds=cv_blocks, block_km=block_km, seed=seed)
        curves["prediction_rate"] = cv["prediction_rate"]
        metrics["spatial_cv"] = {
            "label": "spatial block cross-validation: deposits and area of held-out blocks never seen in training",
            **{k: cv[k] for k in ("n_folds", "block_km", "seed", "auc_pooled", "auc_mean", "auc_std", "folds_detail")},
            "prediction_rate_auc": cv["prediction_rate"]["auc"],
        }
    files: dict[str, bytes] = {"curves.json": _json_bytes(curves), DEPOSITS_COPY: _deposits_csv(points)}
    if method == "wofe":
        files["wofe.json"] = _json_bytes(model.to_dict())
        for spec in model.layers_:
            table = spec.get("cumulative", spec["classes"]) + ([spec["merged"]] if spec.get("merged") else [])
            files[weights_file_name(spec["name"])] = table_csv(table).encode("utf-8")
        metrics["conditional_independence"] = model.conditional_independence(stack, points)
        metrics["wofe_notes"] = model.notes_
    else:
        files["ml.json"] = _json_bytes(model.to_dict())
        files.update(model.member_files())
        metrics["sampling"] = model.sampling_
    folder = Path(out).resolve() / "model"
    config = {
        "task": TASK, "method": method, "unit_cell_km2": unit_cell_km2, "seed": seed, "n_members": n_members,
        "layers": [{**spec, **_portable(spec["path"], folder), "nodata": nodata.get(spec["name"])}
                   for spec in stack.specs()],
        "resample": resample, "resampled_layers": stack.resampled,
        "deposits": _portable(deposits, folder), "deposits_copy": DEPOSITS_COPY,
        "grid": {"shape": list(stack.shape), "transform": list(stack.grid.transform)[:6],
                 "crs": stack.grid.crs.to_wkt() if stack.grid.crs is not None else None},
        "cv_blocks": cv_blocks, "block_km": block_km,
    }
    if method == "wofe":
        config["wofe"] = wofe_options
    progress.stage(f"saving {Path(out) / 'model'}")
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


def stack_for_run(config: dict, folder: str | os.PathLike | None = None) -> EvidenceStack:
    """The evidence stack a run was fitted on, re-read from the recorded files; the grid must match.

    A layer is looked for relative to the model ``folder`` first (a run moved together with its data),
    then at its absolute path (a run moved alone)."""
    specs = config["layers"]
    paths = [locate(s["path"], s.get("absolute_path"), folder, f"evidence layer {s['name']!r}") for s in specs]
    nodata = {s["name"]: s["nodata"] for s in specs if s.get("nodata") is not None}
    stack = EvidenceStack.from_files(paths, resample=config.get("resample", False),
                                     kinds={s["name"]: s["kind"] for s in specs},
                                     favourable={s["name"]: s["favourable"] for s in specs},
                                     names=[s["name"] for s in specs], nodata=nodata)
    grid = config["grid"]
    if list(stack.shape) != grid["shape"] or not np.allclose(list(stack.grid.transform)[:6], grid["transform"]):
        raise DataError("the evidence layers no longer lie on the grid the run was fitted on", paths[0])
    return stack


def map_run(run: str | os.PathLike, out: str | os.PathLike, layer_rasters: bool = False) -> dict:
    """Write the prospectivity GeoTIFF ``out`` and, beside it, uncertainty.tif, map.png and curves.png;
    with ``layer_rasters`` (WofE) also weights_<layer>_<quantity>.tif for class, W+, s(W+) and the
    generalised class, W+ and s(W+)."""
    from ..data.rasters import write_raster
    from .plots import curves_png, map_png

    out = Path(out)
    if out.suffix.lower() not in (".tif", ".tiff"):
        raise DataError("the prospectivity map must be a GeoTIFF (.tif)", out)
    progress.stage(f"loading the model in {run}")
    folder, config, model = load_run(run)
    progress.stage(f"reading {len(config['layers'])} evidence layer(s)")
    stack = stack_for_run(config, folder)
    progress.stage(f"{config['method']}: predicting {int(stack.mask.sum())} cells")
    proba, uncertainty = model.predict_both(stack)
    points = _run_deposits(folder, config)
    curves = json.loads((folder / "curves.json").read_text(encoding="utf-8"))
    labels = {"success_rate": "success rate (training deposits)",
              "prediction_rate": "prediction rate (held-out blocks)"}
    paths = {"prospectivity": out, "uncertainty": out.with_name("uncertainty.tif"),
             "map": out.with_name("map.png"), "curves": out.with_name("curves.png")}
    progress.stage(f"writing {paths['prospectivity'].name}, {paths['uncertainty'].name}, "
                   f"{paths['map'].name}, {paths['curves'].name}")
    write_raster(paths["prospectivity"], proba, stack.grid)
    write_raster(paths["uncertainty"], uncertainty, stack.grid)
    map_png(paths["map"], proba, uncertainty, stack.grid,
            None if points is None else (points.x, points.y), title=f"{config['method']} prospectivity")
    curves_png(paths["curves"], {labels.get(k, k): v for k, v in curves.items()})
    if layer_rasters and isinstance(model, WeightsOfEvidence):
        progress.stage("writing the weights rasters of each layer")
        for layer, maps in model.quantity_maps(stack).items():
            for quantity, array in maps.items():
                key = f"{layer}_{quantity}"
                paths[key] = out.with_name(f"weights_{safe_name(key)}.tif")
                write_raster(paths[key], array, stack.grid)
    return {k: str(v) for k, v in paths.items()}


DEPOSITS_COPY = "deposits.csv"


def weights_file_name(layer: str) -> str:
    return f"weights_{safe_name(layer)}.csv"


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _portable(path, folder: Path) -> dict:
    """A path relative to the model folder (survives moving run and data together) and absolute."""
    absolute = Path(path).resolve()
    try:
        relative = os.path.relpath(absolute, folder)
    except ValueError:  # another drive (Windows): only the absolute path can be kept
        relative = str(absolute)
    return {"path": relative, "absolute_path": str(absolute)}


def locate(path: str, absolute: str | None, folder, what: str) -> Path:
    """The first of (``path`` relative to ``folder``, ``absolute``, ``path`` as given) that exists."""
    candidates = []
    if folder is not None and not Path(path).is_absolute():
        candidates.append(Path(folder) / path)
    if absolute:
        candidates.append(Path(absolute))
    candidates.append(Path(path))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = " or ".join(dict.fromkeys(str(c) for c in candidates))
    raise DataError(f"{what} of the run is not found (looked at {tried})", candidates[0])


def _run_deposits(folder: Path, config: dict) -> Deposits | None:
    """The training deposits: the run's own copy, else the recorded file, else none (maps only)."""
    copy = folder / config.get("deposits_copy", DEPOSITS_COPY)
    if copy.is_file():
        return read_deposits(copy)
    recorded = config.get("deposits")
    if isinstance(recorded, dict):
        try:
            return read_deposits(locate(recorded["path"], recorded.get("absolute_path"), folder, "deposits"))
        except DataError:
            return None
    return read_deposits(recorded) if recorded and Path(recorded).is_file() else None


def _deposits_csv(points: Deposits) -> bytes:
    lines = ["x,y"] + [f"{x!r},{y!r}" for x, y in zip(points.x.tolist(), points.y.tolist())]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _json_bytes(payload) -> bytes:
    return modeldir.json_text(payload).encode("utf-8")
