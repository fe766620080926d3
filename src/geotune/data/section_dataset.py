"""Torch datasets over lazily read sections: random training windows and whole validation sections.

Training windows are drawn per item from a generator seeded by (seed, epoch, item), so a resumed run
and every DDP rank see exactly the windows an uninterrupted single-process run would: the sampler
hands the epoch to the dataset with each index (DataLoader workers never see a stale epoch).
Each window reads only its own rows and columns from the file (``data.sections``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset
from torch.utils.data.distributed import DistributedSampler

from . import seismic
from .classify_datamodule import EpochSeededSampler
from .sections import read_mask
from .windows import draw_window

def window_rng(seed: int, epoch: int, item: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(epoch), int(item)])


class WindowDataset(Dataset):
    """``windows_per_section`` random windows of every listed section per epoch, normalised to [-1, 1].

    Items are ``(item, epoch)`` pairs (``EpochWindowSampler``) or plain item numbers (epoch 0).
    """

    def __init__(self, images, masks, sections, size: int, windows_per_section: int, augment: bool, seed: int,
                 clip: tuple[float, float]):
        self.images, self.masks = images, masks
        self.sections = np.asarray(sections, dtype=np.int64)
        self.size, self.windows_per_section = int(size), max(1, int(windows_per_section))
        self.augment, self.seed, self.clip = bool(augment), int(seed), clip

    def __len__(self) -> int:
        return len(self.sections) * self.windows_per_section

    def __getitem__(self, key) -> tuple[torch.Tensor, torch.Tensor]:
        item, epoch = key if isinstance(key, tuple) else (key, 0)
        section = int(self.sections[item // self.windows_per_section])
        height, width = self.images.shape
        box = draw_window(height, width, self.size, window_rng(self.seed, epoch, item), self.augment)
        image = seismic.normalise(self.images.read(section, box.rows, box.cols), *self.clip)
        mask = read_mask(self.masks, section, box.rows, box.cols)
        return torch.from_numpy(box.cut(image)), torch.from_numpy(box.cut(mask))


class SectionDataset(Dataset):
    """Whole sections, normalised, with their masks: ``(C, H, W) float32, (H, W) int64`` one at a time."""

    def __init__(self, images, masks, sections, clip: tuple[float, float]):
        self.images, self.masks = images, masks
        self.sections = np.asarray(sections, dtype=np.int64)
        self.clip = clip

    def __len__(self) -> int:
        return len(self.sections)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor]:
        section = int(self.sections[item])
        image = seismic.normalise(self.images.read(section), *self.clip)
        return torch.from_numpy(image), torch.from_numpy(read_mask(self.masks, section))


class EpochWindowSampler(EpochSeededSampler):
    """A shuffle that depends only on (seed, epoch); yields ``(item, epoch)`` so the dataset can seed
    each window's randomness from the epoch too."""

    def __iter__(self):
        return iter([(item, self.epoch) for item in super().__iter__()])


class RankSlicedSampler(DistributedSampler):
    """Every ``world``-th item from ``rank``, without the padding DistributedSampler adds: each validation
    section is scored exactly once over all ranks (a repeated one would be counted twice)."""

    def __init__(self, dataset: Dataset, rank: int, world: int):
        super().__init__(dataset, num_replicas=world, rank=rank, shuffle=False)
        self.size = len(range(rank, len(dataset), world))

    def __iter__(self):
        return iter(range(self.rank, len(self.dataset), self.num_replicas))

    def __len__(self) -> int:
        return self.size
