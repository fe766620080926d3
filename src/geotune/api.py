"""The Python API, with the same reach as the command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import modeldir, tasks
from .config import TrainConfig


def finetune(data: str | os.PathLike | None = None, out: str | os.PathLike | None = None,
             config: TrainConfig | str | os.PathLike | None = None, **options: Any) -> dict:
    """Fine-tune on ``data`` and write ``out/model``. Options are `geotune train`'s, in snake_case.

    Returns a summary dict: ``model_dir``, ``metrics`` and, with ``cv='logo'``, ``cv`` scores.
    """
    if isinstance(config, (str, os.PathLike)):
        cfg = TrainConfig.from_yaml(config)
    else:
        cfg = config or TrainConfig()
    values = cfg.to_dict()
    if "backbone" in options:
        values.setdefault("extra", {})["backbone_explicit"] = True
    values.update({k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()})
    if data is not None:
        values["data"] = str(data)
    if out is not None:
        values["out"] = str(out)
    cfg = TrainConfig.from_dict(values).apply_recipe().validate()
    return train(cfg)


def train(config: TrainConfig) -> dict:
    config.validate()
    return tasks.trainer(config.task).fit(config)


def load_model(path: str | os.PathLike):
    """Load ``RUN`` or ``RUN/model``: checks every file, never unpickles anything."""
    folder, config = modeldir.load_config(path)
    return tasks.model_class(config["task"], folder).load(folder, config)


def evaluate(model: str | os.PathLike, data: str | os.PathLike, labels: str | os.PathLike | None = None,
             out: str | os.PathLike | None = None, **options: Any) -> dict:
    return load_model(model).evaluate_source(data, labels=labels, out_dir=out, **options)


def predict(model: str | os.PathLike, input: str | os.PathLike, out: str | os.PathLike, **options: Any) -> Path:
    return load_model(model).predict_to_file(input, out, **options)
