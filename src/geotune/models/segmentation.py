"""Segmentation networks: a timm encoder (pretrained offline where possible) with a U-Net or FPN decoder.

Built with segmentation-models-pytorch's ``tu-<timm name>`` encoders. The ImageNet weights come from
``geotune.models.backbones.pretrained_state_dict`` (local file or offline package), and the first
convolution is adapted to the input channel count with timm's ``adapt_input_conv`` (grey seismic: 1).
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError, WeightsNotFoundError

ARCHITECTURES = ("unet", "fpn")
# A light decoder: the encoder carries the pretrained knowledge; CPUs pay for wide decoders.
DECODER_CHANNELS = (128, 64, 32, 16, 16)


def build_segmentation_model(backbone: str, n_classes: int, in_chans: int = 1, arch: str = "unet"):
    """An untrained (random) model; ``load_pretrained_encoder`` fills in the encoder."""
    import segmentation_models_pytorch as smp

    if arch not in ARCHITECTURES:
        raise ConfigError(f"segmentation architecture must be one of {ARCHITECTURES}, got {arch!r}")
    encoder = f"tu-{backbone}"
    try:
        if arch == "unet":
            return smp.Unet(encoder, encoder_weights=None, in_channels=in_chans, classes=n_classes,
                            decoder_channels=DECODER_CHANNELS)
        return smp.FPN(encoder, encoder_weights=None, in_channels=in_chans, classes=n_classes)
    except (ValueError, KeyError, RuntimeError) as exc:
        raise ConfigError(f"backbone {backbone!r} cannot serve as a segmentation encoder ({exc})") from exc


def load_pretrained_encoder(model, backbone: str, weights: str | None = None) -> str:
    """Copy ImageNet weights into ``model.encoder``; returns where they came from."""
    from timm.models import adapt_input_conv

    from .backbones import pretrained_state_dict

    found, looked = pretrained_state_dict(backbone, weights)
    if found is None:
        raise WeightsNotFoundError(
            f"no offline pretrained weights for segmentation encoder {backbone!r} (looked at: {'; '.join(looked)}). "
            "Use --backbone tf_efficientnet_lite0 (weights ship offline), pass --weights FILE, or train with "
            "--no-pretrained")
    state, where = found
    target = model.encoder.model.state_dict()
    adapted: dict[str, Any] = {}
    for key, value in state.items():
        if key not in target:
            continue  # the classifier and final 1x1 head are not part of a feature encoder
        if value.ndim == 4 and value.shape[1] != target[key].shape[1]:
            value = adapt_input_conv(target[key].shape[1], value)
        adapted[key] = value
    missing = [k for k in target if k not in adapted and not k.endswith("num_batches_tracked")]
    if missing:
        raise WeightsNotFoundError(f"weights from {where} do not cover encoder {backbone!r}: "
                                   f"{len(missing)} missing tensors (e.g. {missing[:3]})")
    model.encoder.model.load_state_dict(adapted, strict=False)
    return where
