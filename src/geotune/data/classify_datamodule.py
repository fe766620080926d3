"""Classification batches straight from a lazy dataset: train/validation subsets are index lists over it
(no copies of the pixels), and training order depends only on (seed, epoch), so a resumed run repeats it."""

from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate


def plain_worker_error(exc: Exception) -> Exception:
    """A DataError raised in a DataLoader worker reaches the main process as DataError(worker traceback); give
    it back its one-line message (which names the file), so the CLI prints one line."""
    from ..errors import DataError

    text = str(exc)
    if not isinstance(exc, DataError) or "DataLoader worker" not in text:
        return exc
    last = [line for line in text.splitlines() if line.strip()][-1]
    return DataError(last.split("DataError: ", 1)[-1].strip())


@contextlib.contextmanager
def plain_worker_errors() -> Iterator[None]:
    """Re-raise a DataError from a DataLoader worker as its plain one-line message (``plain_worker_error``)."""
    from ..errors import DataError

    try:
        yield
    except DataError as exc:
        plain = plain_worker_error(exc)
        if plain is exc:
            raise
        raise plain from None


class EpochSeededSampler(Sampler):
    """A shuffle that depends only on (seed, epoch), so a resumed run sees the same order."""

    def __init__(self, n: int, seed: int):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100003 + self.epoch)
        return iter(torch.randperm(self.n, generator=generator).tolist())

    def __len__(self) -> int:
        return self.n


class LabelledSubset(Dataset):
    """Items ``(x, label, sample_weight)`` for the samples ``index`` of ``dataset`` (decoded on access)."""

    def __init__(self, dataset, index: Sequence[int], labels: np.ndarray, weights: np.ndarray | None = None):
        self.dataset = dataset
        self.index = np.asarray(index, dtype=np.int64)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int):
        j = int(self.index[i])
        weight = 1.0 if self.weights is None else float(self.weights[j])
        return (torch.as_tensor(self.dataset[j]), torch.tensor(self.labels[j]),
                torch.tensor(weight, dtype=torch.float32))


def channels_last_collate(items):
    """Stack items as DataLoader does, image batches (N x C x H x W) in channels_last: the layout the fine-tuning
    modules convolve in, made here in the loader's workers rather than per step in the training loop."""
    batch = default_collate(items)
    if isinstance(batch, list) and batch and isinstance(batch[0], torch.Tensor) and batch[0].dim() == 4:
        batch[0] = batch[0].contiguous(memory_format=torch.channels_last)
    return batch


class ClassificationDataModule(pl.LightningDataModule):
    """Train and validation loaders over two map-style datasets of ``(x, label, weight)`` items."""

    def __init__(self, train: Dataset, val: Dataset, batch_size: int, workers: int = 0, seed: int = 0):
        super().__init__()
        self.train, self.val = train, val
        self.loader_args = {"batch_size": batch_size, "num_workers": workers, "persistent_workers": workers > 0,
                            "collate_fn": channels_last_collate}
        self.seed = seed

    @classmethod
    def from_dataset(cls, dataset, labels, sample_weight, train_idx, val_idx, batch_size: int, workers: int = 0,
                     seed: int = 0) -> "ClassificationDataModule":
        return cls(LabelledSubset(dataset, train_idx, labels, sample_weight), LabelledSubset(dataset, val_idx, labels),
                   batch_size, workers, seed)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train, sampler=EpochSeededSampler(len(self.train), self.seed), **self.loader_args)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val, **self.loader_args)
