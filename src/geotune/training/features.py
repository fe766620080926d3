"""Frozen-backbone features, computed once per sample and cached on disk (safetensors).

A frozen backbone gives the same features every epoch, so recomputing them (as the Keras recipe
does) wastes almost all of the training time. Samples stream through a DataLoader (decoded in its worker
processes), so only the features, never the pixels of the whole set, are held in memory.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .augment import augment_batch


def feature_device(accelerator: str = "auto") -> torch.device:
    """The GPU when one is there and allowed, else the CPU."""
    if accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def fingerprint(source) -> str:
    """What identifies a set of samples for caching: a dataset's own fingerprint (file paths, sizes and
    modification times plus its resize/scaling settings, nothing decoded), or a hash of an array's bytes."""
    if hasattr(source, "fingerprint"):
        return source.fingerprint()
    return hashlib.sha256(np.ascontiguousarray(source).tobytes()).hexdigest()[:16]


def features_cache_key(cfg, dataset) -> str:
    """The key of the backbone features of ``dataset`` under ``cfg``'s backbone and weights; the linear probe,
    the label-noise check and the pseudo-labeller share it, so the features are computed once for all."""
    shape = (len(dataset), int(dataset.channels), int(dataset.image_size))
    return cache_key(cfg.backbone, cfg.pretrained, str(cfg.weights), shape, fingerprint(dataset))


def sample_batches(x, batch_size: int, workers: int = 0):
    """Float32 N x C x S x S batches, in order, from an array or a map-style dataset (decoded by
    ``workers`` DataLoader processes)."""
    if isinstance(x, np.ndarray):
        for start in range(0, len(x), batch_size):
            yield torch.from_numpy(np.asarray(x[start:start + batch_size], dtype=np.float32))
        return
    from torch.utils.data import DataLoader

    for batch in DataLoader(x, batch_size=batch_size, num_workers=workers, shuffle=False):
        yield batch.float()


@torch.no_grad()
def extract_features(model, x, batch_size: int = 64, augment_seed: int | None = None,
                     progress: str | None = None, device: torch.device | None = None, workers: int = 0) -> torch.Tensor:
    """Pooled features of ``x`` (an N x C x S x S array in [0, 1], or a dataset of such samples); with
    ``augment_seed``, of one augmented view."""
    device = device or torch.device("cpu")
    model.eval()
    model = model.to(device=device, memory_format=torch.channels_last)  # about 2x faster on CPUs
    generator = torch.Generator().manual_seed(augment_seed) if augment_seed is not None else None
    try:
        return _extract(model, x, batch_size, generator, progress, device, workers)
    finally:
        model.to("cpu")


def _extract(model, x, batch_size, generator, progress, device, workers) -> torch.Tensor:
    chunks, done = [], 0
    for batch in sample_batches(x, batch_size, workers):
        if generator is not None:
            batch = augment_batch(batch, generator)
        batch = batch.to(device).contiguous(memory_format=torch.channels_last)
        chunks.append(model.features(batch).float().cpu())
        done += len(batch)
        if progress and sys.stderr.isatty():
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


def cached_features(model, x, cache_dir: Path | None, key: str, batch_size: int = 64,
                    augment_seed: int | None = None, progress: str | None = None,
                    device: torch.device | None = None, workers: int = 0) -> torch.Tensor:
    """Features from ``cache_dir/features-<key>.safetensors`` when present, else computed and stored (with
    ``features-<key>.json``: how many samples took how long, for throughput checks)."""
    from safetensors.torch import load_file

    from .._atomic import atomic_file

    file = cache_dir / f"features-{key}.safetensors" if cache_dir else None
    if file is not None and file.is_file():
        return load_file(str(file))["features"]
    started = time.perf_counter()
    features = extract_features(model, x, batch_size, augment_seed, progress, device, workers)
    seconds = time.perf_counter() - started
    if file is not None:
        with atomic_file(file, "wb") as handle:
            handle.write(_serialise(features))
        with atomic_file(file.with_suffix(".json")) as handle:
            json.dump({"samples": len(features), "seconds": round(seconds, 3), "workers": workers,
                       "device": str(device or "cpu")}, handle)
    return features


def _serialise(features: torch.Tensor) -> bytes:
    from safetensors.torch import save

    return save({"features": features.contiguous()})
