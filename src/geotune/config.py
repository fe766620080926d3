"""Typed, validated run configuration: every `geotune train` option, YAML in and out.

One pydantic model holds the options every task shares and, beside them, the options of each task;
the task registry (``geotune.tasks``) says which task-specific options apply to which task, and an
option set to a non-default value for a task it does not apply to is refused with the reason. Wrong
types and unknown values are refused as one ``ConfigError`` line naming the option (and the file).

A run's config is saved in its model directory; `geotune train --config run.yaml` replays it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ConfigError

STRATEGIES = ("linear-probe", "gradual", "full", "auto")
HEADS = ("linear", "seed")
PRECISIONS = ("32-true", "32", "bf16-mixed", "bf16-true", "16-mixed", "16-true", "64-true")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")


def _opt(default: Any, help: str, cli: bool = True, **constraints: Any):
    """A field with its help text and bounds (ge, gt, le, lt); ``cli=False`` keeps it to config files."""
    return Field(default, description=help, json_schema_extra={"cli": cli}, **constraints)


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # ---- every task
    data: str | None = _opt(None, "training data: image folder, CSV manifest, .npy/.npz, SEG-Y, logs CSV or LAS folder")
    labels: str | None = _opt(None, "labels .npy beside --data .npy, or the label volume / masks for --task segment")
    out: str | None = _opt(None, "run folder; the model goes to OUT/model")
    task: str = _opt("classify", "what to train (see `geotune train --help` for the list)")
    epochs: int = _opt(10, "training epochs", ge=1)
    batch_size: int = _opt(32, "samples per training step", ge=1)
    lr: float = _opt(1e-3, "learning rate (the head's; lower layers get less with --strategy gradual)", gt=0)
    val_split: float = _opt(0.2, "fraction held out for validation", gt=0, lt=1)
    group_by: str | None = _opt(None, "column whose groups (wells, surveys, sites) never straddle train and validation")
    groups: str | None = _opt(None, "arrays (.npy/.npz data): a .npy with one group per sample (well, survey, block), "
                                    "kept wholly in training or validation, like --group-by for tables")
    cv: Literal["logo"] | None = _opt(None, "logo: leave-one-group-out scores over --group-by")
    seed: int = _opt(42, "the one random seed of the run")
    class_weights: bool = _opt(False, "weigh classes by inverse frequency in the loss")
    precision: Literal[PRECISIONS] = _opt("32-true", "numeric precision of training (bf16 only where the CPU/GPU "
                                                     "runs it natively)")
    accelerator: Literal[ACCELERATORS] = _opt("auto", "where to train: auto, cpu or gpu")
    devices: int = _opt(1, "devices (processes) per node; more than 1 trains with DDP", ge=1)
    num_nodes: int = _opt(1, "machines for DDP", ge=1)
    workers: int = _opt(0, "data-loading worker processes", ge=0)
    patience: int | None = _opt(None, "early stopping: epochs without a better validation loss", ge=1)
    resume: bool = _opt(False, "continue an interrupted run from its last checkpoint")

    # ---- image and section backbones (classify, segment)
    backbone: str = _opt("tf_efficientnet_lite0", "timm model name (see `geotune models`)")
    weights: str | None = _opt(None, "a local pretrained weights file (.safetensors or .pth state dict), "
                                    "or an earlier `geotune train` classify run to start from its backbone")
    pretrained: bool = _opt(True, "start from pretrained weights (--no-pretrained: random initialisation)")
    image_size: int | None = _opt(None, "input size in pixels (classify: the backbone's; segment: 96)", ge=8)
    augment: bool = _opt(True, "random flips and shifts in training (--no-augment: none)")
    weight_decay: float = _opt(1e-4, "AdamW weight decay", ge=0)

    # ---- classify
    strategy: Literal[STRATEGIES] = _opt("auto", "linear-probe (frozen backbone, cached features), gradual "
                                                         "(unfreeze blocks from the top), full, or auto (search "
                                                         "backbones, sizes and strategies within --time-budget)")
    time_budget: float = _opt(10.0, "auto: minutes the search (and final fit) may take; small data finishes sooner",
                              gt=0)
    tta: Literal["auto", "off", "flips", "dihedral"] = _opt(
        "auto", "test-time augmentation in predict and evaluate: probabilities averaged over flips (4 views) or "
                "flips and 90-degree rotations (dihedral, 8); auto: --strategy auto keeps the one that scores best "
                "on the validation split, other strategies none")
    head: Literal[HEADS] = _opt("linear", "linear, or seed (the Keras recipe's Dense(1024, relu) head)")
    recipe: Literal["seed"] | None = _opt(None, "seed: the Keras recipe (ResNet50, frozen base, Dense(1024) head, "
                                                "Adam 1e-3); options you give win over it")
    optimizer: Literal["adamw", "adam", "sgd"] = _opt("adamw", "optimizer")
    augment_views: int = _opt(0, "linear-probe: extra augmented views per image, each computed once and cached", ge=0)
    calibrate: bool = _opt(False, "fit temperature scaling on the validation split")
    unfreeze_every: int = _opt(1, "gradual: epochs between unfreezing the next block group", ge=1)
    lr_decay: float = _opt(0.3, "gradual: each lower block group gets this fraction of the one above's rate",
                           gt=0, le=1)
    activation_cache: bool = _opt(True, "gradual: run the frozen part of the backbone once per unfreezing step")
    cache_memory_gb: float = _opt(2.0, "gradual: activations above this size are cached on disk (RUN/cache)", gt=0)
    unlabelled: str | None = _opt(None, "linear-probe: unlabelled data of the same kind, pseudo-labelled")
    pseudo_threshold: float | None = _opt(None, "linear-probe with --unlabelled: minimum pseudo-label confidence",
                                          ge=0, le=1)
    noisy_labels: Literal["detect", "downweight"] | None = _opt(None, "find likely wrong labels and report them "
                                                                      "(detect) or also down-weight them")
    fewshot: Literal["auto", "on"] | None = _opt(None, "linear-probe: pick the head by internal validation "
                                                       "(auto: when a class has <= 20 samples)")

    # ---- segment
    loss: Literal["ce", "dice", "focal", "dice+ce"] = _opt("ce", "segment: loss")
    class_names: list[str] | None = _opt(None, "segment: names of the classes 0, 1, ... in the masks")
    arch: Literal["unet", "fpn"] = _opt("unet", "segment: decoder architecture")
    clip_percentile: float = _opt(99.0, "segment: amplitudes are clipped at this percentile of |x|", gt=50, le=100)
    split: Literal["random", "tail"] | None = _opt(None, "segment: validation sections drawn at random, or the last "
                                                         "ones as a block (default: tail for SEG-Y, else random)")
    max_minutes: float | None = _opt(None, "segment: wall-clock training budget; the schedule runs on time", gt=0)
    max_steps: int | None = _opt(None, "segment: stop after this many optimizer steps; the schedule fits them", ge=1)
    threads: int | None = _opt(None, "segment: CPU threads for torch", ge=1)

    # ---- logs and fusion (tables)
    label_column: str | None = _opt(None, "logs, fusion: the facies / label column")
    depth_column: str | None = _opt(None, "logs, fusion: the depth column")
    exclude: list[str] = _opt([], "logs, fusion: columns never used as features")
    model_type: Literal["trees", "gbm", "cnn", "ensemble"] = _opt(
        "trees", "logs: gbm (gradient boosting), trees (boosting + random forest, averaged), cnn (1D CNN) or ensemble "
               "(gbm + cnn)")
    smooth: int | None = _opt(None, "logs: with --decode smooth, average probabilities over this many depth samples "
                                    "(default 5, 0 for none); given alone, it selects --decode smooth", ge=0)
    decode: Literal["hmm", "smooth", "none"] | None = _opt(None, "logs: depth-sequence decoding: hmm (facies "
                                                                 "transitions, default), smooth (moving average) or none")
    aliases: str | None = _opt(None, "logs: JSON/YAML file of extra curve mnemonics {canonical: [names]}")
    well_column: str | None = _opt(None, "logs: the well-name column (default: --group-by)")
    features: list[str] | None = _opt(None, "logs: use exactly these feature columns")
    windows: list[int] | None = _opt(None, "logs: moving-window lengths of the curve features (default 3 7 15 31)")
    curve_features: list[str] = _opt(
        ["value", "grad", "mean", "std"], "logs: feature blocks per curve: value, grad (depth gradient), dev (minus the "
                                   "well's median), mean / std (over --windows), shift (--shifts samples above and "
                                   "below)")
    shifts: list[int] | None = _opt(None, "logs: up/down shifts of the curve features")
    normalise: bool = _opt(True, "logs: add per-well robust z-score and rank features (--no-normalise: off)")
    impute: bool = _opt(True, "logs: estimate curves missing from whole wells from the other logs (--no-impute: off)")
    adjacency: str | dict[str, list[str]] | None = _opt(None, "logs: facies adjacency (JSON/YAML file or mapping) "
                                                              "for adjacent-facies scores")
    window: int = _opt(16, "logs cnn: half-window of depth samples", ge=1)
    width: int = _opt(32, "logs cnn: channels of the convolutions", ge=1)
    score_exclude: list[str] = _opt([], "logs --cv logo: wells used in training but not scored")
    max_rows_per_well: int = _opt(1000, "logs trees: labelled rows per well the trees learn from, evenly spaced "
                                        "(0: every row)", ge=0)
    cost_matrix: str | None = _opt(None, "logs: K x K cost of predicting column j when the truth is row i (.npy, "
                                         ".csv with class names, or .json); scores the expected cost and predicts the "
                                         "class of least expected cost instead of the most probable one")
    cost_classes: list[str] | None = _opt(None, "logs: the classes of a .npy cost matrix's rows and columns, in order")
    cv_group: str | None = _opt(None, "logs: validate by area, not well: quadrant (from the well name), "
                                      "spatial-blocks (well coordinates) or a column name")
    cv_min_wells: int = _opt(3, "logs --cv-group quadrant: merge neighbouring quadrants until each has this many "
                                "wells", ge=1)
    cv_blocks: int = _opt(3, "logs --cv-group spatial-blocks: number of blocks", ge=2)
    refit: bool = _opt(True, "logs: refit on every labelled row and save the model (--no-refit: held-out scores "
                             "only, for benchmarks)")
    gbm_params: dict[str, Any] = _opt({}, "logs: extra HistGradientBoosting parameters", cli=False)
    forest_params: dict[str, Any] = _opt({}, "logs: extra random-forest parameters", cli=False)
    patches: str | None = _opt(None, "fusion: .npy aligned with --data rows: patches (n,H,W) or embeddings (n,d)")
    fusion_mode: Literal["late", "early"] = _opt("late", "fusion: late (one encoder per modality) or early")

    @model_validator(mode="before")
    @classmethod
    def _flatten_extra(cls, values: Any) -> Any:
        """Configs written before options were typed kept some in an ``extra`` mapping: read them as options."""
        if isinstance(values, dict) and "extra" in values:
            values = dict(values)
            extra = values.pop("extra") or {}
            if not isinstance(extra, dict):
                raise ValueError("extra must be a mapping of option: value")
            extra = {k: v for k, v in extra.items() if k != "backbone_explicit"}  # an old internal flag
            values.update({k: v for k, v in extra.items() if k not in values or values[k] in (None, [], {})})
        return values

    # ------------------------------------------------------------------ checks across options

    def validate(self) -> "TrainConfig":
        """Check what one option alone cannot: task, task-specific options, strategy-specific options."""
        from .tasks import get_task, task_names

        if self.task not in task_names(trainable=True):
            raise ConfigError(f"--task must be one of {', '.join(task_names(trainable=True))}, got {self.task!r}")
        task = get_task(self.task)
        owned = task_specific_options()
        for name in sorted(self.model_fields_set):
            if name in owned and name not in task.options and getattr(self, name) != _default(name):
                tasks = ", ".join(t for t, opts in _options_by_task().items() if name in opts)
                raise ConfigError(f"{flag(name)} applies to --task {tasks}, not --task {self.task}")
        if self.cv == "logo" and not (self.group_by or self.groups):
            raise ConfigError("--cv logo needs --group-by COLUMN (the well, survey or site column) or --groups FILE.npy")
        if self.task == "classify" and self.strategy not in ("linear-probe", "auto"):  # auto: only probes then
            for name in ("unlabelled", "fewshot", "augment_views"):
                if getattr(self, name) not in (None, 0):
                    raise ConfigError(f"{flag(name)} works on cached features and needs --strategy linear-probe "
                                      f"(got --strategy {self.strategy})")
        return self

    def apply_recipe(self) -> "TrainConfig":
        """The Keras starting recipe in one flag; options the user set themselves win over it."""
        if self.recipe != "seed":
            return self
        given = set(self.model_fields_set)
        recipe = {"strategy": "linear-probe", "head": "seed", "optimizer": "adam", "weight_decay": 0.0, "lr": 1e-3,
                  "epochs": 10, "batch_size": 32, "val_split": 0.2, "seed": 42, "augment_views": 0,
                  "backbone": "resnet50"}
        for name, value in recipe.items():
            if name not in given:
                setattr(self, name, value)
        self.__pydantic_fields_set__ = given  # the recipe's values are not the user's
        return self

    @property
    def backbone_explicit(self) -> bool:
        """Whether the user named the backbone (the seed recipe falls back to the offline one otherwise)."""
        return "backbone" in self.model_fields_set

    # ------------------------------------------------------------------ in and out

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str | os.PathLike | None = None) -> "TrainConfig":
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(describe_validation_error(exc), source) from None

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> "TrainConfig":
        import yaml

        path = Path(path)
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError as exc:
            raise ConfigError("no such file", path) from exc
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"not valid YAML ({str(exc).splitlines()[0]})", path) from exc
        if not isinstance(values, dict):
            raise ConfigError("must be a mapping of option: value", path)
        if "train" in values and isinstance(values["train"], dict):  # a saved config.json's train block
            values = values["train"]
        values = {str(key).replace("-", "_"): value for key, value in values.items()}
        return cls.from_dict(values, path)

    def to_yaml(self, path: str | os.PathLike) -> None:
        import yaml

        from ._atomic import atomic_file

        with atomic_file(path) as handle:
            yaml.safe_dump(self.to_dict(), handle, sort_keys=False)


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _default(name: str) -> Any:
    return TrainConfig.model_fields[name].get_default(call_default_factory=True)


def _options_by_task() -> dict[str, tuple[str, ...]]:
    from .tasks import all_tasks

    return {t.name: t.options for t in all_tasks() if t.trainer is not None}


def task_specific_options() -> set[str]:
    """Options that some task declares as its own (the rest apply to every task)."""
    return {name for options in _options_by_task().values() for name in options}


def describe_validation_error(exc: ValidationError) -> str:
    """pydantic's report as one line a user can act on: the option, what is wrong, what was given."""
    parts = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error["loc"])
        if error["type"] == "extra_forbidden":
            close = _close_option(str(error["loc"][0]))
            parts.append(f"unknown option {location!r}" + (f" (did you mean {close!r}?)" if close else ""))
            continue
        name = flag(str(error["loc"][0])) if error["loc"] else "config"
        message = error["msg"]
        if error["type"] == "literal_error":
            message = message.replace("Input should be", "must be")
        else:
            message = message.replace("Input should be", "must be").replace("Value error, ", "")
        parts.append(f"{name} {message}, got {error.get('input')!r}" if error["loc"] else message)
    return "; ".join(parts)


def _close_option(name: str) -> str | None:
    import difflib

    match = difflib.get_close_matches(name, list(TrainConfig.model_fields), n=1, cutoff=0.75)
    return match[0] if match else None
