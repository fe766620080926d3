"""SimSiam (Chen & He 2021) for a convolutional backbone: two views of each patch, one side predicts the other's
projection, the other side's gradient stopped. No negatives and no momentum encoder, so it works with the small
batches a CPU affords; batch-norm in the projector and predictor keeps it from collapsing."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import nn

from .pretrain_views import seismic_view


def projector(features: int, width: int) -> nn.Module:
    return nn.Sequential(nn.Linear(features, width, bias=False), nn.BatchNorm1d(width), nn.ReLU(inplace=True),
                         nn.Linear(width, width, bias=False), nn.BatchNorm1d(width, affine=False))


def predictor(width: int, bottleneck: int) -> nn.Module:
    return nn.Sequential(nn.Linear(width, bottleneck, bias=False), nn.BatchNorm1d(bottleneck), nn.ReLU(inplace=True),
                         nn.Linear(bottleneck, width))


class SimSiamModule(pl.LightningModule):
    """``normalize`` (the classifier's input normalisation) -> ``backbone`` (pooled features) -> projector."""

    def __init__(self, backbone: nn.Module, normalize: nn.Module, lr: float, weight_decay: float,
                 width: int = 512, bottleneck: int = 128, seed: int = 0):
        super().__init__()
        self.backbone, self.normalize = backbone, normalize
        self.projector = projector(backbone.num_features, width)
        self.predictor = predictor(width, bottleneck)
        self.lr, self.weight_decay = lr, weight_decay
        self.generator = torch.Generator().manual_seed(seed)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(self.backbone(self.normalize(x)))

    def training_step(self, batch, batch_idx):
        x = batch.float()
        z1 = self.embed(seismic_view(x, self.generator))
        z2 = self.embed(seismic_view(x, self.generator))
        p1, p2 = self.predictor(z1), self.predictor(z2)
        loss = -(F.cosine_similarity(p1, z2.detach()).mean() + F.cosine_similarity(p2, z1.detach()).mean()) / 2
        # collapse shows as the normalised projections' spread falling to 0 (healthy: about 1/sqrt(width))
        spread = F.normalize(z1.detach(), dim=1).std(dim=0).mean()
        self.log("loss", loss, prog_bar=True)
        self.log("z_std", spread, prog_bar=True)
        return loss

    def configure_optimizers(self):
        # the pretrained backbone moves slowly; the new projector and predictor learn at ten times the rate
        groups = [{"params": self.backbone.parameters(), "lr": self.lr},
                  {"params": [*self.projector.parameters(), *self.predictor.parameters()], "lr": self.lr * 10}]
        return torch.optim.AdamW(groups, lr=self.lr, weight_decay=self.weight_decay)
