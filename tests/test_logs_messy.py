"""Logs as delivered: compressed and zipped LAS, wells with different curve sets, constant and
single-valued curves, wells whose labels are all null. Each is handled or refused with one line."""

from __future__ import annotations

import gzip
import json
import shutil
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

from geotune.cli import main
from geotune.config import TrainConfig
from geotune.errors import DataError
from geotune.logs import features as feats
from geotune.logs import gbm, impute, progress
from geotune.logs.columns import label_names
from geotune.logs.las import WELL, LogsWarning, read_logs
from geotune.logs.pipeline import fit
from geotune.logs.synthetic import make_wells, write_las

FAST = {"gbm_params": {"max_iter": 8}, "forest_params": {"n_estimators": 10}}


@pytest.fixture(autouse=True)
def quiet():
    progress.enable(False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        yield
    progress.enable(None)


def _write_wells(folder, n_wells=4, n=60, seed=5, edit=None):
    """One LAS file per well; ``edit(i, rows)`` changes well i's table before it is written."""
    folder.mkdir(parents=True, exist_ok=True)
    table = make_wells(n_wells, n, seed=seed, missing_pe_wells=0)
    codes = {"sandstone": 30000, "shale": 65000, "siltstone": 65030, "limestone": 70000}
    table["LITH"] = table.pop("Facies").map(codes).astype(float)
    paths = []
    for i, (name, rows) in enumerate(table.groupby("Well Name", sort=True)):
        rows = rows.copy()
        if edit is not None:
            rows = edit(i, rows)
        paths.append(folder / f"{name}.las")
        write_las(rows, paths[-1], well=name)
    return paths


def _gzip(path):
    target = path.with_name(path.name + ".gz")
    target.write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    return target


def test_las_gz_zip_and_plain_read_the_same(tmp_path):
    plain = read_logs(_write_wells(tmp_path / "plain")[0].parent)
    folder = tmp_path / "mixed"
    paths = _write_wells(folder)
    _gzip(paths[0]), _gzip(paths[1])  # a folder mixing .las and .las.gz
    mixed = read_logs(folder)
    pd.testing.assert_frame_equal(mixed, plain)
    archive = tmp_path / "wells.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(folder.iterdir()):
            handle.write(path, f"deep/{path.name}")
    pd.testing.assert_frame_equal(read_logs(archive), plain)
    single = read_logs(folder / "WELL-1.las.gz")
    assert single[WELL].unique().tolist() == ["WELL-1"] and len(single) == 60


def test_broken_archives_are_refused_naming_the_file(tmp_path):
    bad = tmp_path / "w.las.gz"
    bad.write_bytes(b"~Version\nnot gzip at all\n")
    with pytest.raises(DataError, match="not a readable gzip file") as info:
        read_logs(bad)
    assert "w.las.gz" in str(info.value)
    archive = tmp_path / "docs.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("readme.txt", "no logs here")
    with pytest.raises(DataError, match="holds no .las") as info:
        read_logs(archive)
    assert "docs.zip" in str(info.value)
    (tmp_path / "fake.zip").write_bytes(b"PK nonsense")
    with pytest.raises(DataError, match="cannot open as a zip"):
        read_logs(tmp_path / "fake.zip")


def _messy(i, rows):
    if i == 0:
        rows["PE"] = np.nan  # a curve missing from a whole well: estimated
    if i == 1:
        rows["DT"] = 88.0  # constant over the well
        rows["LITH"] = np.nan  # a well whose label interval is all null: features only
    if i == 2:
        rows["RHOB"] = np.nan
        rows.iloc[10, rows.columns.get_loc("RHOB")] = 2.4  # a single value in the whole well
    if i == 3:
        rows["DTS"] = rows["DT"] * 1.8  # a curve only this well has
        rows["X_LOC"], rows["FORCE_CONFIDENCE"] = 4.5e5, 1.0  # never features
    return rows


def test_training_on_mixed_curve_sets_works_and_keeps_what_is_not_a_log_out(tmp_path):
    folder = tmp_path / "wells"
    paths = _write_wells(folder, edit=_messy)
    _gzip(paths[2])
    summary = fit(TrainConfig(data=str(folder), task="logs", label_column="LITH", cv="logo",
                              out=str(tmp_path / "run"), extra=dict(FAST)))
    config = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    assert config["classes"] == ["30000", "65000", "65030", "70000"]  # codes, not "30000.0"
    assert "X_LOC" not in config["features"]["curves"] and "FORCE_CONFIDENCE" not in json.dumps(config["features"])
    assert "DTS" in config["features"]["curves"]
    # WELL-2 has no labels: it is not a fold; the three labelled wells are
    assert sorted(summary["cv"]["per_group"]) == ["WELL-1", "WELL-3", "WELL-4"]
    assert config["imputers"] == {"PE": "impute_0.skops"}  # PE: 3 of 4 wells measure it; DTS: 1 of 4, not estimated


def test_a_label_column_null_everywhere_is_refused_in_one_line(tmp_path, capsys):
    folder = tmp_path / "wells"

    def no_labels(i, rows):
        rows["LITH"] = np.nan
        return rows

    _write_wells(folder, n_wells=2, edit=no_labels)
    code = main(["train", "--task", "logs", "--label-column", "LITH", "--data", str(folder), "--out",
                 str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "fewer than two classes" in err and str(folder) in err
    assert len([line for line in err.splitlines() if "error" in line]) == 1
    assert not (tmp_path / "run").exists()


def test_a_column_missing_in_every_training_row_does_not_break_the_trees():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    x[:, 1] = np.nan  # e.g. a curve only the held-out wells measure
    y = (x[:, 0] > 0).astype(int)
    model = gbm.from_bytes(gbm.to_bytes(gbm.fit(x, y, max_iter=20)))
    x_new = x.copy()
    x_new[:, 1] = 5.0  # measured at prediction: ignored, as in training
    assert np.array_equal(gbm.predict_proba(model, x_new, 2), gbm.predict_proba(model, x, 2))
    assert (gbm.predict_proba(model, x, 2).argmax(1) == y).mean() > 0.9


def test_refreshed_features_equal_a_full_rebuild():
    table = make_wells(4, 50, seed=2, missing_pe_wells=2)
    table["Well Name"] = table["Well Name"].astype(str)
    spec = feats.infer_spec(table, {"Well Name", "Depth", "Facies"}, "Well Name", "Depth")
    x = feats.build_features(table, spec, "Well Name", "Depth")
    model = impute.fit(table, spec, "PE", "Well Name", "Depth", np.arange(len(table)), x=x)
    filled = impute.apply(table, spec, {"PE": model}, "Well Name", "Depth", x=x)
    assert filled["PE"].notna().all() and table["PE"].isna().sum() == 100
    fast = impute.refresh_features(x, filled, table, spec, ["PE"], "Well Name", "Depth")
    np.testing.assert_allclose(fast, feats.build_features(filled, spec, "Well Name", "Depth"), equal_nan=True)


def test_thin_rows_spreads_evenly_within_each_well():
    wells = np.repeat(["a", "b"], [10, 3])
    rows = impute.thin_rows(np.arange(13), wells, 4)
    assert rows.tolist() == [0, 3, 6, 9, 10, 11, 12]
    assert impute.thin_rows(np.arange(13), wells, None).tolist() == list(range(13))


def test_label_codes_read_as_floats_become_class_names():
    names = label_names(pd.Series([30000.0, np.nan, 65030.0]))
    assert names.tolist() == ["30000", None, "65030"]
    assert label_names(pd.Series(["sand", None])).tolist() == ["sand", None]
    assert label_names(pd.Series([1.5, 2.0])).tolist() == ["1.5", "2.0"]


def test_progress_prints_one_line_per_stage_off_a_terminal(capsys):
    progress.enable(True)
    for i in range(1, 6):
        progress.stage("reading wells", i, 5)
    progress.stage("fold 1/3: holding out 25")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and err[0].endswith("reading wells 1/5") and err[1].endswith("reading wells 5/5")
    assert err[2].endswith("fold 1/3: holding out 25")
    progress.enable(False)
    progress.stage("silent")
    assert capsys.readouterr().err == ""


def test_a_second_depth_curve_is_left_out_with_a_warning(tmp_path):
    from geotune.logs.las import read_las

    path = tmp_path / "two_depths.las"
    path.write_text("~VERSION INFORMATION\n VERS. 2.0 : \n WRAP. NO : \n~WELL INFORMATION\n NULL. -999.25 : \n"
                    " WELL. W1 : \n~CURVE INFORMATION\n DEPT.M : depth\n DEPT.M : again\n GR.API : gamma\n"
                    "~A\n 100.0 100.0 50\n 100.5 100.5 60\n")
    with pytest.warns(Warning, match="second DEPTH curve left out"):
        frame = read_las(path)
    assert list(frame["GR"]) == [50, 60] and list(frame.columns).count("DEPTH") == 1


def _resistivity_wells(spike_share: float):
    """Four wells; RS (shallow resistivity, log-normal around 2 ohm.m) with saturated 2,000 ohm.m readings in
    ``spike_share`` of the rows, missing from the last well."""
    table = make_wells(4, 200, seed=3)
    table["Well Name"] = table["Well Name"].astype(str)
    rng = np.random.default_rng(0)
    rs = np.exp(rng.normal(np.log(2.0), 0.4, len(table))) * (1 + 0.2 * (table["GR"] < table["GR"].median()))
    rs[rng.random(len(table)) < spike_share] = 2000.0
    table["RS"] = rs
    last = table["Well Name"] == table["Well Name"].unique()[-1]
    table.loc[last, "RS"] = np.nan
    return table, last.to_numpy()


def test_estimated_wells_are_marked_on_the_filled_frame():
    table, missing = _resistivity_wells(0.03)
    spec = feats.infer_spec(table, {"Well Name", "Depth", "Facies"}, "Well Name", "Depth")
    x = feats.build_features(table, spec, "Well Name", "Depth")
    model = impute.fit(table, spec, "RS", "Well Name", "Depth", np.arange(len(table)), x=x)
    filled = impute.apply(table, spec, {"RS": model}, "Well Name", "Depth", x=x)
    assert filled.loc[missing, "RS"].notna().all()
    assert filled.attrs["estimated"] == {"RS": [table["Well Name"].unique()[-1]]}
    assert "estimated" not in table.attrs  # the input frame is left as it was


def test_shift_leaves_estimated_curves_out_of_the_per_curve_scores():
    from geotune.logs import shift

    table, missing = _resistivity_wells(0.0)
    spec = feats.infer_spec(table, {"Well Name", "Depth", "Facies"}, "Well Name", "Depth")
    groups = table["Well Name"].to_numpy()
    ref = shift.reference(table, spec.curves, "Well Name", groups, None)
    filled = table.copy()
    filled.loc[missing, "RS"] = 5000.0  # a wild estimate
    filled.attrs = {"estimated": {"RS": [table["Well Name"].unique()[-1]]}}
    report = shift.measure(filled, "Well Name", None, ref)
    last = str(table["Well Name"].unique()[-1])
    assert "RS" not in report[last]["curve_z"] and "GR" in report[last]["curve_z"]
    filled.attrs = {}  # the same value as a reading is scored, and far out
    assert shift.measure(filled, "Well Name", None, ref)[last]["curve_z"]["RS"] > 100
