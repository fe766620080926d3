"""The Python API, with the same reach as the command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import modeldir, tasks
from .config import TrainConfig, flag
from .errors import ConfigError, DataError


def finetune(data: str | os.PathLike | None = None, out: str | os.PathLike | None = None,
             config: TrainConfig | str | os.PathLike | None = None, **options: Any) -> dict:
    """Fine-tune on ``data`` and write ``out/model``. Options are `geotune train`'s, in snake_case.

    Returns a summary dict: ``model_dir``, ``metrics`` and, with ``cv='logo'``, ``cv`` scores.
    """
    if isinstance(config, (str, os.PathLike)):
        values = TrainConfig.from_yaml(config).model_dump(exclude_unset=True)
    else:
        values = config.model_dump(exclude_unset=True) if config is not None else {}
    values.update({k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()})
    if data is not None:
        values["data"] = str(data)
    if out is not None:
        values["out"] = str(out)
    return train(TrainConfig.from_dict(values).apply_recipe())


def train(config: TrainConfig) -> dict:
    """Train the task ``config.task`` names; inputs are checked before any heavy library is imported."""
    config.validate()
    for name in ("data", "labels", "groups", "unlabelled", "patches", "weights"):
        value = getattr(config, name)
        if value and not Path(value).exists():
            raise DataError("no such file" if Path(value).suffix else "no such file or folder", value)
    return tasks.trainer(config.task)(config)


load_model = tasks.load_model


def evaluate(model: str | os.PathLike, data: str | os.PathLike, labels: str | os.PathLike | None = None,
             out: str | os.PathLike | None = None, **options: Any) -> dict:
    return _load_for(model, options).evaluate_source(data, labels=labels, out_dir=out, **options)


def predict(model: str | os.PathLike, input: str | os.PathLike, out: str | os.PathLike, **options: Any) -> Path:
    return _load_for(model, options).predict_to_file(input, out, **options)


def _load_for(model: str | os.PathLike, options: dict):
    """The loaded model, after refusing any option its task does not take (rather than ignoring it)."""
    folder, config = modeldir.load_config(model)
    task = tasks.get_task(str(config["task"]), folder)
    for name in options:
        if name not in task.predict_options:
            users = [t.name for t in tasks.all_tasks() if name in t.predict_options]
            raise ConfigError(f"{flag(name)} applies to {', '.join(users) or 'no'} models; this is a {task.name} "
                              "model", model)
    return tasks.model_class(task.name, folder).load(folder, config)
