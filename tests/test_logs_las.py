"""LAS/CSV reading: every lasio sample file reads correctly or fails with a clear DataError."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from geotune.errors import DataError
from geotune.logs.las import (DEPTH, WELL, LogsWarning, apply_aliases, canonical_name, load_aliases, read_las,
                              read_logs, read_table)
from tests.conftest import SHARED_DATA

LAS_DIR = SHARED_DATA / "las_samples"
ALL_LAS = sorted(p for p in LAS_DIR.rglob("*") if p.suffix.lower() == ".las") if LAS_DIR.is_dir() else []

# file -> words the error message must contain (these cannot be read by lasio with any option)
MUST_FAIL = {
    "not_a_las_file.las": "not a LAS file",
    "header_only.las": "no data rows",
    "missing_a_section.las": "no data rows",
    "Reshape Error #1 (SS).las": "Cannot reshape",
    "Curve-Param Error #1 (MS).LAS": "curve data",
}


def test_all_42_samples_are_present(shared_data):
    assert len(ALL_LAS) == 42


@pytest.mark.parametrize("path", ALL_LAS, ids=[str(p.relative_to(LAS_DIR)) for p in ALL_LAS])
def test_every_sample_reads_or_fails_clearly(path, shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        if path.name in MUST_FAIL:
            with pytest.raises(DataError) as info:
                read_las(path)
            assert MUST_FAIL[path.name] in str(info.value)
            assert str(path) in str(info.value)  # the message names the file
            return
        frame = read_las(path)
    assert list(frame.columns[:2]) == [WELL, DEPTH]
    assert len(frame) >= 1
    assert frame[WELL].nunique() == 1 and frame[WELL].iloc[0] != ""
    assert frame.drop(columns=[WELL]).dtypes.map(lambda d: np.issubdtype(d, np.number)).all()
    depth = frame[DEPTH].to_numpy()
    assert np.isfinite(depth).all()


def _read(name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_las(LAS_DIR / name)
    return frame, [str(w.message) for w in caught if issubclass(w.category, LogsWarning)]


def test_canonical_sample_maps_mnemonics_and_sorts_depth(shared_data):
    frame, messages = _read("1.2/sample.las")
    # ILD -> RT, ILM -> RM, SFLU -> RS; SFLA is unknown and reported
    assert {"DT", "RHOB", "NPHI", "RT", "RM", "RS", "SFLA"} <= set(frame.columns)
    assert any("SFLA" in m and "alias" in m for m in messages)
    assert np.all(np.diff(frame[DEPTH]) > 0)  # the file runs 1670 -> 1669.75; reversed to increasing
    assert frame[DEPTH].iloc[-1] == pytest.approx(1670.0)


def test_nulls_declared_and_undeclared_become_missing(shared_data):
    frame, messages = _read("missing_null.las")  # no NULL line: -999.25 stays a number in lasio
    assert frame["DT"].isna().sum() == 2
    assert any("sentinel" in m for m in messages)
    frame, _ = _read("index_null.las")  # NULL 999.25 and one depth equal to it: depth kept
    assert frame[DEPTH].tolist() == [999.0, 999.25, 999.5]
    assert frame["DT"].isna().sum() == 1


def test_repairs_are_reported(shared_data):
    frame, messages = _read("encodings_utf16le.las")
    assert len(frame) == 3 and any("UTF-16" in m for m in messages)
    frame, messages = _read("dodgy_param_sect.las")
    assert len(frame) == 3 and any("header lines" in m for m in messages)
    frame, messages = _read("data_characters.las")
    assert "ARC_GR_UNC_RT" in frame and any("TIME" in m and "non-numeric" in m for m in messages)
    assert frame[DEPTH].iloc[0] == pytest.approx(1500.2435)
    frame, messages = _read("alog.las")
    assert len(frame) == 24 and any("not monotonic" in m for m in messages)
    frame, messages = _read("excess_curves.las")
    assert frame["ROP"].isna().all() and any("null throughout" in m for m in messages)


def test_feet_converted_to_metres(tmp_path):
    from geotune.logs.synthetic import make_wells, write_las

    well = make_wells(1, 20, seed=0)
    write_las(well, tmp_path / "w.las", depth_unit="FT", mnemonics={"RT": "ILD", "GR": "GAM"})
    frame = read_las(tmp_path / "w.las")
    assert frame[DEPTH].iloc[0] == pytest.approx(1000.0 * 0.3048)
    assert {"RT", "GR"} <= set(frame.columns)
    assert frame["RT"].to_numpy() == pytest.approx(well["RT"].to_numpy(), rel=1e-4)


def test_folder_of_las_keeps_wells_apart(tmp_path):
    from geotune.logs.synthetic import make_wells, write_las

    wells = make_wells(2, 15, seed=1)
    for name, rows in wells.groupby("Well Name"):
        write_las(rows, tmp_path / f"{name}.las")
    frame = read_logs(tmp_path)
    assert sorted(frame[WELL].unique()) == ["WELL-1", "WELL-2"]
    assert len(frame) == 30


def test_alias_table_is_extendable(tmp_path):
    assert canonical_name("ILD") == "RT" and canonical_name("MYGR") is None
    file = tmp_path / "aliases.json"
    file.write_text('{"GR": ["MYGR"], "TOC": ["TOC_WT"]}')
    table = load_aliases(file)
    assert canonical_name("MYGR", table) == "GR" and canonical_name("toc_wt", table) == "TOC"
    frame = apply_aliases(pd.DataFrame({"MYGR": [1.0], "GR": [2.0]}), table)
    assert list(frame.columns) == ["MYGR", "GR"]  # GR already there: the alias does not overwrite it
    file.write_text("[1, 2]")
    with pytest.raises(DataError, match="alias table"):
        load_aliases(file)


def test_csv_sentinels_and_bad_tables(tmp_path):
    file = tmp_path / "w.csv"
    pd.DataFrame({"Depth": [1.0, 2.0], "GR": [-999.25, 50.0]}).to_csv(file, index=False)
    with pytest.warns(LogsWarning, match="sentinel"):
        frame = read_table(file)
    assert np.isnan(frame["GR"].iloc[0]) and frame["GR"].iloc[1] == 50.0
    (tmp_path / "empty.csv").write_text("Depth,GR\n")
    with pytest.raises(DataError, match="no rows"):
        read_table(tmp_path / "empty.csv")
    with pytest.raises(DataError, match="no such"):
        read_logs(tmp_path / "absent.las")
    (tmp_path / "x.segy").write_text("x")
    with pytest.raises(DataError, match="unknown log format"):
        read_logs(tmp_path / "x.segy")
    with pytest.raises(DataError, match="holds no .las"):
        read_logs(tmp_path)
