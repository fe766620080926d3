"""Issue 23: one unreadable LAS in a folder is named in a one-line error; with --skip-bad the other wells are
predicted and the skipped files listed (a warning, and OUT.skipped.json beside the predictions)."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from geotune.cli import main
from geotune.config import TrainConfig
from geotune.logs.batch import read_logs_skipping_bad, write_skipped
from geotune.logs.las import LogsWarning
from geotune.logs.pipeline import fit
from geotune.logs.synthetic import make_wells, write_las


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """A small logs model, and a folder of three LAS wells of which one is cut off mid-row."""
    root = tmp_path_factory.mktemp("batch")
    table = make_wells(3, 60, seed=5, missing_pe_wells=0)
    table.to_csv(root / "wells.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        fit(TrainConfig(data=str(root / "wells.csv"), task="logs", label_column="Facies", group_by="Well Name",
                        out=str(root / "run"), extra={"gbm_params": {"max_iter": 8},
                                                      "forest_params": {"n_estimators": 10}}))
    folder = root / "las"
    folder.mkdir()
    for well, rows in table.groupby("Well Name"):
        write_las(rows.drop(columns=["Well Name", "Facies"]), folder / f"{well}.las", well=str(well))
    text = (folder / "WELL-2.las").read_text()
    (folder / "WELL-2.las").write_text(text[: text.index("~A") + 200])  # a torn copy: the last row is short
    return root


def test_one_unreadable_las_is_named_in_one_line(batch, tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert main(["predict", str(batch / "run"), str(batch / "las"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "WELL-2.las" in err and "concatenate" not in err
    assert not out.exists()


def test_skip_bad_predicts_the_others_and_lists_the_skipped(batch, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GEOTUNE_PROGRESS")  # the progress a user sees, off a terminal
    out = tmp_path / "p.csv"
    assert main(["predict", str(batch / "run"), str(batch / "las"), "--out", str(out), "--skip-bad"]) == 0
    captured = capsys.readouterr()
    assert sorted(pd.read_csv(out)["WELL"].unique()) == ["WELL-1", "WELL-3"]
    listed = json.loads(out.with_suffix(".skipped.json").read_text())
    assert [entry["file"].endswith("WELL-2.las") for entry in listed["skipped"]] == [True]
    assert "cannot read" in listed["skipped"][0]["problem"] and listed["predictions"] == "p.csv"
    warning = next(line for line in captured.err.splitlines() if "unreadable" in line)
    assert warning.startswith("geotune: warning:") and "1 unreadable file(s) of 3" in warning
    assert "WELL-2.las" in warning
    assert "reading wells (WELL-1.las) 1/3" in captured.err and "reading wells (WELL-3.las) 3/3" in captured.err
    assert str(out.with_suffix(".skipped.json")) in captured.out


def test_skip_bad_refuses_a_folder_with_nothing_readable(tmp_path):
    from geotune.errors import DataError

    for name in ("a.las", "b.las"):
        (tmp_path / name).write_text("not a LAS file\n")
    with pytest.raises(DataError, match="none of the 2 log files could be read") as caught:
        read_logs_skipping_bad(tmp_path)
    assert caught.value.path.endswith("a.las")


def test_a_clean_rerun_removes_the_earlier_list(tmp_path):
    out = tmp_path / "p.csv"
    frame = pd.DataFrame({"x": [1]})
    frame.attrs["skipped_files"] = [{"file": "bad.las", "problem": "torn"}]
    assert write_skipped(out, frame).is_file()
    frame.attrs["skipped_files"] = []
    assert write_skipped(out, frame) is None and not out.with_suffix(".skipped.json").exists()

