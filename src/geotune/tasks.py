"""Which module trains and which class loads each task's models.

A task module provides ``fit(config: TrainConfig) -> dict`` (writes RUN/model, returns a summary
with at least ``model_dir`` and ``metrics``). A model class provides ``load(folder, config)``,
``classes``, ``predict(x)``, ``predict_proba(x)``, ``evaluate_source(data, labels, out_dir)``
and ``predict_to_file(input, out)``.
"""

from __future__ import annotations

import importlib

from .errors import ConfigError, ModelError

TRAINERS = {
    "classify": "geotune.training.classify",
    "segment": "geotune.training.segment",
    "logs": "geotune.logs.pipeline",
    "fusion": "geotune.training.fusion",
}

MODELS = {
    "classify": "geotune.predict.classifier:ImageClassifier",
    "segment": "geotune.predict.segmenter:Segmenter",
    "logs": "geotune.logs.pipeline:LogsModel",
    "fusion": "geotune.predict.fusion:FusionModel",
}


def trainer(task: str):
    if task not in TRAINERS:
        raise ConfigError(f"unknown task {task!r}; choose one of {', '.join(TRAINERS)}")
    return importlib.import_module(TRAINERS[task])


def model_class(task: str, where=None):
    if task not in MODELS:
        raise ModelError(f"model has unknown task {task!r}", where)
    module, _, name = MODELS[task].partition(":")
    return getattr(importlib.import_module(module), name)
