"""geotune: fine-tune pretrained networks on geological data, and carry what they recognise on
to prospectivity maps, volumetrics and drilling plans.

Names are imported lazily so that ``import geotune`` stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

_EXPORTS = {
    "finetune": "geotune.api",
    "train": "geotune.api",
    "load_model": "geotune.api",
    "evaluate": "geotune.api",
    "predict": "geotune.api",
    "TrainConfig": "geotune.config",
    "DataError": "geotune.errors",
    "ModelError": "geotune.errors",
    "GeotuneError": "geotune.errors",
    "WeightsNotFoundError": "geotune.errors",
    "ConfigError": "geotune.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'geotune' has no attribute {name!r}")
