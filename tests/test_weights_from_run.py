"""`geotune train --weights RUN`: start from the backbone of an earlier geotune classifier (trained on synthetic
data or another survey), loaded exactly; grey runs start colour data; other runs are refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geotune.cli import main

BACKBONE = "test_efficientnet"


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A run fine-tuned (all layers) on generated fault patches, from random weights of the test backbone."""
    import timm
    import torch
    from safetensors.torch import save_file

    from geotune.data.synthetic import make_fault_patches

    folder = tmp_path_factory.mktemp("first")
    torch.manual_seed(0)
    start = folder / "start.safetensors"
    model = timm.create_model(BACKBONE, pretrained=False, num_classes=0)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(start))
    x, y, classes = make_fault_patches(24, size=24, seed=5)
    np.save(folder / "data.npy", x)
    np.save(folder / "labels.npy", np.asarray(classes)[y])
    assert main(["train", "--data", str(folder / "data.npy"), "--labels", str(folder / "labels.npy"), "--backbone",
                 BACKBONE, "--weights", str(start), "--image-size", "24", "--epochs", "1", "--strategy", "full",
                 "--out", str(folder / "run")]) == 0
    return folder


def test_train_starts_from_the_backbone_of_an_earlier_run(tmp_path, first_run):
    from geotune import modeldir

    run = tmp_path / "second"
    # the folder of the run, not RUN/model: both are accepted
    assert main(["train", "--data", str(first_run / "data.npy"), "--labels", str(first_run / "labels.npy"),
                 "--backbone", BACKBONE, "--weights", str(first_run / "run"), "--image-size", "24", "--epochs", "1",
                 "--out", str(run)]) == 0
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["weights_source"].startswith("geotune run ") and "trained on" in config["weights_source"]
    earlier = modeldir.load_tensors(first_run / "run" / "model")
    start = {k: v for k, v in modeldir.load_tensors(run / "model").items() if k.startswith("backbone.")}
    assert set(start) == {k for k in earlier if k.startswith("backbone.")}
    for key, value in start.items():  # linear probe: the backbone is the earlier run's, exactly
        assert np.array_equal(value.numpy(), earlier[key].numpy()), key


def test_a_grey_run_starts_a_colour_backbone_with_the_same_response(first_run):
    import torch

    from geotune.models.backbones import create_backbone

    grey, _ = create_backbone(BACKBONE, weights=first_run / "run", in_chans=1)
    colour, source = create_backbone(BACKBONE, weights=first_run / "run" / "model", in_chans=3)
    assert colour.conv_stem.weight.shape[1] == 3 and "geotune run" in source
    x = torch.rand(2, 1, 24, 24)
    grey.eval(), colour.eval()
    with torch.no_grad():  # a grey image copied into RGB gives what the grey network gave
        torch.testing.assert_close(colour(x.repeat(1, 3, 1, 1)), grey(x), atol=1e-5, rtol=1e-4)


def test_runs_that_cannot_start_a_backbone_are_refused_in_one_line(tmp_path, first_run, capsys):
    from geotune import modeldir

    other_task = modeldir.save(tmp_path / "logs_run" / "model", {"task": "logs", "classes": ["a", "b"]}, None, {})
    not_a_run = tmp_path / "just_a_folder"
    not_a_run.mkdir()
    common = ["train", "--data", str(first_run / "data.npy"), "--labels", str(first_run / "labels.npy"),
              "--image-size", "24", "--epochs", "1"]
    cases = [(["--backbone", BACKBONE, "--weights", str(other_task)], "'logs' run cannot start a backbone"),
             (["--weights", str(first_run / "run")], f"this run's backbone is '{BACKBONE}'"),
             (["--backbone", BACKBONE, "--weights", str(not_a_run)], "not a geotune model directory")]
    for index, (extra, expected) in enumerate(cases):
        out = tmp_path / f"refused{index}"
        code = main([*common, *extra, "--out", str(out)])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1, err
        assert expected in err
        assert not (out / "model").exists()
