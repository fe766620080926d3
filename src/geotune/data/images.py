"""Image sources: class-per-folder trees, CSV manifests (path,label[,group]) and plain image lists.

Each ``*_dataset`` function checks the listing (files exist, labels, groups, headers readable) and returns a
lazy ``ImageDataset``; the ``read_*`` functions decode everything into a ``SampleSet`` (small inputs only).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DataError
from .image_dataset import ImageDataset, decode_image, image_channels  # noqa: F401  (decode_image: public here too)
from .labels import label_array
from .sampleset import SampleSet

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif", ".webp"}


def files_dataset(paths: Sequence[Path], image_size: int, labels: Sequence | None = None,
                  ids: Sequence[str] | None = None, groups: Sequence | None = None, source: Path | None = None,
                  channels: int | None = None, table: dict | None = None) -> ImageDataset:
    if not paths:
        raise DataError("holds no images", source)
    found = [image_channels(Path(p)) for p in paths]  # headers only: refuses unreadable files early
    wanted = channels or (3 if 3 in found else 1)
    return ImageDataset(
        [Path(p) for p in paths], image_size, wanted,
        None if labels is None else label_array(labels, source or paths[0]),
        list(ids) if ids is not None else [str(p) for p in paths],
        str(source or paths[0]),
        None if groups is None else np.asarray(groups, dtype=object),
        table or {"path": [str(p) for p in paths]},
    )


def read_files(paths: Sequence[Path], image_size: int, labels: Sequence | None = None, ids: Sequence[str] | None = None,
               groups: Sequence | None = None, source: Path | None = None, channels: int | None = None,
               table: dict | None = None) -> SampleSet:
    return files_dataset(paths, image_size, labels, ids, groups, source, channels, table).to_sampleset()


def folder_dataset(folder: Path, image_size: int, require_labels: bool = True,
                   channels: int | None = None) -> ImageDataset:
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
        return files_dataset(paths, image_size, labels, rel, source=folder, channels=channels, table={"path": rel})
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError("holds no images and no class sub-folders", folder)
    if require_labels:
        raise DataError("holds images but no class sub-folders; put each class's images in a folder named after "
                        "the class, or use a CSV manifest (path,label)", folder)
    rel = [p.name for p in files]
    return files_dataset(files, image_size, None, rel, source=folder, channels=channels, table={"path": rel})


def manifest_dataset(manifest: Path, image_size: int, require_labels: bool = True, group_by: str | None = None,
                  channels: int | None = None) -> ImageDataset:
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
    return files_dataset(paths, image_size, labels, [row["path"] for row in rows], groups, manifest, channels, table)


def read_folder(folder: Path, image_size: int, require_labels: bool = True, channels: int | None = None) -> SampleSet:
    return folder_dataset(folder, image_size, require_labels, channels).to_sampleset()


def read_manifest(manifest: Path, image_size: int, require_labels: bool = True, group_by: str | None = None,
                  channels: int | None = None) -> SampleSet:
    return manifest_dataset(manifest, image_size, require_labels, group_by, channels).to_sampleset()
