"""Which `geotune train` options a log model type can use.

The tree model types (``trees``: gradient boosting and a random forest; ``gbm``: boosting alone) are
scikit-learn estimators fitted on the CPU: there is no Lightning trainer, so the engine's options
(devices, nodes, accelerator, precision, resuming from a checkpoint, early stopping) would be silently
ignored. Refusing them tells the user at once.
"""

from __future__ import annotations

from ..errors import ConfigError

TREE_TYPES = {"trees": "gradient-boosted trees and a random forest", "gbm": "gradient-boosted trees"}
DEFAULT_PRECISIONS = ("32-true", "32", 32)


def check_engine_options(cfg) -> None:
    """ConfigError naming the first engine option a tree model type cannot honour. For --task logs only
    (``model_type`` means nothing to the other tasks); the logs fit calls it first thing."""
    if cfg.model_type not in TREE_TYPES:
        return
    given = [("--devices", cfg.devices > 1), ("--num-nodes", cfg.num_nodes > 1),
             (f"--accelerator {cfg.accelerator}", str(cfg.accelerator) not in ("auto", "cpu")),
             (f"--precision {cfg.precision}", cfg.precision not in DEFAULT_PRECISIONS),
             ("--resume", bool(cfg.resume)), ("--patience", bool(cfg.patience))]
    for flag, used in given:
        if used:
            raise ConfigError(f"{flag} applies to neural models (--model-type cnn or ensemble); --model-type "
                              f"{cfg.model_type} trains {TREE_TYPES[cfg.model_type]} on the CPU")
