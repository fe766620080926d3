"""Split a timm backbone into the sequence of stages its forward pass runs, so that a frozen prefix can
be run once and cached while only the stages above it train (gradual unfreezing on CPUs)."""

from __future__ import annotations

from torch import nn


def split_stages(backbone: nn.Module) -> list[nn.Module] | None:
    """Stages whose composition, followed by ``backbone.forward_head(x, pre_logits=True)``, equals the
    backbone's forward; None for families not mapped here (they train without activation caching)."""
    if all(hasattr(backbone, name) for name in ("conv_stem", "bn1", "blocks", "conv_head", "bn2")):
        return [nn.Sequential(backbone.conv_stem, backbone.bn1), *backbone.blocks,
                nn.Sequential(backbone.conv_head, backbone.bn2)]  # EfficientNet family
    if all(hasattr(backbone, name) for name in ("conv1", "bn1", "act1", "maxpool", "layer4")):
        return [nn.Sequential(backbone.conv1, backbone.bn1, backbone.act1, backbone.maxpool),
                backbone.layer1, backbone.layer2, backbone.layer3, backbone.layer4]  # ResNet family
    return None


def first_trainable_stage(stages: list[nn.Module]) -> int:
    """Index of the lowest stage with a trainable parameter; len(stages) when all are frozen."""
    for index, stage in enumerate(stages):
        if any(p.requires_grad for p in stage.parameters()):
            return index
    return len(stages)
