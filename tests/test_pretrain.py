"""`geotune pretrain`: a weights file that `geotune train --weights` loads, batch-norm recalibration, the time
budget, resume, and one-line errors. A tiny timm test backbone keeps these fast."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geotune.cli import main

BACKBONE = "test_efficientnet"


@pytest.fixture(scope="module")
def start_weights(tmp_path_factory):
    """Random weights of the test backbone standing in for ImageNet ones (no network, no offline package)."""
    import timm
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = timm.create_model(BACKBONE, pretrained=False, num_classes=0)
    path = tmp_path_factory.mktemp("start") / "start.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


@pytest.fixture(scope="module")
def patches(tmp_path_factory):
    from geotune.data.synthetic import make_fault_patches

    x, y, classes = make_fault_patches(24, size=24, seed=3)
    folder = tmp_path_factory.mktemp("patches")
    np.save(folder / "train_data.npy", x)
    np.save(folder / "train_labels.npy", np.asarray(classes)[y])
    return folder / "train_data.npy"


def options(patches, start_weights, out, **changes):
    from geotune.training.pretrain import PretrainOptions

    values = dict(data=str(patches), out=str(out), backbone=BACKBONE, weights=str(start_weights), image_size=24,
                  epochs=1, batch_size=8, minutes=5)
    return PretrainOptions(**{**values, **changes})


def test_pretrain_writes_weights_that_train_loads(tmp_path, patches, start_weights, capsys):
    from safetensors.torch import load_file

    from geotune import modeldir
    from geotune.training.pretrain_weights import read_metadata

    out = tmp_path / "adapted.safetensors"
    assert main(["pretrain", "--data", str(patches), "--out", str(out), "--backbone", BACKBONE, "--weights",
                 str(start_weights), "--image-size", "24", "--epochs", "1", "--batch-size", "8"]) == 0
    assert "weights written to" in capsys.readouterr().out
    adapted, start = load_file(str(out)), load_file(str(start_weights))
    assert set(adapted) == set(start)  # the same backbone's keys, nothing added
    moved = [k for k in adapted if k != "conv_stem.weight" and "running" not in k and "num_batches" not in k
             and not np.array_equal(adapted[k].numpy(), start[k].numpy())]
    assert moved  # training changed the weights
    meta = read_metadata(out)
    assert meta["method"] == "simsiam" and meta["backbone"] == BACKBONE and meta["steps"] == "3"

    run = tmp_path / "run"
    assert main(["train", "--data", str(patches), "--backbone", BACKBONE, "--weights", str(out), "--image-size",
                 "24", "--epochs", "1", "--out", str(run)]) == 0
    config = json.loads((run / "model" / "config.json").read_text())
    assert "geotune pretrain simsiam" in config["weights_source"] and "sha256" in config["weights_source"]
    trained = modeldir.load_tensors(run / "model")
    for key, value in adapted.items():  # linear probe: the backbone is the pretrained file, loaded exactly
        assert np.array_equal(trained[f"backbone.{key}"].numpy(), value.numpy()), key


def test_train_refuses_weights_pretrained_for_another_backbone(tmp_path, patches, start_weights, capsys):
    from geotune.training.pretrain import pretrain

    out = tmp_path / "adapted.safetensors"
    pretrain(options(patches, start_weights, out, method="bn"))
    capsys.readouterr()  # the progress lines of pretraining
    code = main(["train", "--data", str(patches), "--weights", str(out), "--image-size", "24", "--epochs", "1",
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"pretrained for backbone '{BACKBONE}'" in err and str(out) in err


def test_bn_recalibration_moves_running_stats_to_the_target_data(tmp_path, patches, start_weights):
    import timm
    import torch
    from safetensors.torch import load_file

    from geotune.data.samples import load_samples
    from geotune.models.backbones import channel_stats, spec_for
    from geotune.models.heads import Normalize
    from geotune.training.pretrain import pretrain

    out = tmp_path / "bn.safetensors"
    summary = pretrain(options(patches, start_weights, out, method="bn"))
    assert summary["bn_samples"] == 24
    spec = spec_for(BACKBONE)
    x = torch.from_numpy(load_samples(patches, image_size=24, require_labels=False).x).float()
    model = timm.create_model(BACKBONE, pretrained=False, num_classes=0, in_chans=1)
    model.load_state_dict(load_file(str(out)))
    with torch.no_grad():  # what the first batch-norm layer sees on the target data
        stem = model.conv_stem(Normalize(channel_stats(spec.mean, 1), channel_stats(spec.std, 1))(x))
    target_mean, target_var = stem.mean((0, 2, 3)), stem.var((0, 2, 3))
    before, after = load_file(str(start_weights)), load_file(str(out))
    gap_before = (before["bn1.running_mean"] - target_mean).abs().mean()
    gap_after = (after["bn1.running_mean"] - target_mean).abs().mean()
    assert gap_after < 0.05 * gap_before
    assert torch.allclose(after["bn1.running_var"], target_var, rtol=0.05)
    for key in before:  # nothing but the statistics changed
        if "running" not in key and "num_batches" not in key and key != "conv_stem.weight":
            assert torch.equal(before[key], after[key]), key


def test_minutes_budget_stops_training(tmp_path, patches, start_weights):
    from geotune.training.pretrain import pretrain

    summary = pretrain(options(patches, start_weights, tmp_path / "w.safetensors", epochs=50, minutes=1e-4))
    assert summary["stopped_by"] == "time budget"
    assert 1 <= summary["steps"] < 50 * 3


def test_resume_continues_from_the_checkpoint(tmp_path, patches, start_weights):
    from geotune.training.pretrain import pretrain, work_dir

    out = tmp_path / "w.safetensors"
    first = pretrain(options(patches, start_weights, out, epochs=1))
    assert (work_dir(out) / "checkpoints" / "last.ckpt").is_file() and first["steps"] == 3
    second = pretrain(options(patches, start_weights, out, epochs=2, resume=True))
    assert second["resumed_from_step"] == 3 and second["steps"] == 6 and second["epochs"] == 2


def test_segy_volume_windows(tmp_path, start_weights):
    from geotune.data.seismic import write_volume_segy
    from geotune.data.synthetic import make_volume
    from geotune.training.pretrain import pretrain
    from geotune.training.pretrain_weights import read_metadata

    volume = make_volume(n_inlines=4, n_crosslines=40, n_samples=48, seed=1)["amplitude"]
    segy = write_volume_segy(tmp_path / "survey.sgy", np.transpose(volume, (0, 2, 1)))
    out = tmp_path / "w.safetensors"
    summary = pretrain(options(segy, start_weights, out, method="bn", window=20, bn_samples=256))
    assert summary["samples"] == 4096 and summary["bn_samples"] == 256 and summary["scaling"] == "robust"
    assert read_metadata(out)["data"].endswith("survey.sgy")


@pytest.mark.parametrize("name, content", [("notes.txt", b"not seismic\n"), ("survey.sgy", b"x" * 5000),
                                           ("patches.npy", b"a,b\n1,2\n")])
def test_bad_input_is_one_line(tmp_path, name, content, capsys):
    bad = tmp_path / name
    bad.write_bytes(content)
    code = main(["pretrain", "--data", str(bad), "--out", str(tmp_path / "w.safetensors"), "--backbone", BACKBONE,
                 "--image-size", "24"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and str(bad) in err
    assert not (tmp_path / "w.safetensors").exists()


def _group_names(stages_from_top: int) -> tuple[set, set]:
    """Parameter names of the test backbone's top ``stages_from_top`` groups, and of the rest."""
    import timm

    from geotune.training.modules import backbone_groups

    model = timm.create_model(BACKBONE, pretrained=False, num_classes=0, in_chans=1)
    names = {id(p): n for n, p in model.named_parameters()}
    groups = [{names[id(p)] for p in g["params"]} for g in backbone_groups(model)]
    top = set().union(*groups[-stages_from_top:])
    return top, set().union(*groups[:-stages_from_top])


def test_simsiam_keeps_the_start_statistics_and_trains_only_the_top_stages(tmp_path, patches, start_weights):
    from safetensors.torch import load_file

    from geotune.training.pretrain import pretrain

    out = tmp_path / "w.safetensors"
    summary = pretrain(options(patches, start_weights, out, epochs=2, stages=2, lr=1e-2))
    assert summary["bn_samples"] == 0 and summary["batchnorm"] == "kept from the start" and summary["stages"] == 2
    before, after = load_file(str(start_weights)), load_file(str(out))
    for key in before:  # the statistics the start was trained with, unchanged (the views never update them)
        if "running" in key:
            assert torch_equal(before[key], after[key]), key
    top, rest = _group_names(2)
    assert all(torch_equal(before[k], after[k]) for k in rest if k != "conv_stem.weight")  # frozen below
    assert any(not torch_equal(before[k], after[k]) for k in top)  # trained above


def test_simsiam_can_still_recompute_the_statistics(tmp_path, patches, start_weights):
    from safetensors.torch import load_file

    from geotune.training.pretrain import pretrain

    out = tmp_path / "w.safetensors"
    summary = pretrain(options(patches, start_weights, out, epochs=1, batchnorm="recompute", stages=None))
    assert summary["bn_samples"] == 24 and summary["stages"] == "all"
    before, after = load_file(str(start_weights)), load_file(str(out))
    assert not torch_equal(before["bn1.running_mean"], after["bn1.running_mean"])
    _, rest = _group_names(1)
    assert any(not torch_equal(before[k], after[k]) for k in rest if k != "conv_stem.weight")  # all stages train


@pytest.mark.parametrize("stages", ["0", "two", "-1"])
def test_bad_stages_is_one_line(tmp_path, patches, stages, capsys):
    code = main(["pretrain", "--data", str(patches), "--out", str(tmp_path / "w.safetensors"), "--stages", stages])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--stages" in err


def torch_equal(a, b) -> bool:
    import torch

    return bool(torch.equal(a, b))
