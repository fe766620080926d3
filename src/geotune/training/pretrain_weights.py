"""The weights file ``geotune pretrain`` writes: the backbone's state dict in safetensors, with what made it
(backbone, method, data, input size, steps) in the file's metadata, so ``geotune train --weights`` can check
the backbone and record where the weights came from."""

from __future__ import annotations

import os
from pathlib import Path

from .._atomic import atomic_file


def save_weights(path: str | os.PathLike, state: dict, metadata: dict) -> Path:
    from safetensors.torch import save

    tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    payload = save(tensors, metadata={"format": "pt", "geotune": "pretrain",
                                      **{k: str(v) for k, v in metadata.items()}})
    with atomic_file(Path(path), "wb") as handle:
        handle.write(payload)
    return Path(path)


def read_metadata(path: str | os.PathLike) -> dict:
    """The metadata of a safetensors file ({} when it has none)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return dict(handle.metadata() or {})
