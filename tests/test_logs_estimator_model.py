"""The estimator on a table and the saved model of `geotune train` are one model: same probabilities."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from geotune import modeldir
from geotune.config import TrainConfig
from geotune.logs import decode
from geotune.logs.las import LogsWarning
from geotune.logs.model import LogsModel
from geotune.logs.pipeline import estimator_for, fit
from geotune.logs.sequence import smooth_proba
from geotune.logs.synthetic import make_wells

FAST = {"gbm_params": {"max_iter": 8}, "forest_params": {"n_estimators": 10}}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A saved trees model with HMM decoding, learned from wells of which one lacks PE (estimated)."""
    folder = tmp_path_factory.mktemp("wells")
    table = make_wells(3, 60, seed=5, missing_pe_wells=1)
    table.to_csv(folder / "wells.csv", index=False)
    cfg = TrainConfig(data=str(folder / "wells.csv"), task="logs", label_column="Facies", group_by="Well Name",
                      model_type="trees", decode="hmm", out=str(folder / "run"), extra=FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        fit(cfg)
    return folder, table, cfg


def _load(folder) -> LogsModel:
    path, config = modeldir.load_config(folder / "run")
    return LogsModel.load(path, config)


def test_the_estimator_fitted_on_the_table_predicts_what_the_saved_model_predicts(trained):
    folder, table, cfg = trained
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        model = _load(folder)
        saved = model.predict_proba(folder / "wells.csv")
        estimator = estimator_for(cfg, "Well Name", "Depth").fit(table.drop(columns="Facies"), table["Facies"])
        mine = estimator.predict_proba(table.drop(columns="Facies"))
    assert "PE" in estimator.imputers_ and model.config["decode"] == "hmm"
    assert estimator.classes_ == model.classes
    assert np.abs(mine - saved).max() < 1e-9
    # the yardstick for new wells is the saved one too
    assert json.loads(modeldir.json_text(estimator.shift_reference_)) == model.config["shift"]


def test_a_loaded_model_is_the_estimator(trained):
    folder, table, _ = trained
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        model = _load(folder)
        shuffled = table.sample(frac=1.0, random_state=1)
        from_table = model.estimator.predict_proba(shuffled)
        from_file = model.predict_proba(folder / "wells.csv")
    assert np.abs(from_table - from_file[shuffled.index.to_numpy()]).max() < 1e-9


@pytest.mark.parametrize("decoding", ["smooth", "hmm"])
def test_model_directories_from_before_decode_options_still_load(trained, tmp_path, decoding):
    """Models saved before ``decode`` existed smoothed; before ``hmm_emission`` existed, HMMs divided by the priors."""
    folder, _, _ = trained
    run = tmp_path / "run"
    run.mkdir()
    for file in (folder / "run" / "model").iterdir():
        (run / file.name).write_bytes(file.read_bytes())
    config = json.loads((run / "config.json").read_text())
    config.pop("hmm_emission")
    if decoding == "smooth":
        config.pop("decode")
        config["smooth"] = 5
    (run / "config.json").write_text(json.dumps(config))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        path, config = modeldir.load_config(run)
        model = LogsModel.load(path, config)
        _, frame, _ = model._prepared(folder / "wells.csv")
        raw = model.engine.proba(model.engine.inputs(frame))
        proba = model._proba_prepared(frame)
    wells = frame["Well Name"].to_numpy()
    if decoding == "smooth":
        expected = smooth_proba(raw, wells, 5)
    else:
        expected = decode.posterior(raw, wells, config["transitions"], config["priors"], "scaled")
    assert not np.allclose(proba, raw) and np.abs(proba - expected).max() < 1e-12
