"""The model directory: the one format every stage reads and writes.

    RUN/model/config.json          what the model is (schema_version, task, classes, preprocessing, ...)
    RUN/model/weights.safetensors  tensors, never a pickle
    RUN/model/metrics.json         the evaluation that produced it
    RUN/model/<other>.json|.onnx   optional parts (tree models as JSON, an ONNX export, ...)

config.json records a SHA-256 of every other file, so a missing or edited file is caught on
load, and nothing that could hold a pickle is ever opened.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any, Mapping

from ._atomic import atomic_dir
from .errors import ModelError

SCHEMA_VERSION = 1
CONFIG = "config.json"
WEIGHTS = "weights.safetensors"
METRICS = "metrics.json"
VALIDATION_SPLIT = "validation_split.json"  # classify: the indices and ids of the samples training held out

# Extensions whose content geotune knows how to read without unpickling anything.
SAFE_SUFFIXES = {".json", ".safetensors", ".onnx", ".png", ".csv", ".txt", ".md", ".html", ".yaml", ".ubj", ".skops", ".tif"}
PICKLE_SUFFIXES = {".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".joblib", ".bin", ".npy", ".npz", ".dill"}


def resolve(path: str | os.PathLike) -> Path:
    """Accept ``RUN`` or ``RUN/model`` and return the model folder."""
    path = Path(path)
    if (path / CONFIG).is_file():
        return path
    if (path / "model" / CONFIG).is_file():
        return path / "model"
    if not path.exists():
        raise ModelError("no such model directory", path)
    raise ModelError(f"not a geotune model directory (no {CONFIG} here or in model/)", path)


def library_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in ("geotune", "torch", "timm", "lightning", "numpy", "scikit-learn"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def save(
    folder: str | os.PathLike,
    config: Mapping[str, Any],
    tensors: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    files: Mapping[str, bytes] | None = None,
) -> Path:
    """Write a model directory atomically; an existing one is replaced only when the new one is whole.

    ``tensors`` go to weights.safetensors (torch tensors or numpy arrays); ``files`` are extra
    parts by name (bytes), which must have a safe suffix.
    """
    folder = Path(folder)
    if "task" not in config:
        raise ModelError("config has no 'task'", folder)
    with atomic_dir(folder) as tmp:
        hashes: dict[str, str] = {}
        if tensors is not None:
            _write_tensors(tmp / WEIGHTS, tensors)
            hashes[WEIGHTS] = _sha256(tmp / WEIGHTS)
        for name, payload in (files or {}).items():
            if Path(name).suffix.lower() not in SAFE_SUFFIXES or "/" in name or name.startswith("."):
                raise ModelError(f"refusing to store {name!r}: not a safe, pickle-free format", folder)
            (tmp / name).write_bytes(payload)
            hashes[name] = _sha256(tmp / name)
        if metrics is not None:
            _write_json(tmp / METRICS, metrics)
        full = {"schema_version": SCHEMA_VERSION, **config}
        full.setdefault("library_versions", library_versions())
        full["files"] = hashes
        _write_json(tmp / CONFIG, full)
    return folder


def add_file(folder: str | os.PathLike, name: str, payload: bytes) -> Path:
    """Add or replace one optional part (an ONNX export, a report) and record its checksum.

    The part is written first, then config.json is replaced in one rename, so a crash leaves either the
    old directory or the new one, both loadable."""
    from ._atomic import atomic_file

    folder, config = load_config(folder)
    if Path(name).suffix.lower() not in SAFE_SUFFIXES or "/" in name or name.startswith("."):
        raise ModelError(f"refusing to store {name!r}: not a safe, pickle-free format", folder)
    with atomic_file(folder / name, "wb") as handle:
        handle.write(payload)
    config.setdefault("files", {})[name] = _sha256(folder / name)
    with atomic_file(folder / CONFIG, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(config, indent=2, default=_json_default) + "\n")
    return folder / name


def load_config(path: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    """Resolve, check and read a model directory's config; verifies every recorded file."""
    folder = resolve(path)
    refuse_unsafe_files(folder)
    try:
        config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{CONFIG} is not valid JSON ({exc})", folder / CONFIG) from exc
    if not isinstance(config, dict) or "task" not in config or "schema_version" not in config:
        raise ModelError(f"{CONFIG} lacks 'schema_version' or 'task'", folder / CONFIG)
    if int(config["schema_version"]) > SCHEMA_VERSION:
        raise ModelError(
            f"written by a newer geotune (schema {config['schema_version']}, this one reads {SCHEMA_VERSION})",
            folder / CONFIG,
        )
    for name, digest in (config.get("files") or {}).items():
        file = folder / name
        if not file.is_file():
            raise ModelError("is missing from the model directory", file)
        if _sha256(file) != digest:
            raise ModelError("was changed after the model was saved (checksum differs)", file)
    return folder, config


def load_tensors(folder: Path, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read weights.safetensors as torch tensors."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    file = folder / WEIGHTS
    if not file.is_file():
        raise ModelError("is missing from the model directory", file)
    try:
        return load_file(str(file))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"cannot be read as safetensors ({exc})", file) from exc


def load_metrics(folder: Path) -> dict[str, Any]:
    file = folder / METRICS
    if not file.is_file():
        return {}
    return json.loads(file.read_text(encoding="utf-8"))


def refuse_unsafe_files(folder: Path) -> None:
    """A model directory must hold nothing that loading could unpickle; say so instead of ignoring it."""
    for file in folder.iterdir():
        if file.suffix.lower() in PICKLE_SUFFIXES:
            raise ModelError(
                "refusing to load: pickle-capable files have no place in a geotune model directory "
                "(models are safetensors + JSON); remove it if you trust it",
                file,
            )
        if file.is_file() and file.suffix.lower() not in SAFE_SUFFIXES:
            with open(file, "rb") as handle:
                if handle.read(1) == b"\x80":
                    raise ModelError("refusing to load: looks like a pickle", file)


def _write_tensors(file: Path, tensors: Mapping[str, Any]) -> None:
    import numpy as np
    import torch
    from safetensors.torch import save_file

    converted = {}
    for key, value in tensors.items():
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(np.ascontiguousarray(value))
        converted[key] = value.detach().cpu().contiguous()
    from safetensors import SafetensorError

    try:
        save_file(converted, str(file))
    except SafetensorError as exc:  # a full disk or a size limit surfaces here, not as OSError
        raise OSError(f"{file.name}: {exc}") from exc


def json_text(payload: Any) -> str:
    """JSON as geotune writes it (NumPy values and paths converted), with a final newline."""
    return json.dumps(payload, indent=2, default=_json_default) + "\n"


def _write_json(file: Path, payload: Mapping[str, Any]) -> None:
    file.write_text(json.dumps(payload, indent=2, sort_keys=False, default=_json_default) + "\n", encoding="utf-8")


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
