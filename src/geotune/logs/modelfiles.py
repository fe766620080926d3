"""A fitted log estimator written as a model directory, and read back.

config.json describes the model (classes, features, decoding, costs, the shift yardstick, the training
options); the members are files beside it: boosting and forest in skops (``model.skops``,
``forest.skops``), one regressor per estimated curve (``impute_<i>.skops``), the CNN in safetensors.
"""

from __future__ import annotations

from pathlib import Path

from .. import modeldir
from ..config import TrainConfig
from ..errors import ModelError
from . import decode as hmm
from . import features as feats
from . import impute
from .engine import MODEL_TYPES
from .estimator import LogsClassifier
from .las import WELL


def save_model(out: Path, model: LogsClassifier, described: dict, cfg: TrainConfig, metrics: dict) -> Path:
    """Write ``model`` (fitted, with ``shift_reference_``) to ``out``; ``described``: the columns it was
    trained with (label, well, depth, group), the aliases and the adjacency table."""
    engine, spec = model.engine_, model.spec_
    hmm_used = model.decode == "hmm"
    config = {
        "task": "logs",
        "model_type": model.model_type,
        "classes": model.classes_,
        "label_column": described["label_column"],
        "well_column": described["well_column"],
        "depth_column": described["depth_column"],
        "group_column": described["group_column"],
        "features": spec.to_dict(),
        "feature_names": spec.names(),
        "aliases": described["aliases"],
        "smooth": model.smooth,
        "decode": model.decode,
        "transitions": model.transitions_.tolist() if hmm_used else None,
        "priors": model.priors_.tolist() if hmm_used else None,
        "hmm_emission": model.emission_ if hmm_used else None,
        "adjacency": described["adjacency"],
        # rows: true class, columns: predicted (classes order)
        "cost_matrix": None if model.cost_matrix is None else model.cost_matrix.tolist(),
        "temperature": model.temperature_,
        # curve -> file of its regressor, for wells that lack the curve entirely
        "imputers": {c: f"impute_{i}.skops" for i, c in enumerate(model.imputers_)},
        "cnn": engine.cnn_options if "cnn" in engine.parts else None,
        "shift": model.shift_reference_,
        "train": cfg.to_dict(),
    }
    files, tensors = {}, None
    if "gbm" in engine.parts:
        from . import gbm

        files["model.skops"] = gbm.to_bytes(engine.model["gbm"])
    for i, regressor in enumerate(model.imputers_.values()):
        files[f"impute_{i}.skops"] = impute.to_bytes(regressor)
    if "forest" in engine.parts:
        from . import forest

        files["forest.skops"] = forest.to_bytes(engine.model["forest"])
    if "cnn" in engine.parts:
        tensors = dict(engine.model["cnn"].state_dict())
    modeldir.save(out, config, tensors=tensors, metrics=metrics, files=files)
    return out


def load_model(folder, config: dict) -> LogsClassifier:
    """The fitted estimator a model directory holds (``config``: its verified config.json)."""
    folder = Path(folder)
    spec = feats.FeatureSpec.from_dict(config["features"])
    well, depth = config.get("well_column") or WELL, config.get("depth_column")
    model = LogsClassifier(well=well, depth=depth, model_type=config["model_type"],
                           decode=config.get("decode", "smooth"),  # models saved before decoding existed smoothed
                           smooth=int(config.get("smooth", 0)), cost_matrix=config.get("cost_matrix") or None,
                           spec=spec)
    if config["model_type"] not in MODEL_TYPES:
        raise ModelError(f"unknown logs model type {config['model_type']!r}", folder)
    engine = model.new_engine(spec, well, depth, len(config["classes"]))
    engine.cnn_options = dict(config.get("cnn") or {})
    if "gbm" in engine.parts:
        from . import gbm

        engine.model["gbm"] = gbm.from_bytes((folder / "model.skops").read_bytes(), folder / "model.skops")
    if "forest" in engine.parts:
        from . import forest

        engine.model["forest"] = forest.from_bytes((folder / "forest.skops").read_bytes(), folder / "forest.skops")
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
    model.classes_, model.spec_, model.engine_, model.imputers_ = list(config["classes"]), spec, engine, engine.imputers
    model.transitions_, model.priors_ = config.get("transitions"), config.get("priors")
    # models saved before hmm_emission existed divided by the priors
    model.emission_ = config.get("hmm_emission") or "scaled"
    model.temperature_ = float(config.get("temperature") or 1.0)
    model.shift_reference_ = config.get("shift")
    return model
