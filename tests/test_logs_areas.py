"""Area-out validation groups: quadrants from well names, spatial blocks from coordinates, header columns."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from geotune.errors import DataError
from geotune.logs.areas import area_groups, merge_small, quadrant
from geotune.logs.synthetic import make_wells
from logs_helpers import fit_small_logo

# the 22 FORCE 2020 well names in the shared folder (names only)
FORCE = ["25/11-15  Grane", "25/11-19 S  Balder Appr", "25/11-5 Balder Appr", "25/8-7  Krap 1", "31/2-1", "31/2-7",
         "31/2-9", "31/3-1", "31/3-2", "31/3-3", "31/3-4", "31/4-10", "31/5-4 S", "31/6-5", "31/6-8", "32/2-1",
         "33/9-1", "34/10-19", "34/7-13", "34/7-20", "35/11-7", "36/7-3"]


def test_quadrants_merge_small_neighbours_into_one_area():
    assert quadrant("25/11-15  Grane") == 25 and quadrant("31_2-7") == 31 and quadrant("WELL-1") is None
    groups = merge_small({w: quadrant(w) for w in FORCE}, 3)
    assert sorted(set(groups.values())) == ["25", "31", "32-36"]
    assert sum(g == "32-36" for g in groups.values()) == 7
    assert set(merge_small({"a": 1, "b": 2}, 3).values()) == {"1-2"}  # too few wells for two areas


def _table():
    frame = pd.DataFrame({"WELL": np.repeat(["25/1-1", "25/2-1", "26/1-1", "31/1-1", "31/2-2", "31/4-1"], 4)})
    east = {"25/1-1": 0.0, "25/2-1": 1.0, "26/1-1": 2.0, "31/1-1": 50.0, "31/2-2": 51.0, "31/4-1": 52.0}
    frame["X_LOC"] = frame["WELL"].map(east) * 1000
    frame["Y_LOC"] = 6.7e6
    frame["FIELD"] = np.where(frame["X_LOC"] < 10000, "west", "east")
    return frame


def test_groups_by_quadrant_blocks_and_column():
    frame = _table()
    assert area_groups(frame, "WELL", "quadrant").tolist() == ["25-26"] * 12 + ["31"] * 12
    blocks = area_groups(frame, "WELL", "spatial-blocks", blocks=2)
    assert blocks.tolist() == ["block-1"] * 12 + ["block-2"] * 12  # numbered west to east
    assert area_groups(frame, "WELL", "FIELD").tolist() == ["west"] * 12 + ["east"] * 12
    with pytest.raises(DataError, match="neither quadrant"):
        area_groups(frame, "WELL", "BASIN")
    frame.loc[0, "FIELD"] = "east"
    with pytest.raises(DataError, match="changes within well"):
        area_groups(frame, "WELL", "FIELD")
    with pytest.raises(DataError, match="coordinates"):
        area_groups(frame.drop(columns=["X_LOC"]), "WELL", "spatial-blocks")


def test_cv_by_quadrant_holds_out_whole_areas(tmp_path):
    table = make_wells(6, 60, seed=8, missing_pe_wells=0)
    names = dict(zip([f"WELL-{i}" for i in range(1, 7)], ["25/1-1", "25/2-1", "25/3-1", "31/1-1", "31/2-1", "31/3-1"]))
    table["Well Name"] = table["Well Name"].map(names)
    table.to_csv(tmp_path / "wells.csv", index=False)
    summary = fit_small_logo(tmp_path / "wells.csv", tmp_path / "run", cv_group="quadrant")
    per_group = summary["cv"]["per_group"]
    assert sorted(per_group) == ["25", "31"]
    assert per_group["25"]["n_samples"] == 180 and per_group["31"]["n_samples"] == 180
