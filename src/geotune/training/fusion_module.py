"""The fusion classifier on the Lightning engine (``--task fusion``).

The recipe is the one fusion was measured with (benchmarks/results/fusion_synthetic.md): AdamW, plain
cross-entropy, and in late fusion modality dropout: each row loses each modality's encoding with
probability ``modality_dropout`` (never all of them), so the head cannot lean on one input alone. The
dropout masks are drawn from (seed, epoch, batch), so a resumed run sees the same masks.
"""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from torch import nn

from .lightning_fit import EpochLossLog


class FusionRows(torch.utils.data.Dataset):
    """Rows of standardised modality blocks (name -> (n, d) tensor) and their labels: ({name: (d,)}, label)."""

    def __init__(self, blocks: dict[str, torch.Tensor], labels: torch.Tensor):
        self.blocks, self.labels = blocks, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return {n: t[i] for n, t in self.blocks.items()}, self.labels[i]

    def __getitems__(self, indices):
        """A whole batch at once (the DataLoader's collate_fn must pass it through: ``pre_batched``)."""
        import torch

        index = torch.as_tensor(indices)
        return {n: t[index] for n, t in self.blocks.items()}, self.labels[index]


def modality_mask(n_rows: int, n_modalities: int, rate: float, generator: torch.Generator) -> torch.Tensor:
    """(n_rows, n_modalities) 0/1: each entry kept with probability 1 - rate; a row that lost every modality
    gets one back, chosen at random."""
    keep = torch.rand(n_rows, n_modalities, generator=generator) >= rate
    empty = ~keep.any(dim=1)
    if empty.any():
        chosen = torch.randint(0, n_modalities, (int(empty.sum()),), generator=generator)
        keep[empty.nonzero().flatten(), chosen] = True
    return keep.float()


class FusionModule(EpochLossLog, pl.LightningModule):
    def __init__(self, net: nn.Module, lr: float, weight_decay: float, modality_dropout: float, seed: int):
        super().__init__()
        self.net = net
        self.lr, self.weight_decay, self.seed = lr, weight_decay, seed
        # only late fusion of two or more modalities has encodings to drop
        names = getattr(net, "names", [])
        self.modality_dropout = modality_dropout if hasattr(net, "encoders") and len(names) > 1 else 0.0

    def forward(self, inputs, drop=None):
        return self.net(inputs, drop)

    def training_step(self, batch, batch_idx):
        inputs, y = batch
        drop = None
        if self.modality_dropout > 0:
            generator = torch.Generator().manual_seed(self.seed * 7919 + self.current_epoch * 100003 + batch_idx)
            drop = modality_mask(len(y), len(self.net.names), self.modality_dropout, generator).to(self.device)
        loss = nn.functional.cross_entropy(self(inputs, drop), y)
        self.remember_loss(loss, len(y))
        return loss

    def validation_step(self, batch, batch_idx):
        inputs, y = batch
        logits = self(inputs)
        self.log_dict({"val_loss": nn.functional.cross_entropy(logits, y),
                       "val_acc": (logits.argmax(1) == y).float().mean()},
                      prog_bar=True, on_epoch=True, sync_dist=True, batch_size=len(y))

    def configure_optimizers(self):
        return torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
