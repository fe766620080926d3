"""Typed configuration: wrong types, unknown values and conflicting options are refused as one line."""

import pytest

from geotune.cli import main
from geotune.config import TrainConfig
from geotune.errors import ConfigError


def _config_file(tmp_path, text):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    ("epochs: ten\n", "--epochs must be a valid integer"),
    ("optimizer: adagrad\n", "--optimizer must be 'adamw', 'adam' or 'sgd', got 'adagrad'"),
    ("epocs: 3\n", "unknown option 'epocs' (did you mean 'epochs'?)"),
    ("val_split: 1.5\n", "--val-split must be less than 1"),
    ("- a list\n", "must be a mapping of option: value"),
])
def test_bad_config_file_exits_2_with_one_line(tmp_path, capsys, text, message):
    path = _config_file(tmp_path, text)
    code = main(["train", "--config", str(path), "--data", str(path), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and str(path) in err
    assert "got 'ten'" in err if "ten" in text else True
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_options_given_win_over_the_recipe():
    cfg = TrainConfig(recipe="seed", epochs=3, lr=0.01).apply_recipe()
    assert (cfg.epochs, cfg.lr) == (3, 0.01)
    assert (cfg.head, cfg.optimizer, cfg.backbone, cfg.batch_size) == ("seed", "adam", "resnet50", 32)
    assert not cfg.backbone_explicit
    assert TrainConfig(recipe="seed", backbone="tf_efficientnet_lite0").apply_recipe().backbone_explicit


def test_cached_feature_options_need_linear_probe():
    with pytest.raises(ConfigError, match="--fewshot works on cached features"):
        TrainConfig(strategy="gradual", fewshot="auto").validate()


def test_missing_data_is_reported_before_heavy_imports(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from geotune.cli import main; rc = main(['train', '--data', 'nope.npy', '--out', 'r']); "
            "print('torch' in sys.modules); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "nope.npy: no such file" in result.stderr
    assert result.stdout.strip() == "False"


def test_old_configs_with_an_extra_mapping_still_load():
    cfg = TrainConfig.from_dict({"task": "segment", "extra": {"class_names": ["a", "b"], "split": "tail",
                                                             "backbone_explicit": True}})
    assert cfg.class_names == ["a", "b"] and cfg.split == "tail"
    with pytest.raises(ConfigError, match="unknown option 'bogus'"):
        TrainConfig.from_dict({"extra": {"bogus": 1}})


def test_every_option_is_on_the_command_line_with_its_help_and_choices(capsys):
    import typing

    from geotune.config import flag

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name, field in TrainConfig.model_fields.items():
        if not field.json_schema_extra.get("cli", True):
            continue
        option = flag(f"no_{name}") if field.annotation is bool and field.default else flag(name)
        assert option in text, option
        assert " ".join(field.description.split())[:40] in text, name
        for arg in [field.annotation, *typing.get_args(field.annotation)]:
            if typing.get_origin(arg) is typing.Literal:
                assert "{" + ",".join(typing.get_args(arg)) + "}" in text, name
