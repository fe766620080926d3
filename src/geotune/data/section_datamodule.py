"""The Lightning DataModule for segmentation: random windows to train on, whole sections to validate on.

Loaders are built in the hooks, after the DDP processes exist, so the validation sampler knows its rank.
The training sampler is wrapped by Lightning for DDP (each rank takes its share of the same shuffle).
"""

from __future__ import annotations

import lightning.pytorch as pl
from torch.utils.data import DataLoader

from .section_dataset import EpochWindowSampler, RankSlicedSampler, SectionDataset, WindowDataset


class SectionDataModule(pl.LightningDataModule):
    def __init__(self, train: WindowDataset, val: SectionDataset, batch_size: int, workers: int = 0, seed: int = 0):
        super().__init__()
        self.train, self.val = train, val
        self.batch_size, self.workers, self.seed = batch_size, workers, seed

    def _loader_args(self) -> dict:
        return {"num_workers": self.workers, "persistent_workers": self.workers > 0}

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train, batch_size=self.batch_size, sampler=EpochWindowSampler(len(self.train), self.seed),
                          **self._loader_args())

    def val_dataloader(self) -> DataLoader:
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        return DataLoader(self.val, batch_size=1, sampler=RankSlicedSampler(self.val, rank, world),
                          **self._loader_args())
