"""A labelling project: a folder holding the user's data, its labels and the workbench's own state.

PROJECT/labels.csv is the label manifest (``geotune train --data PROJECT/labels.csv`` trains on it);
PROJECT/labelled_patches/ holds the PNGs of labelled .npy patches and section points (the manifest's paths);
PROJECT/masks/ the brushed masks; PROJECT/.geotune-label/ the settings, feature cache, curve and locks.
Only files inside the folder are ever read or written: every path from a request goes through ``inside``.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import ConfigError, DataError
from ...data.images import IMAGE_SUFFIXES

STATE_DIR = ".geotune-label"
PATCH_DIR = "labelled_patches"
MASK_DIR = "masks"
SEGY_SUFFIXES = {".sgy", ".segy", ".su"}
MAX_PATCH_SIDE = 128  # an (N, H, W) .npy with sides up to this is a set of patches; larger ones are sections


@dataclass
class Settings:
    """What a project remembers between sessions (PROJECT/.geotune-label/project.json)."""

    classes: list[str] = field(default_factory=list)  # append-only: a mask value k means classes[k - 1]
    backbone: str = "tf_efficientnet_lite0"
    image_size: int = 64
    retrain_every: int = 10
    patch_size: int = 64  # side of the patch cut around a click on a section
    kinds: dict = field(default_factory=dict)  # source name -> "patches" or "volume", where the guess is wrong


@dataclass
class Source:
    """One file of the user's data: ``kind`` is "images" (one image file), "patches" (.npy/.npz of N patches)
    or "volume" (.npy/.npz sections or a SEG-Y file, shown as inline/crossline/time slices)."""

    name: str  # path relative to the project, with forward slashes
    kind: str
    count: int = 1


class Project:
    def __init__(self, root: str | os.PathLike, **overrides):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise DataError("is not a folder (give the project folder that holds your images, patches or SEG-Y)",
                            root)
        self._lock = threading.Lock()
        self.state_dir = self.root / STATE_DIR
        try:
            if not self.root.stat().st_mode & 0o222:  # marked read-only (shared data): root could still write
                raise PermissionError(13, "the folder is marked read-only")
            self.state_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot be written ({exc.strerror or exc}); the workbench keeps the labels in the "
                            "project folder, so give a folder you can write to (copy or link the data into it)",
                            root) from exc
        self.settings = self._load_settings(overrides)
        self.sources = scan_sources(self.root, self.settings.kinds)

    @property
    def labels_csv(self) -> Path:
        return self.root / "labels.csv"

    def inside(self, relative: str) -> Path:
        """``relative`` resolved inside the project, or DataError: no request reaches a file outside it."""
        if not isinstance(relative, str) or not relative or "\0" in relative or os.path.isabs(relative):
            raise DataError(f"not a path inside the project: {relative!r}", self.root)
        resolved = (self.root / relative).resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise DataError(f"{relative!r} points outside the project folder", self.root)
        return resolved

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise DataError(f"no such source {name!r} in the project", self.root)

    def add_class(self, name: str) -> list[str]:
        name = (name or "").strip()
        if not name or len(name) > 40 or any(c in name for c in ",\"\n\r/\\"):
            raise ConfigError(f"class names are 1-40 characters without , \" / or line breaks: {name!r}")
        with self._lock:  # two tabs adding classes at once both keep theirs
            if name not in self.settings.classes:
                self.settings.classes.append(name)
                self.save_settings()
            return list(self.settings.classes)

    def save_settings(self) -> None:
        from ..._atomic import atomic_file

        with atomic_file(self.state_dir / "project.json") as handle:
            json.dump(self.settings.__dict__, handle, indent=2)

    def _load_settings(self, overrides: dict) -> Settings:
        file = self.state_dir / "project.json"
        settings = Settings()
        if file.is_file():
            try:
                stored = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise DataError(f"is not readable JSON ({exc})", file) from exc
            for key, value in stored.items():
                if hasattr(settings, key):
                    setattr(settings, key, value)
        for key, value in overrides.items():
            if value is not None:
                if key == "classes":
                    value = list(dict.fromkeys(list(settings.classes) + list(value)))
                setattr(settings, key, value)
        self.settings = settings
        self.save_settings()
        return settings


def scan_sources(root: Path, kinds: dict | None = None) -> list[Source]:
    """The data files in the project folder (its own outputs and hidden folders left out), sorted by name.
    An (N, H, W) array is a set of patches when its sides are small, else a volume; ``kinds`` overrides that."""
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or rel.parts[0] in (PATCH_DIR, MASK_DIR):
            continue
        if not path.is_file() or root not in path.resolve().parents:  # a link out of the project is not served
            continue
        suffix = path.suffix.lower()
        name = rel.as_posix()
        if suffix in IMAGE_SUFFIXES:
            found.append(Source(name, "images"))
        elif suffix in SEGY_SUFFIXES:
            found.append(Source(name, "volume"))
        elif suffix in (".npy", ".npz") and not path.stem.endswith("_labels"):
            shape = array_shape(path)
            if shape is None:
                continue
            small = len(shape) >= 3 and max(shape[-2:]) <= MAX_PATCH_SIDE and shape[0] > 1
            if (kinds or {}).get(name) in ("patches", "volume"):
                small = len(shape) >= 3 and kinds[name] == "patches"
            found.append(Source(name, "patches" if small else "volume", int(shape[0]) if small else 1))
    return found


def array_shape(path: Path) -> tuple[int, ...] | None:
    """The shape of a .npy or of an .npz's data array, without reading the values."""
    from ...data.arrays import NPZ_DATA_KEYS

    try:
        if path.suffix.lower() == ".npy":
            return tuple(np.load(path, mmap_mode="r", allow_pickle=False).shape)
        with np.load(path, allow_pickle=False) as archive:
            key = next((k for k in NPZ_DATA_KEYS if k in archive.files), None)
            if key is None:
                return None
            return tuple(archive[key].shape)  # an .npz member must be read to know it; they are small
    except (OSError, ValueError, EOFError):
        return None
