"""Build a GeoClassifier from a run configuration (for training) or a saved config (for loading)."""

from __future__ import annotations

from typing import Any, Mapping

from .backbones import channel_stats, create_backbone, spec_for
from .heads import GeoClassifier, build_head


def build_classifier(config: Mapping[str, Any], pretrained: bool, weights: str | None = None):
    """``config`` needs backbone, in_chans, classes, head; returns (model, weight source)."""
    spec = spec_for(config["backbone"])
    in_chans = int(config["in_chans"])
    backbone, source = create_backbone(config["backbone"], pretrained=pretrained, weights=weights, in_chans=in_chans)
    head = build_head(config["head"], backbone.num_features, len(config["classes"]))
    mean = config.get("mean") or channel_stats(spec.mean, in_chans)
    std = config.get("std") or channel_stats(spec.std, in_chans)
    return GeoClassifier(backbone, head, mean, std), source
