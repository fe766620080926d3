"""The items a user labels one by one: image files and the patches of .npy/.npz sets, with their pixels.

An item's id is its file's project-relative path, or ``path#index`` for a patch. ``unit(i)`` gives the pixels
scaled to [0, 1] at full size (images as decoded for training; arrays by the same rule ``geotune train`` applies
to them), so the PNG a labelled patch is written as trains exactly as the workbench saw it.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ...data.image_dataset import decode_image
from ...data.sampleset import SampleDataset
from ...data.scaling import resize_batch, scale_to_unit
from ...errors import DataError


class Pool(SampleDataset):
    """Every item of the project's image and patch sources; ``ds[i]`` -> C x S x S float16 for the backbone."""

    def __init__(self, project, image_size: int):
        from ...data.arrays import array_dataset

        self.project, self.image_size = project, int(image_size)
        self.ids, self.refs = [], []  # refs: (kind, path, index)
        self.arrays = {}
        for source in project.sources:
            path = project.root / source.name
            if source.kind == "images":
                self.ids.append(source.name)
                self.refs.append(("image", path, 0))
            elif source.kind == "patches":
                self.arrays[source.name] = array_dataset(path, None, self.image_size, require_labels=False)
                for i in range(source.count):
                    self.ids.append(f"{source.name}#{i}")
                    self.refs.append(("patch", source.name, i))
        self.index = {item: i for i, item in enumerate(self.ids)}
        channels = {self._raw_channels(i) for i in range(min(len(self.ids), 64))} or {1}
        self.channels = 3 if 3 in channels else 1
        self.labels, self.groups, self.source, self.scaling = None, None, str(project.root), "range"
        self.table = {"id": list(self.ids)}

    def _raw_channels(self, i: int) -> int:
        kind, where, _ = self.refs[i]
        if kind == "patch":
            return int(self.arrays[where].channels)
        from ...data.image_dataset import image_channels

        return image_channels(where)

    def position(self, item: str) -> int:
        if item not in self.index:
            raise DataError(f"no such item {item!r} in the project", self.project.root)
        return self.index[item]

    def unit(self, i: int) -> np.ndarray:
        """C x H x W float32 in [0, 1], full size, with the pool's channel count."""
        kind, where, index = self.refs[i]
        if kind == "image":
            array = np.moveaxis(decode_image(where), -1, 0)
        else:
            dataset = self.arrays[where]
            array = scale_to_unit(np.asarray(dataset.data[index], dtype=np.float32), dataset.scaling,
                                  dataset.dtype_max)
        return match_channels(np.asarray(array, dtype=np.float32), self.channels)

    def sample(self, index: int) -> np.ndarray:
        return resize_batch(self.unit(index)[None], self.image_size)[0].astype(np.float16)

    def fingerprint_parts(self) -> list:
        parts = []
        for source in self.project.sources:
            if source.kind in ("images", "patches"):
                stat = (self.project.root / source.name).stat()
                parts.append((source.name, stat.st_size, stat.st_mtime_ns))
        return parts


def match_channels(array: np.ndarray, channels: int) -> np.ndarray:
    if array.shape[0] == channels:
        return array
    if array.shape[0] == 1:
        return np.repeat(array, channels, axis=0)
    return array.mean(0, keepdims=True)


def png_bytes(unit: np.ndarray, size: int | None = None, sixteen_bit: bool = False) -> bytes:
    """A C x H x W [0, 1] array as PNG: grey (16-bit when asked, for training files) or RGB; ``size``: longest
    side for display."""
    from PIL import Image

    unit = np.clip(np.nan_to_num(unit), 0, 1)
    if unit.shape[0] == 1 and sixteen_bit:
        image = Image.fromarray((unit[0] * 65535 + 0.5).astype(np.uint16))
    elif unit.shape[0] == 1:
        image = Image.fromarray((unit[0] * 255 + 0.5).astype(np.uint8))
    else:
        image = Image.fromarray((np.moveaxis(unit[:3], 0, -1) * 255 + 0.5).astype(np.uint8))
    if size and max(image.size) != size:
        scale = size / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def patch_file_name(item: str) -> str:
    """labelled_patches/<item with / # : turned into _>.png: one training file per labelled patch or point."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in item)
    return f"labelled_patches/{safe}.png"


def write_patch_png(project_root: Path, item: str, unit: np.ndarray) -> str:
    """Write the patch's training PNG (16-bit grey or 8-bit RGB) atomically; returns its project-relative path."""
    from ..._atomic import atomic_file

    relative = patch_file_name(item)
    with atomic_file(project_root / relative, "wb") as handle:
        handle.write(png_bytes(unit, sixteen_bit=True))
    return relative
