"""Image-like samples for a backbone, in two forms: ``SampleDataset`` (lazy: labels, ids, groups and
identifying columns in RAM, pixels decoded per item, so DataLoader workers do the work and memory does not
grow with the data) and ``SampleSet`` (materialised arrays, for callers that need them: small predict batches).

Every item is channels-first, resized to one square size, scaled to [0, 1] and rounded to float16 (half the
memory and IPC; a backbone's own precision is not affected).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


@dataclass
class SampleSet:
    x: np.ndarray  # N x C x S x S float16 in [0, 1]
    labels: np.ndarray | None  # N original label values (str), or None for unlabelled data
    ids: list[str]
    source: str
    groups: np.ndarray | None = None
    table: dict[str, list] = field(default_factory=dict)  # identifying columns kept for predictions
    scaling: str = "range"

    def __len__(self) -> int:
        return len(self.x)

    @property
    def channels(self) -> int:
        return int(self.x.shape[1])

    def subset(self, index: Sequence[int]) -> "SampleSet":
        index = np.asarray(index)
        return SampleSet(
            self.x[index],
            None if self.labels is None else self.labels[index],
            [self.ids[i] for i in index],
            self.source,
            None if self.groups is None else self.groups[index],
            {k: [v[i] for i in index] for k, v in self.table.items()},
            self.scaling,
        )


class SampleDataset:
    """A map-style dataset (``len``, ``ds[i]`` -> C x S x S float16 array) with its metadata in RAM.

    Subclasses set the attributes below and implement ``sample(i)`` and ``fingerprint_parts()``. It is not a
    torch ``Dataset`` subclass so that the readers do not import torch; DataLoader needs only these two methods.
    """

    labels: np.ndarray | None
    ids: list[str]
    source: str
    groups: np.ndarray | None
    table: dict[str, list]
    scaling: str
    channels: int
    image_size: int

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.sample(int(index))

    def sample(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def fingerprint_parts(self) -> list:
        """What identifies the decoded pixels: files (path, size, mtime) and the resize/scaling settings."""
        raise NotImplementedError

    def fingerprint(self) -> str:
        """A key for caches of anything computed from the pixels, without reading them."""
        digest = hashlib.sha256()
        for part in [type(self).__name__, self.image_size, self.channels, self.scaling, *self.fingerprint_parts()]:
            digest.update(repr(part).encode())
            digest.update(b"\0")
        return digest.hexdigest()[:16]

    def to_sampleset(self) -> SampleSet:
        """Every sample decoded into one array (memory grows with the data: for small inputs only)."""
        x = np.empty((len(self), self.channels, self.image_size, self.image_size), dtype=np.float16)
        for i in range(len(self)):
            x[i] = self.sample(i)
        return SampleSet(x, self.labels, list(self.ids), self.source, self.groups, self.table, self.scaling)
