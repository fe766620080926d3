"""The task registry is the one list of tasks: the CLI, report, config and model loading all follow it."""

import json

import numpy as np
import pytest

from geotune import load_model, tasks
from geotune.cli import build_parser, main
from geotune.config import TrainConfig
from geotune.errors import ConfigError, ModelError
from geotune.report.sections import SECTIONS


def _subparser(name):
    parser = build_parser()
    action = next(a for a in parser._subparsers._group_actions if a.choices)
    return action.choices[name]


def test_every_trainable_task_is_a_train_choice_and_nothing_else():
    train = _subparser("train")
    task_option = next(a for a in train._actions if a.dest == "task")
    assert list(task_option.choices) == tasks.task_names(trainable=True)
    assert "prospect" in tasks.task_names() and "prospect" not in task_option.choices


@pytest.mark.parametrize("task", tasks.all_tasks(), ids=lambda t: t.name)
def test_each_task_declaration_resolves(task):
    model_class = tasks.resolve(task.model_class)
    for method in ("load", "predict_to_file", "evaluate_source"):
        assert callable(getattr(model_class, method)), f"{task.name}: {model_class.__name__}.{method}"
    if task.trainer is not None:
        assert callable(tasks.trainer(task.name))
    else:
        with pytest.raises(ConfigError, match=task.trained_by):
            tasks.trainer(task.name)
    section_names = {s.__name__.rsplit(".", 1)[-1] for s in SECTIONS}
    assert set(task.report_sections) <= section_names
    assert set(task.options) <= set(TrainConfig.model_fields)
    assert task.predict_outputs, f"{task.name} declares no output format"


def test_web_app_predicts_with_every_task_that_declares_a_handler():
    from geotune.data.images import IMAGE_SUFFIXES
    from geotune.serve.predict import predicting_tasks

    declared = [t for t in tasks.all_tasks() if t.web_handler]
    assert predicting_tasks() == [t.name for t in declared] and "classify" in predicting_tasks()
    for task in declared:
        assert callable(tasks.resolve(task.web_handler)) and task.web_inputs
    assert tasks.get_task("classify").web_inputs == IMAGE_SUFFIXES | {".npy"}


def test_unknown_task_in_a_model_directory_is_refused():
    with pytest.raises(ModelError, match="unknown task 'volcano'"):
        tasks.model_class("volcano", "somewhere")


def test_registering_a_different_task_under_a_taken_name_fails():
    first = tasks.get_task("classify")
    with pytest.raises(ValueError, match="registered twice"):
        tasks.register_task(tasks.Task(name="classify", summary="other", model_class=first.model_class))


def test_an_option_of_another_task_is_refused_with_the_reason():
    with pytest.raises(ConfigError, match="--loss applies to --task segment, not --task classify"):
        TrainConfig(task="classify", loss="dice").validate()
    with pytest.raises(ConfigError, match="--model-type applies to --task logs"):
        TrainConfig(task="segment", model_type="cnn").validate()
    # a saved config replays every option at its value: defaults of other tasks are not an error
    TrainConfig.from_dict(TrainConfig(task="segment", loss="dice").to_dict()).validate()


def test_tree_models_refuse_engine_options():
    from geotune.logs.options import check_engine_options

    with pytest.raises(ConfigError, match="--devices applies to neural models"):
        check_engine_options(TrainConfig(task="logs", devices=2).validate())
    check_engine_options(TrainConfig(task="logs", model_type="cnn", devices=2).validate())


def test_prospect_run_loads_like_any_model_and_predicts_a_map(tmp_path):
    from geotune.prospect.synthetic import make_synthetic_area

    area = make_synthetic_area(tmp_path / "area", shape=(30, 40), n_deposits=20, seed=3)
    run = tmp_path / "run"
    assert main(["prospect", "fit", "--layers", str(area["fault_dist"]), str(area["host"]), "--deposits",
                 str(area["deposits"]), "--method", "wofe", "--cv-blocks", "0", "--out", str(run)]) == 0
    model = load_model(run)
    assert type(model).__name__ == "ProspectModel"
    out = tmp_path / "map.tif"
    assert main(["predict", str(run), str(run), "--out", str(out)]) == 0
    import rasterio

    with rasterio.open(out) as dst:
        proba = dst.read(1)
    assert proba.shape == (30, 40) and np.nanmax(proba) <= 1 and np.nanmin(proba) >= 0
    metrics = model.evaluate_source(area["deposits"])
    fitted = json.loads((run / "model" / "metrics.json").read_text())
    assert metrics["auc"] == pytest.approx(fitted["resubstitution"]["auc"], abs=1e-9)


def test_predict_refuses_an_option_the_model_does_not_take(tiny_run, tiny_patches, tmp_path, capsys):
    code = main(["predict", str(tiny_run), str(tiny_patches["test_data"]), "--out", str(tmp_path / "p.csv"),
                 "--crossline"])
    assert code == 2
    assert "--crossline applies to segment models; this is a classify model" in capsys.readouterr().err
