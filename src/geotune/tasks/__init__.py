"""The task registry: every kind of model geotune trains, declared once (timm's ``register_model`` idea).

A task module in this package calls :func:`register_task` with a :class:`Task` that names, as import
paths, its trainer, its loaded-model class and its web handler, and lists the inputs it reads, the
outputs ``predict`` writes, the train options that apply to it and the report sections it adds.
The command line, the web app and the report read their choices from here, so a new task is one new
module. Declarations hold strings only: reading the registry imports no torch, so ``geotune --help``
stays fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from ..errors import ConfigError, ModelError

_REGISTRY: dict[str, "Task"] = {}
# The modules that declare tasks, in the order commands list them.
TASK_MODULES = ("classify", "segment", "logs", "fusion", "prospect")


@dataclass(frozen=True)
class Task:
    name: str
    summary: str  # one line: what the task recognises or predicts
    model_class: str  # "module:Class" with load(folder, config), predict_to_file, evaluate_source
    trainer: str | None = None  # "module:function", fit(TrainConfig) -> summary; None: trained by another command
    trained_by: str = "geotune train"  # the command that writes this task's model directory
    inputs: str = ""  # what --data / predict's input may be, for help text
    predict_outputs: tuple[str, ...] = ()  # file extensions `geotune predict --out` writes
    predict_options: tuple[str, ...] = ()  # keyword options the model's predict_to_file / evaluate_source take
    options: tuple[str, ...] = ()  # TrainConfig fields that apply to this task only
    report_sections: tuple[str, ...] = ()  # geotune.report.sections modules shown for this task
    web_inputs: frozenset[str] = field(default_factory=frozenset)  # upload suffixes the web app predicts
    web_handler: str | None = None  # "module:function" (model, run_name, filename, path) -> Result
    demo: bool = False  # `geotune demo --task NAME` exists


def register_task(task: Task) -> Task:
    """Add ``task`` to the registry; a second task of the same name is a programming error."""
    if task.name in _REGISTRY and _REGISTRY[task.name] != task:
        raise ValueError(f"task {task.name!r} is registered twice")
    _REGISTRY[task.name] = task
    return task


def _load_all() -> None:
    if len(_REGISTRY) < len(TASK_MODULES):
        for name in TASK_MODULES:
            importlib.import_module(f"{__name__}.{name}")


def all_tasks() -> list[Task]:
    _load_all()
    return list(_REGISTRY.values())


def task_names(trainable: bool | None = None) -> list[str]:
    """Registered task names; ``trainable=True``: only those ``geotune train`` trains."""
    return [t.name for t in all_tasks() if trainable is None or (t.trainer is not None) == trainable]


def get_task(name: str, where=None) -> Task:
    _load_all()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown task {name!r}; choose one of {', '.join(_REGISTRY)}", where)
    return _REGISTRY[name]


def resolve(target: str):
    """The object an import path ``module:attribute`` names."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def trainer(name: str):
    """The fit function of a trainable task."""
    task = get_task(name)
    if task.trainer is None:
        raise ConfigError(f"task {name!r} is not trained by `geotune train`; use `{task.trained_by}`")
    return resolve(task.trainer)


def model_class(name: str, where=None):
    """The class that loads a model directory of this task."""
    _load_all()
    if name not in _REGISTRY:
        raise ModelError(f"model has unknown task {name!r} (this geotune knows {', '.join(_REGISTRY)})", where)
    return resolve(_REGISTRY[name].model_class)


def load_model(path):
    """Load ``RUN`` or ``RUN/model`` of any registered task: checks every file, never unpickles anything."""
    from .. import modeldir

    folder, config = modeldir.load_config(path)
    return model_class(config["task"], folder).load(folder, config)
