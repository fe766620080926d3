"""Typed run configuration: every `geotune train` option, YAML in and out.

A run's config is saved in its model directory; `geotune train --config run.yaml` replays it.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

TASKS = ("classify", "segment", "logs", "fusion")
STRATEGIES = ("linear-probe", "gradual", "full")
HEADS = ("linear", "seed")


@dataclass
class TrainConfig:
    data: str | None = None
    labels: str | None = None
    out: str | None = None
    task: str = "classify"
    backbone: str = "tf_efficientnet_lite0"
    weights: str | None = None  # a local weights file; else offline package, else hub
    pretrained: bool = True
    strategy: str = "linear-probe"
    head: str = "linear"
    recipe: str | None = None
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adamw"
    weight_decay: float = 1e-4
    val_split: float = 0.2
    group_by: str | None = None
    cv: str | None = None
    seed: int = 42
    image_size: int | None = None  # None: the backbone's pretrained input size
    augment: bool = True
    augment_views: int = 0  # linear-probe: extra augmented views, each computed once and cached
    calibrate: bool = False
    precision: str = "32-true"
    accelerator: str = "auto"
    devices: int = 1
    num_nodes: int = 1
    workers: int = 0
    patience: int | None = None
    resume: bool = False
    unfreeze_every: int = 1  # gradual: epochs between unfreezing the next block group
    lr_decay: float = 0.3  # gradual: each lower block group gets this fraction of the one above
    class_weights: bool = False
    # segment
    loss: str = "ce"  # ce | dice | focal | dice+ce
    # logs
    label_column: str | None = None
    depth_column: str | None = None
    model_type: str = "trees"  # logs: trees (gbm + forest) | gbm | cnn | ensemble (gbm + cnn)
    smooth: int | None = None  # logs: average probabilities over this many depth samples; None: 5
    decode: str | None = None  # logs: hmm | smooth | none; None: hmm, or smooth when --smooth is given
    # fusion
    patches: str | None = None  # .npy aligned with --data rows: patches (n, H, W) or embeddings (n, d)
    fusion_mode: str = "late"  # late | early
    # few and imperfect labels
    unlabelled: str | None = None
    noisy_labels: str | None = None  # None | "detect" | "downweight"
    fewshot: str | None = None  # None | "auto" | "on": few-shot head chosen by internal validation
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> "TrainConfig":
        if self.task not in TASKS:
            raise ConfigError(f"--task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if self.head not in HEADS:
            raise ConfigError(f"--head must be one of {', '.join(HEADS)}, got {self.head!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("--epochs and --batch-size must be at least 1")
        if self.lr <= 0:
            raise ConfigError(f"--lr must be positive, got {self.lr}")
        if not 0.0 < self.val_split < 1.0:
            raise ConfigError(f"--val-split must be between 0 and 1, got {self.val_split}")
        if self.cv not in (None, "logo"):
            raise ConfigError(f"--cv takes 'logo', got {self.cv!r}")
        if self.cv == "logo" and not self.group_by:
            raise ConfigError("--cv logo needs --group-by COLUMN (the well, survey or site column)")
        if self.fusion_mode not in ("late", "early"):
            raise ConfigError(f"--fusion-mode must be late or early, got {self.fusion_mode!r}")
        if self.recipe not in (None, "seed"):
            raise ConfigError(f"--recipe takes 'seed', got {self.recipe!r}")
        return self

    def apply_recipe(self) -> "TrainConfig":
        """The Keras starting recipe in one flag: frozen base, seed head, Adam 1e-3, 10 epochs, batch 32."""
        if self.recipe == "seed":
            self.strategy = "linear-probe"
            self.head = "seed"
            self.optimizer = "adam"
            self.weight_decay = 0.0
            self.lr = 1e-3
            self.epochs = 10
            self.batch_size = 32
            self.val_split = 0.2
            self.seed = 42
            self.augment_views = 0
            if "backbone_explicit" not in self.extra:
                self.backbone = "resnet50"
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str | os.PathLike | None = None) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown option(s): {', '.join(unknown)}", source)
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> "TrainConfig":
        import yaml

        path = Path(path)
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError as exc:
            raise ConfigError("no such file", path) from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"not valid YAML ({exc})", path) from exc
        if not isinstance(values, dict):
            raise ConfigError("must be a mapping of option: value", path)
        values = {key.replace("-", "_"): value for key, value in values.items()}
        if "train" in values and isinstance(values["train"], dict):  # a saved config.json's train block
            values = values["train"]
        return cls.from_dict(values, path)

    def to_yaml(self, path: str | os.PathLike) -> None:
        import yaml

        from ._atomic import atomic_file

        with atomic_file(path) as handle:
            yaml.safe_dump(self.to_dict(), handle, sort_keys=False)
