"""SimSiam (Chen & He 2021) for a convolutional backbone: two views of each patch, one side predicts the other's
projection, the other side's gradient stopped. No negatives and no momentum encoder, so it works with the small
batches a CPU affords; batch-norm in the projector and predictor keeps it from collapsing.

By default the backbone's batch-norm statistics stay those it started with (its batch-norm layers run in eval
mode, their scale and shift still train) and only its top ``stages`` train: recomputing the statistics on a
seismic survey (AdaBN) costs the frozen features most of their fault signal on F3 (benchmarks/results/
seismic_transfer_fewlabels.md), and the low stages' ImageNet edge detectors are what transfers best."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import nn

from .modules import backbone_groups
from .pretrain_bn import batchnorm_layers
from .pretrain_views import seismic_view


def projector(features: int, width: int) -> nn.Module:
    return nn.Sequential(nn.Linear(features, width, bias=False), nn.BatchNorm1d(width), nn.ReLU(inplace=True),
                         nn.Linear(width, width, bias=False), nn.BatchNorm1d(width, affine=False))


def predictor(width: int, bottleneck: int) -> nn.Module:
    return nn.Sequential(nn.Linear(width, bottleneck, bias=False), nn.BatchNorm1d(bottleneck), nn.ReLU(inplace=True),
                         nn.Linear(bottleneck, width))


def trainable_top(backbone: nn.Module, stages: int | None) -> list[nn.Parameter]:
    """The parameters of the backbone's top ``stages`` parameter groups (timm's coarse groups: stem, stages,
    head conv); every parameter when ``stages`` is None or the backbone has no group matcher. The rest get
    requires_grad False."""
    params = list(backbone.parameters())
    if stages is None or not hasattr(backbone, "group_matcher"):
        return params
    groups = backbone_groups(backbone)
    chosen = {id(p) for g in groups[max(0, len(groups) - stages):] for p in g["params"]}
    for p in params:
        p.requires_grad_(id(p) in chosen)
    return [p for p in params if id(p) in chosen]


class SimSiamModule(pl.LightningModule):
    """``normalize`` (the classifier's input normalisation) -> ``backbone`` (pooled features) -> projector.

    ``freeze_bn_stats``: the backbone's batch-norm layers stay in eval mode (running statistics unchanged);
    ``stages``: train only the top groups of the backbone (None: all)."""

    def __init__(self, backbone: nn.Module, normalize: nn.Module, lr: float, weight_decay: float,
                 width: int = 512, bottleneck: int = 128, seed: int = 0, freeze_bn_stats: bool = True,
                 stages: int | None = None):
        super().__init__()
        self.backbone, self.normalize = backbone, normalize
        self.projector = projector(backbone.num_features, width)
        self.predictor = predictor(width, bottleneck)
        self.lr, self.weight_decay = lr, weight_decay
        self.freeze_bn_stats = freeze_bn_stats
        self.backbone_params = trainable_top(backbone, stages)
        self.generator = torch.Generator().manual_seed(seed)

    def on_train_batch_start(self, batch, batch_idx):
        # Lightning sets the modules' training flags itself (at the start of every pass, after validation, on
        # resume), not always through train(): re-freeze the statistics before every step
        if self.freeze_bn_stats:
            for layer in batchnorm_layers(self.backbone):
                layer.eval()

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
        groups = [{"params": self.backbone_params, "lr": self.lr},
                  {"params": [*self.projector.parameters(), *self.predictor.parameters()], "lr": self.lr * 10}]
        return torch.optim.AdamW(groups, lr=self.lr, weight_decay=self.weight_decay)
