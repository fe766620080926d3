"""At prediction, how far each new well lies from the training wells, against the range validation saw."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from geotune import modeldir
from geotune.config import TrainConfig
from geotune.logs import progress, shift
from geotune.logs.las import LogsWarning
from geotune.logs.model import LogsModel
from geotune.logs.pipeline import fit
from geotune.logs.synthetic import make_wells


def _trained(folder, missing_pe_wells: int = 0) -> LogsModel:
    """A small logs model saved under ``folder``/run from five synthetic wells, loaded back."""
    make_wells(5, 80, seed=11, missing_pe_wells=missing_pe_wells).to_csv(folder / "wells.csv", index=False)
    progress.enable(False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        fit(TrainConfig(data=str(folder / "wells.csv"), task="logs", label_column="Facies", group_by="Well Name",
                        out=str(folder / "run"), extra={"gbm_params": {"max_iter": 8},
                                                        "forest_params": {"n_estimators": 10}}))
    progress.enable(None)
    path, config = modeldir.load_config(folder / "run")
    return LogsModel.load(path, config)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return _trained(tmp_path_factory.mktemp("shift"))


def _new_wells():
    near = make_wells(1, 80, seed=12, missing_pe_wells=0)
    far = make_wells(1, 80, seed=13, missing_pe_wells=0)
    far["Well Name"] = "FAR-1"
    far["GR"] += 250.0  # another tool calibration, far outside anything the training wells read
    far["RHOB"] -= 0.6
    return pd.concat([near, far], ignore_index=True)


def test_the_limits_come_from_validation_groups(model):
    ref = model.config["shift"]
    assert set(ref["curves"]) == set(model.engine.spec.curves)
    assert all(r["limit"] is not None and r["limit"] > 0 for r in ref["curves"].values())
    assert ref["feature_limit"] > 0 and len(ref["feature_center"]) == len(model.engine.spec.names())


def test_a_far_well_is_flagged_and_recorded_in_the_predictions(model, tmp_path):
    table = _new_wells()
    table.to_csv(tmp_path / "new.csv", index=False)
    with pytest.warns(LogsWarning, match="'FAR-1' lies further from the training wells"):
        model.predict_to_file(tmp_path / "new.csv", tmp_path / "pred.csv")
    pred = pd.read_csv(tmp_path / "pred.csv")
    far = pred["Well Name"] == "FAR-1"
    assert pred.loc[far, "shift_beyond_validation"].all()
    assert pred.loc[far, "shift_feature_distance"].min() > 2 * pred.loc[~far, "shift_feature_distance"].max()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        metrics = model.evaluate_source(tmp_path / "new.csv", out_dir=tmp_path)
    report = metrics["shift"]["FAR-1"]
    assert report["curves_beyond_validation"][:2] == ["GR", "RHOB"] or set(report["curves_beyond_validation"][:2]) == {"GR", "RHOB"}
    assert report["curve_z"]["GR"] > 0 > report["curve_z"]["RHOB"]
    assert json.loads((tmp_path / "metrics.json").read_text())["shift"]["FAR-1"]["beyond_validation"] is True


def test_curve_z_scores_are_robust_to_one_odd_training_well():
    frame = pd.DataFrame({"W": np.repeat(list("abcde"), 3), "GR": np.repeat([50.0, 52, 48, 51, 300], 3)})
    ref = shift.reference(frame, ["GR"], "W", frame["W"].to_numpy(), None)
    assert ref["curves"]["GR"]["center"] == 51.0
    new = pd.DataFrame({"W": ["n"] * 3, "GR": [55.0] * 3})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        z = shift.measure(new, "W", None, ref)["n"]["curve_z"]["GR"]
    assert 0 < z < 5  # the 300 API well does not inflate the centre, and 55 API is not far


def test_the_report_shows_how_far_the_validation_reached(model):
    from geotune.report import render_report

    page = render_report(model.folder.parent if model.folder.name == "model" else model.folder)
    section = page.split("Which new wells the validation covers", 1)[1]
    limits = {name: f"{entry['limit']:.2f}" for name, entry in model.config["shift"]["curves"].items()}
    for curve, limit in limits.items():
        assert f"<td>{curve}</td>" in section and limit in section
    assert f"{model.config['shift']['feature_limit']:.2f}" in section


def test_a_curve_the_model_estimates_is_not_scored_as_a_reading(tmp_path):
    # trained with one well lacking PE: the saved model estimates PE for new wells without it
    model = _trained(tmp_path, missing_pe_wells=1)
    assert "PE" in model.estimator.imputers_ and "PE" in model.config["shift"]["curves"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        new = make_wells(1, 80, seed=12, missing_pe_wells=1)
        new.to_csv(tmp_path / "new.csv", index=False)
        report = model.evaluate_source(tmp_path / "new.csv")["shift"]["WELL-1"]
        new["PE"] = 4.0  # the same well with PE measured: scored
        new.to_csv(tmp_path / "measured.csv", index=False)
        measured = model.evaluate_source(tmp_path / "measured.csv")["shift"]["WELL-1"]
    assert "PE" not in report["curve_z"] and "GR" in report["curve_z"]
    assert "PE" in measured["curve_z"]
