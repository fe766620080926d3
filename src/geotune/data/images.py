"""Image files in: class-per-folder trees, CSV manifests (path,label[,group]) and plain image lists.

Any size, grey, RGB, palette, CMYK, 16-bit: all decode to [0, 1] floats. Corrupt, empty or
decompression-bomb files raise DataError naming the file.
"""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DataError
from .samples import SampleSet, label_array, resize_batch

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif", ".webp"}
# Pillow's default ceiling (~179 M pixels) is kept: larger claims are refused as decompression bombs.


def decode_image(path: Path) -> np.ndarray:
    """H x W x C float32 in [0, 1] (C = 1 for grey, 3 for colour)."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise DataError("no such image file", path)
    if path.stat().st_size == 0:
        raise DataError("is empty (0 bytes)", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                return _to_array(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataError(f"claims an enormous size and was refused as a possible decompression bomb ({exc})",
                        path) from exc
    except UnidentifiedImageError as exc:
        raise DataError("is not an image Pillow can read (corrupt or unsupported format)", path) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"cannot be decoded ({exc}); the file may be truncated or corrupt", path) from exc


def _to_array(image) -> np.ndarray:
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float32)
        top = 65535.0 if mode.startswith("I;16") or array.max() > 255 else 255.0
        return np.clip(array / top, 0, 1)[..., None]
    if mode == "F":
        array = np.asarray(image, dtype=np.float32)
        low, high = np.percentile(array, [1, 99])
        return np.clip((array - low) / ((high - low) or 1.0), 0, 1)[..., None]
    if mode in ("1", "L", "LA"):
        return (np.asarray(image.convert("L"), dtype=np.float32) / 255.0)[..., None]
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0  # P, RGBA, CMYK, YCbCr, ...


def read_files(paths: Sequence[Path], image_size: int, labels: Sequence | None = None, ids: Sequence[str] | None = None,
               groups: Sequence | None = None, source: Path | None = None, channels: int | None = None,
               table: dict | None = None) -> SampleSet:
    if not paths:
        raise DataError("holds no images", source)
    decoded = [decode_image(Path(p)) for p in paths]
    wanted = channels or (3 if any(a.shape[-1] == 3 for a in decoded) else 1)
    out = np.empty((len(decoded), wanted, image_size, image_size), dtype=np.float16)
    for i, array in enumerate(decoded):
        if array.shape[-1] != wanted:
            array = np.repeat(array, wanted, axis=-1) if array.shape[-1] == 1 else array.mean(-1, keepdims=True)
        out[i] = resize_batch(np.moveaxis(array, -1, 0)[None], image_size)[0]
    return SampleSet(
        out,
        None if labels is None else label_array(labels, source or paths[0]),
        list(ids) if ids is not None else [str(p) for p in paths],
        str(source or paths[0]),
        None if groups is None else np.asarray(groups, dtype=object),
        table or {"path": [str(p) for p in paths]},
        "range",
    )


def read_folder(folder: Path, image_size: int, require_labels: bool = True, channels: int | None = None) -> SampleSet:
    """One sub-folder per class; without sub-folders, the images in ``folder`` (unlabelled)."""
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if subfolders:
        paths, labels = [], []
        for sub in subfolders:
            files = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise DataError("class folder holds no images (.jpg, .png, .tif, ...)", sub)
            paths += files
            labels += [sub.name] * len(files)
        rel = [str(p.relative_to(folder)) for p in paths]
        return read_files(paths, image_size, labels, rel, source=folder, channels=channels, table={"path": rel})
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError("holds no images and no class sub-folders", folder)
    if require_labels:
        raise DataError("holds images but no class sub-folders; put each class's images in a folder named after "
                        "the class, or use a CSV manifest (path,label)", folder)
    rel = [p.name for p in files]
    return read_files(files, image_size, None, rel, source=folder, channels=channels, table={"path": rel})


def read_manifest(manifest: Path, image_size: int, require_labels: bool = True, group_by: str | None = None,
                  channels: int | None = None) -> SampleSet:
    """CSV with a ``path`` column (relative to the CSV, which they may not escape), ``label`` and optional groups."""
    if manifest.stat().st_size == 0:
        raise DataError("is empty (0 bytes)", manifest)
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"is not a readable CSV file ({exc})", manifest) from exc
    if not rows:
        raise DataError("has a header but no rows", manifest)
    for number, row in enumerate(rows, start=2):
        if None in row:  # csv.DictReader files surplus values under the key None
            raise DataError(f"line {number}: more values than the header has columns", manifest)
    columns = list(rows[0].keys())
    if "path" not in columns:
        raise DataError(f"needs a 'path' column (found: {', '.join(columns)})", manifest)
    has_labels = "label" in columns
    if require_labels and not has_labels:
        raise DataError(f"needs a 'label' column for training or evaluation (found: {', '.join(columns)})", manifest)
    if group_by and group_by not in columns:
        raise DataError(f"has no column {group_by!r} for --group-by (found: {', '.join(columns)})", manifest)
    root = manifest.parent.resolve()
    paths = []
    for number, row in enumerate(rows, start=2):
        raw = (row.get("path") or "").strip()
        if not raw:
            raise DataError(f"line {number}: empty path", manifest)
        resolved = (root / raw).resolve()
        if root not in resolved.parents and resolved != root:
            raise DataError(f"line {number}: path {raw!r} points outside the manifest's folder; "
                            "paths must be relative to the CSV and stay inside its folder", manifest)
        if not resolved.is_file():
            raise DataError(f"line {number}: image {raw!r} not found", manifest)
        paths.append(resolved)
    labels = [row["label"] for row in rows] if has_labels else None
    if labels is not None and any(not (lab or "").strip() for lab in labels):
        raise DataError("some rows have an empty label", manifest)
    groups = [row[group_by] for row in rows] if group_by else None
    table = {c: [row[c] for row in rows] for c in columns if c != "label"}
    return read_files(paths, image_size, labels, [row["path"] for row in rows], groups, manifest, channels, table)
