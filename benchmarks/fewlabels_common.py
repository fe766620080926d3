"""Shared helpers for the few-label benchmarks: frozen tf_efficientnet_lite0 features, computed once and cached."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CACHE = Path(os.environ.get("GEOTUNE_FEWLABELS_CACHE", Path.home() / ".cache" / "geotune" / "fewlabels"))


def features(npz: Path, size: int, flip: bool = False) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(features N x 1280, labels, class names) of every sample in ``npz``; ``flip``: of the mirrored samples."""
    import torch

    from geotune.data.samples import load_samples
    from geotune.training.features import cache_key, cached_features
    from geotune.models.classifier import build_classifier

    torch.set_num_threads(2)
    key = cache_key("fewlabels-bench", npz.name, size, flip)
    labels = CACHE / f"labels-{npz.stem}.npz"  # labels beside the features: a cached run needs no data folder
    if not labels.is_file():
        archive = np.load(npz)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(labels, y=archive["y"], class_names=archive["class_names"])
    archive = np.load(labels)
    y, names = archive["y"].astype(np.int64), [str(n) for n in archive["class_names"]]
    if (CACHE / f"features-{key}.safetensors").is_file():
        from safetensors.torch import load_file

        return load_file(str(CACHE / f"features-{key}.safetensors"))["features"].numpy(), y, names
    samples = load_samples(npz, image_size=size)
    x = np.ascontiguousarray(samples.x[..., ::-1]) if flip else samples.x
    model, _ = build_classifier({"backbone": "tf_efficientnet_lite0", "in_chans": samples.channels,
                                 "classes": names, "head": "linear"}, pretrained=True)
    return cached_features(model, x, CACHE, key, progress=f"features of {npz.name}").numpy(), y, names


def summary(values) -> dict:
    values = np.asarray(values, dtype=float)
    return {"mean": round(float(values.mean()), 4), "std": round(float(values.std()), 4),
            "min": round(float(values.min()), 4), "max": round(float(values.max()), 4), "n": int(len(values))}


def write(name: str, result: dict, table: str) -> None:
    import json

    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{name}.md").write_text(table + "\n")
    print(table)
