"""Image files decoded one at a time: ``ImageDataset`` keeps paths and labels, and decodes, resizes and
scales an image only when it is asked for (in DataLoader workers during training).

Any size, grey, RGB, palette, CMYK, 16-bit: all decode to [0, 1] floats. Corrupt, empty or
decompression-bomb files raise DataError naming the file.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DataError
from .sampleset import SampleDataset
from .scaling import resize_batch

# Pillow's default ceiling (~179 M pixels) is kept: larger claims are refused as decompression bombs.
GREY_MODES = ("1", "L", "LA", "I;16", "I;16B", "I;16L", "I", "F")


def _open_checked(path: Path, action):
    """Run ``action(image)`` on the opened image; every Pillow failure becomes a DataError naming the file."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise DataError("no such image file", path)
    if path.stat().st_size == 0:
        raise DataError("is empty (0 bytes)", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return action(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataError(f"claims an enormous size and was refused as a possible decompression bomb ({exc})",
                        path) from exc
    except UnidentifiedImageError as exc:
        raise DataError("is not an image Pillow can read (corrupt or unsupported format)", path) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"cannot be decoded ({exc}); the file may be truncated or corrupt", path) from exc


def decode_image(path: Path, at_least: int | None = None) -> np.ndarray:
    """H x W x C float32 in [0, 1] (C = 1 for grey, 3 for colour).

    With ``at_least``, a JPEG is decoded at the smallest power-of-two reduction whose sides stay >= that
    size (libjpeg's DCT scaling): a 512 px photo bound for 224 px decodes at 256 px, about 3x faster.
    """
    def load(image):
        if at_least and image.format == "JPEG":
            image.draft(image.mode, (at_least, at_least))
        image.load()
        return _to_array(image)

    return _open_checked(Path(path), load)


def image_channels(path: Path) -> int:
    """1 or 3, from the file header alone (no pixels decoded); also refuses unreadable files and bombs."""
    return _open_checked(Path(path), lambda image: 1 if image.mode in GREY_MODES else 3)


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


class ImageDataset(SampleDataset):
    """Image files with optional labels/groups; ``ds[i]`` decodes file i to C x S x S float16 in [0, 1]."""

    def __init__(self, paths: Sequence[Path], image_size: int, channels: int, labels: np.ndarray | None,
                 ids: list[str], source: str, groups: np.ndarray | None, table: dict[str, list]):
        self.paths = [str(p) for p in paths]
        self.image_size, self.channels = int(image_size), int(channels)
        self.labels, self.ids, self.source, self.groups, self.table = labels, ids, source, groups, table
        self.scaling = "range"
        # JPEGs decoded at a reduced scale (recorded in the model config as ``jpeg_draft``: models trained
        # before it existed predict with full-size decoding, as they were trained)
        self.jpeg_draft = True

    def sample(self, index: int) -> np.ndarray:
        array = decode_image(Path(self.paths[index]), at_least=self.image_size if self.jpeg_draft else None)
        if array.shape[-1] != self.channels:
            array = np.repeat(array, self.channels, axis=-1) if array.shape[-1] == 1 else array.mean(-1, keepdims=True)
        resized = resize_batch(np.moveaxis(array, -1, 0)[None], self.image_size)[0]
        return resized.astype(np.float16)

    def fingerprint_parts(self) -> list:
        parts: list = [("jpeg_draft", self.jpeg_draft)]
        for path in self.paths:
            try:
                stat = Path(path).stat()
                parts.append((path, stat.st_size, stat.st_mtime_ns))
            except OSError:
                parts.append((path, None, None))
        return parts
