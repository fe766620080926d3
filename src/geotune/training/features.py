"""Frozen-backbone features, computed once per sample and cached on disk (safetensors).

A frozen backbone gives the same features every epoch, so recomputing them (as the Keras recipe
does) wastes almost all of the training time.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import torch

from .augment import augment_batch


def feature_device(accelerator: str = "auto") -> torch.device:
    """The GPU when one is there and allowed, else the CPU."""
    if accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


@torch.no_grad()
def extract_features(model, x: np.ndarray, batch_size: int = 64, augment_seed: int | None = None,
                     progress: str | None = None, device: torch.device | None = None) -> torch.Tensor:
    """Pooled features of ``x`` (N x C x S x S in [0, 1]); with ``augment_seed``, of one augmented view."""
    device = device or torch.device("cpu")
    model.eval()
    model = model.to(device=device, memory_format=torch.channels_last)  # about 2x faster on CPUs
    generator = torch.Generator().manual_seed(augment_seed) if augment_seed is not None else None
    try:
        return _extract(model, x, batch_size, generator, progress, device)
    finally:
        model.to("cpu")


def _extract(model, x, batch_size, generator, progress, device) -> torch.Tensor:
    chunks = []
    for start in range(0, len(x), batch_size):
        batch = torch.from_numpy(np.asarray(x[start:start + batch_size], dtype=np.float32))
        if generator is not None:
            batch = augment_batch(batch, generator)
        batch = batch.to(device).contiguous(memory_format=torch.channels_last)
        chunks.append(model.features(batch).float().cpu())
        if progress and sys.stderr.isatty():
            done = min(start + batch_size, len(x))
            print(f"\r{progress}: {done}/{len(x)} samples", end="" if done < len(x) else "\n", flush=True, file=sys.stderr)
    return torch.cat(chunks)


def cache_key(*parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(repr(part).encode())
    return digest.hexdigest()[:16]


def cached_features(model, x: np.ndarray, cache_dir: Path | None, key: str, batch_size: int = 64,
                    augment_seed: int | None = None, progress: str | None = None,
                    device: torch.device | None = None) -> torch.Tensor:
    """Features from ``cache_dir/features-<key>.safetensors`` when present, else computed and stored."""
    from safetensors.torch import load_file

    from .._atomic import atomic_file

    file = cache_dir / f"features-{key}.safetensors" if cache_dir else None
    if file is not None and file.is_file():
        return load_file(str(file))["features"]
    features = extract_features(model, x, batch_size, augment_seed, progress, device)
    if file is not None:
        with atomic_file(file, "wb") as handle:
            handle.write(_serialise(features))
    return features


def _serialise(features: torch.Tensor) -> bytes:
    from safetensors.torch import save

    return save({"features": features.contiguous()})
