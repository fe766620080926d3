"""Log facies models end to end: train (GBM, CNN, leave-one-well-out), load, evaluate, predict, CLI."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml

from geotune import modeldir
from geotune.cli import main
from geotune.config import TrainConfig
from geotune.errors import DataError, ModelError
from geotune.logs.las import LogsWarning
from geotune.logs.model import LogsModel
from geotune.logs.pipeline import fit
from geotune.logs.scoring import adjacent_accuracy
from geotune.logs.sequence import smooth_proba
from geotune.logs import decode
from geotune.logs.synthetic import make_wells, write_las

FAST = {"gbm_params": {"max_iter": 8}, "forest_params": {"n_estimators": 10}}


@pytest.fixture(scope="module")
def wells(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wells")
    table = make_wells(3, 70, seed=3, missing_pe_wells=1)
    table.to_csv(folder / "wells.csv", index=False)
    return folder, table


@pytest.fixture(scope="module")
def gbm_run(wells):
    folder, _ = wells
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        summary = fit(TrainConfig(data=str(folder / "wells.csv"), task="logs", label_column="Facies",
                                  group_by="Well Name", cv="logo", out=str(folder / "run"),
                                  extra={**FAST, "adjacency": {"shale": ["siltstone"], "siltstone": ["shale"]}}))
    return folder / "run", summary


def _load(run):
    folder, config = modeldir.load_config(run)
    return LogsModel.load(folder, config)


def test_logo_scores_each_well_and_the_gap(gbm_run):
    run, summary = gbm_run
    cv = summary["cv"]
    assert sorted(cv["per_group"]) == ["WELL-1", "WELL-2", "WELL-3"]
    s = cv["summary"]
    assert s["n_groups"] == 3 and s["metric"] == "micro_f1"
    values = [m["micro_f1"] for m in cv["per_group"].values()]
    assert s["mean"] == pytest.approx(np.mean(values))
    # like for like: the random split cannot be smoothed (scattered rows), so the gap uses unsmoothed scores
    assert s["smooth"] == 5
    assert s["gap_random_minus_grouped"] == pytest.approx(s["random_split_micro_f1"] - s["grouped_unsmoothed_micro_f1"])
    assert s["mean"] > 0.5  # four facies with distinct rock physics: far above chance (0.25)
    # WELL-3 has no PE at all and is still scored, not dropped
    assert cv["per_group"]["WELL-3"]["n_samples"] == 70
    metrics = json.loads((run / "model" / "metrics.json").read_text())
    for key in ("accuracy", "macro_f1", "micro_f1", "per_class", "confusion_matrix", "adjacent_accuracy"):
        assert key in metrics
    assert metrics["adjacent_accuracy"] >= metrics["accuracy"]


def test_model_dir_is_pickle_free_and_checked(gbm_run, tmp_path):
    run, _ = gbm_run
    files = {p.name for p in (run / "model").iterdir()}
    # the default `trees` model: boosting, the forest and the regressor that estimates PE where a well lacks it
    assert files == {"config.json", "metrics.json", "model.skops", "forest.skops", "impute_0.skops"}
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["task"] == "logs" and config["model_type"] == "trees" and config["decode"] == "hmm"
    assert config["hmm_emission"] == "proba"  # plain emissions, not the former prior-divided ones
    # raw values stay beside the per-well ones; means and standard deviations over four scales, no dev / shifts
    names = config["feature_names"]
    assert {"GR", "GR_grad", "GR_z", "GR_rank", "GR_mean3", "GR_mean31", "GR_std3", "GR_std31"} <= set(names)
    assert not [n for n in names if n.endswith(("_dev", "_up1"))]
    assert config["imputers"] == {"PE": "impute_0.skops"}
    assert config["classes"] == ["limestone", "sandstone", "shale", "siltstone"]
    # a skops file holding a type outside the GBM's list is refused before loading
    import skops.io as sio
    from geotune.logs.gbm import from_bytes

    with pytest.raises(ModelError, match="unexpected types"):
        from_bytes(sio.dumps({"x": pd.Timestamp("2020-01-01")}))
    # each member is checked against its own list: a GBM file is not a forest, nor a forest a regressor
    from geotune.logs import forest, impute

    with pytest.raises(ModelError, match="unexpected types"):
        forest.from_bytes((run / "model" / "model.skops").read_bytes())
    from sklearn.ensemble import RandomForestClassifier

    small_forest = RandomForestClassifier(n_estimators=2, random_state=0).fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(ModelError, match="unexpected types"):
        impute.from_bytes(forest.to_bytes(small_forest))
    # a regressor named in config.json but gone is a clear error, not a silent fallback
    broken = tmp_path / "model"
    broken.mkdir()
    for f in (run / "model").iterdir():
        if f.name != "impute_0.skops":
            (broken / f.name).write_bytes(f.read_bytes())
    with pytest.raises(ModelError, match="impute_0.skops"):
        _load(broken)


def test_a_curve_missing_from_a_whole_well_is_estimated_from_the_other_logs(gbm_run, wells):
    run, _ = gbm_run
    _, table = wells
    truth = make_wells(3, 70, seed=3, missing_pe_wells=0)  # same draws, PE kept in WELL-3
    model = _load(run)
    well3 = table[table["Well Name"] == "WELL-3"].drop(columns="Facies")
    with pytest.warns(LogsWarning, match="PE is missing from well.*WELL-3.*estimated"):
        _, frame, _ = model._prepared(well3)
    estimated = frame["PE"].to_numpy()
    actual = truth.loc[truth["Well Name"] == "WELL-3", "PE"].to_numpy()
    assert np.isfinite(estimated).all()
    # PE follows the facies, which the other logs reveal: the estimate tracks the true curve
    assert np.corrcoef(estimated, actual)[0, 1] > 0.5
    assert np.abs(estimated - actual).mean() < 0.85 * np.abs(actual - actual.mean()).mean()  # beats a constant
    # wells that measure PE keep their own values
    well1 = table[table["Well Name"] == "WELL-1"].drop(columns="Facies")
    _, frame1, _ = model._prepared(well1)
    assert np.allclose(frame1["PE"].to_numpy(), well1["PE"].to_numpy())


def test_predict_keeps_rows_columns_and_order(gbm_run, wells, tmp_path):
    run, _ = gbm_run
    _, table = wells
    model = _load(run)
    shuffled = table.drop(columns="Facies").sample(frac=1.0, random_state=0).reset_index(drop=True)
    shuffled.to_csv(tmp_path / "new.csv", index=False)
    out = model.predict_to_file(tmp_path / "new.csv", tmp_path / "facies.csv")
    result = pd.read_csv(out)
    assert list(result.columns[:3]) == ["Well Name", "Depth", "predicted"]
    assert [c for c in result.columns if c.startswith("proba_")] == [f"proba_{c}" for c in model.classes]
    assert len(result) == len(shuffled)
    assert (result["Depth"].to_numpy() == shuffled["Depth"].to_numpy()).all()  # input order kept
    assert np.allclose(result.filter(like="proba_").sum(axis=1), 1.0, atol=1e-3)
    # the same rows in another order get the same predictions (features are computed per well in depth order)
    direct = model.predict(table.drop(columns="Facies"))
    merged = table.assign(direct=direct).merge(result, on=["Well Name", "Depth"])
    assert (merged["direct"] == merged["predicted"]).all()
    assert (direct == table["Facies"].to_numpy()).mean() > 0.8


def test_predict_from_las_with_other_mnemonics_and_units(gbm_run, wells, tmp_path):
    run, _ = gbm_run
    _, table = wells
    one = table[table["Well Name"] == "WELL-1"]
    write_las(one.drop(columns="Facies"), tmp_path / "w1.las", mnemonics={"RT": "ILD", "NPHI": "TNPH"})
    model = _load(run)
    predicted = model.predict(tmp_path / "w1.las")
    assert len(predicted) == len(one)
    assert (predicted == one["Facies"].to_numpy()).mean() > 0.8
    out = pd.read_csv(model.predict_to_file(tmp_path / "w1.las", tmp_path / "p.csv"))
    assert list(out.columns[:3]) == ["WELL", "DEPTH", "predicted"]


def test_evaluate_warns_about_unseen_classes(gbm_run, wells, tmp_path):
    run, _ = gbm_run
    _, table = wells
    other = table.copy()
    other.loc[:9, "Facies"] = "coal"
    model = _load(run)
    with pytest.warns(LogsWarning, match=r"10 rows with classes the model never saw \(coal\)"):
        metrics = model.evaluate_source(other, out_dir=tmp_path)
    assert metrics["n_samples"] == len(table) - 10
    assert metrics["unseen_classes_left_out"] == ["coal"]
    assert json.loads((tmp_path / "metrics.json").read_text())["micro_f1"] == pytest.approx(metrics["micro_f1"])
    with pytest.raises(DataError, match="no label column"):
        model.evaluate_source(table.drop(columns="Facies"))


def test_missing_curve_at_prediction_is_reported(gbm_run, wells):
    run, _ = gbm_run
    _, table = wells
    model = _load(run)
    with pytest.warns(LogsWarning, match="missing from the input.*DT"):
        proba = model.predict_proba(table.drop(columns=["Facies", "DT"]))
    assert proba.shape == (len(table), 4) and np.isfinite(proba).all()
    with pytest.raises(DataError, match="none of the model's curves"):
        model.predict_proba(table[["Well Name", "Depth"]].assign(GR=np.nan))


def test_input_without_any_of_the_models_curves_is_refused_unless_asked(gbm_run, wells, tmp_path, capsys):
    from geotune.cli import main

    run, _ = gbm_run
    _, table = wells
    foreign = table[["Well Name", "Depth"]].assign(CALIPER=8.5)  # no curve the model knows
    foreign.to_csv(tmp_path / "foreign.csv", index=False)
    out = tmp_path / "pred.csv"
    assert main(["predict", str(run), str(tmp_path / "foreign.csv"), "--out", str(out)]) == 2
    assert "holds none of the model's curves" in capsys.readouterr().err and not out.exists()
    assert main(["predict", str(run), str(tmp_path / "foreign.csv"), "--out", str(out),
                 "--allow-missing-curves"]) == 0
    assert out.is_file()


def test_cnn_class_weights_and_smoothing(wells):
    folder, table = wells
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        summary = fit(TrainConfig(data=str(folder / "wells.csv"), task="logs", label_column="Facies",
                                  group_by="Well Name", model_type="cnn", class_weights=True, smooth=3, epochs=4,
                                  val_split=0.34, out=str(folder / "cnn"), extra={"window": 6, "width": 8}))
    names = {p.name for p in (folder / "cnn" / "model").iterdir()}
    assert "weights.safetensors" in names and "model.skops" not in names
    assert summary["metrics"]["evaluation"] == "grouped validation split"
    model = _load(folder / "cnn")
    assert model.config["smooth"] == 3
    assert (model.predict(table) == table["Facies"].to_numpy()).mean() > 0.5


def test_ensemble_saves_both_models_and_averages_them(wells):
    folder, table = wells
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        fit(TrainConfig(data=str(folder / "wells.csv"), task="logs", label_column="Facies", group_by="Well Name",
                        model_type="ensemble", epochs=3, out=str(folder / "ens"), decode="none",
                        extra={**FAST, "window": 6, "width": 8}))
        names = {p.name for p in (folder / "ens" / "model").iterdir()}
        assert {"weights.safetensors", "model.skops"} <= names
        model = _load(folder / "ens")
        x = model.engine.inputs(model._prepared(table)[1])
        from geotune.logs import cnn, gbm

        parts = [gbm.predict_proba(model.engine.model["gbm"], x["gbm"], 4), cnn.predict_proba(model.engine.model["cnn"], x["cnn"])]
        assert np.allclose(model.engine.proba(x), (parts[0] + parts[1]) / 2)
        assert not np.allclose(parts[0], parts[1], atol=0.05)  # two different models, not one saved twice
        assert (model.predict(table) == table["Facies"].to_numpy()).mean() > 0.6  # chance is 0.25


def test_smoothing_and_adjacency_helpers():
    proba = np.array([[1, 0], [0, 1], [1, 0], [1, 0], [0, 1]], dtype=float)
    wells = np.array(["a", "a", "a", "b", "b"])
    smoothed = smooth_proba(proba, wells, 3)
    assert smoothed[1].argmax() == 0  # a one-sample spike is removed
    assert np.allclose(smoothed[3:], [[2 / 3, 1 / 3], [1 / 3, 2 / 3]])  # well b never sees well a
    classes = ["a", "b", "c"]
    acc = adjacent_accuracy(np.array([0, 1, 2]), np.array([1, 2, 0]), classes, {"a": ["b"], "b": []})
    assert acc == pytest.approx(1 / 3)


def test_cli_train_evaluate_predict(wells, tmp_path, capsys):
    folder, table = wells
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"extra": FAST}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        code = main(["train", "--data", str(folder / "wells.csv"), "--task", "logs", "--label-column", "Facies",
                     "--group-by", "Well Name", "--smooth", "3", "--config", str(config), "--out", str(tmp_path / "r")])
        assert code == 0
        assert json.loads((tmp_path / "r" / "model" / "config.json").read_text())["decode"] == "smooth"  # --smooth alone
        assert main(["evaluate", str(tmp_path / "r" / "model"), "--data", str(folder / "wells.csv")]) == 0
        assert "micro_f1" in capsys.readouterr().out
        table.drop(columns="Facies").head(50).to_csv(tmp_path / "new.csv", index=False)
        assert main(["predict", str(tmp_path / "r"), str(tmp_path / "new.csv"), "--out", str(tmp_path / "f.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "f.csv")) == 50
    code = main(["train", "--data", str(folder / "wells.csv"), "--task", "logs", "--label-column", "Lithology",
                 "--out", str(tmp_path / "bad")])
    assert code == 2
    err = capsys.readouterr().err
    assert "label column 'Lithology' not found" in err and "Traceback" not in err
    assert not (tmp_path / "bad" / "model").exists()


@pytest.mark.slow
def test_hmm_decoding_when_asked_is_honoured_at_prediction(wells):
    folder, table = wells
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        summary = fit(TrainConfig(data=str(folder / "wells.csv"), task="logs", label_column="Facies",
                                  group_by="Well Name", cv="logo", out=str(folder / "hmm"), model_type="gbm",
                                  decode="hmm", extra={"gbm_params": {"max_iter": 40}}))  # boosting alone: a
        # forest recalls its own training rows perfectly, leaving decoding nothing to improve on them
        model = _load(folder / "hmm")
        assert model.config["decode"] == "hmm" and summary["cv"]["summary"]["decode"] == "hmm"
        assert model.engine.spec.normalise and "GR_z" in model.config["feature_names"]
        frame = model._prepared(table)[1]
        raw = model.engine.proba(model.engine.inputs(frame))
        decoded = model._proba_prepared(frame)
    expected = decode.posterior(raw, frame["Well Name"].to_numpy(), model.config["transitions"], model.config["priors"])
    assert np.allclose(decoded, expected) and not np.allclose(decoded, raw, atol=0.05)
    assert np.allclose(decoded.sum(1), 1.0)
    truth = frame["Facies"].to_numpy()
    names = np.asarray(model.classes)
    assert (names[decoded.argmax(1)] == truth).mean() >= (names[raw.argmax(1)] == truth).mean()


def test_cli_no_refit_prints_held_out_scores_and_saves_no_model(wells, tmp_path, capsys):
    folder, _ = wells
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"extra": FAST}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        code = main(["train", "--data", str(folder / "wells.csv"), "--task", "logs", "--label-column", "Facies",
                     "--group-by", "Well Name", "--no-refit", "--config", str(config), "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0
    assert "validation:" in out and "no model saved" in out
    assert not (tmp_path / "r" / "model" / "config.json").exists()
