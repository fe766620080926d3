"""Weights of evidence from files and the command line: an evidence raster shaped like EIS Toolkit's
fixture (nodata 15, classes 1-13, 16 deposits) with deposits given as a raster, user nodata values,
a run folder that survives being moved, per-quantity rasters, generalising a user's table, and each
bad input named."""

import csv
import json
import shutil

import numpy as np
import pytest
import rasterio
from affine import Affine

from geotune.cli import main
from geotune.errors import DataError
from geotune.prospect import EvidenceStack, WeightsOfEvidence, read_deposits
from geotune.prospect.wofe_tables import generalise_table, read_weights_table

TRANSFORM = Affine(1000, 0, 384000, 0, -1000, 6672000)


def _tif(path, array, nodata=None, dtype="int16"):
    with rasterio.open(path, "w", driver="GTiff", height=array.shape[0], width=array.shape[1], count=1,
                       dtype=dtype, transform=TRANSFORM, crs="EPSG:3067", nodata=nodata) as dst:
        dst.write(array.astype(dtype), 1)
    return path


@pytest.fixture()
def eis_like(tmp_path):
    """28 x 39 cells of 1 km; row 0 is nodata (15); class 1 (the left 11 columns of rows 1-27, 297 cells)
    holds 9 of the 16 deposits, class 12 (11 cells) and class 13 (1 cell) hold none."""
    data = tmp_path / "data"
    data.mkdir()
    evidence = np.zeros((28, 39), dtype=int)
    evidence[0, :] = 15
    evidence[1:, :11] = 1
    rest = np.arange(27 * 28).reshape(27, 28) % 10 + 2  # classes 2..11 over the other cells
    evidence[1:, 11:] = rest
    evidence[27, 11:22] = 12
    evidence[27, 22] = 13
    deposits = np.zeros((28, 39), dtype=int)
    for r, c in [(2, 1), (4, 3), (6, 5), (8, 7), (10, 9), (12, 2), (14, 4), (16, 6), (18, 8)]:
        deposits[r, c] = 1  # 9 deposits in class 1
    for r, c in [(3, 20), (5, 25), (7, 30), (9, 35), (11, 14), (13, 17), (15, 33)]:
        deposits[r, c] = 1  # 7 in classes 2..11
    return {"evidence": _tif(data / "evidence.tif", evidence, nodata=15),
            "undeclared": _tif(data / "undeclared.tif", evidence),
            "deposits": _tif(data / "deposits.tif", deposits, nodata=-1), "array": evidence, "data": data}


def test_classes_without_deposits_keep_the_prior(eis_like):
    stack = EvidenceStack.from_files([eis_like["evidence"]])
    deposits = read_deposits(eis_like["deposits"])
    assert len(deposits) == 16 and not stack.mask[0].any() and stack.mask.sum() == 27 * 39
    model = WeightsOfEvidence().fit(stack, deposits)
    table = {row["class"]: row for row in model.weights_table("evidence")}
    assert table[1]["n_points"] == 9 and table[1]["wplus"] > 0.4
    assert table[12]["wplus"] == table[13]["wplus"] == 0.0 and table[13]["flag"] == "no_deposits"
    proba = model.predict_proba(stack)
    assert proba[27, 22] == pytest.approx(model.prior_) == pytest.approx(16 / (27 * 39))
    assert proba[27, 12] < proba[1, 0]  # the 11-cell class without deposits ranks below class 1


def test_user_nodata_replaces_the_declared_one(eis_like):
    plain = EvidenceStack.from_files([eis_like["undeclared"]])
    assert plain.mask.all()  # nothing declared: class 15 would be a class
    stack = EvidenceStack.from_files([eis_like["undeclared"]], nodata={"undeclared": 15})
    assert not stack.mask[0].any() and stack.mask[1:].all()
    with pytest.raises(DataError) as err:
        EvidenceStack.from_files([eis_like["undeclared"]], nodata={"undeclared": 99})
    assert "undeclared.tif" in str(err.value) and "no cell holds the nodata value 99" in str(err.value)
    with pytest.raises(DataError, match="no layer named"):
        EvidenceStack.from_files([eis_like["undeclared"]], nodata={"other": 15})


def test_deposit_raster_without_deposits_is_named(tmp_path):
    empty = _tif(tmp_path / "none.tif", np.zeros((5, 5), dtype=int), nodata=-1)
    with pytest.raises(DataError) as err:
        read_deposits(empty)
    assert "none.tif" in str(err.value) and "no deposit cell" in str(err.value)


def test_deposit_raster_cells_match_points(eis_like):
    stack = EvidenceStack.from_files([eis_like["evidence"]])
    rows, cols = read_deposits(eis_like["deposits"]).cells(stack.grid)
    with rasterio.open(eis_like["deposits"]) as src:
        marked = src.read(1)
    assert sorted(zip(rows.tolist(), cols.tolist())) == sorted(zip(*np.nonzero(marked)))


def test_cli_run_survives_being_moved_and_writes_quantity_rasters(tmp_path, eis_like, capsys):
    project = tmp_path / "project"
    shutil.copytree(eis_like["data"], project / "data")
    run = project / "runs" / "eis"
    code = main(["prospect", "fit", "--layers", str(project / "data" / "undeclared.tif"),
                 "--nodata", "undeclared=15", "--deposits", str(project / "data" / "deposits.tif"),
                 "--weights-type", "undeclared=categorical", "--cv-blocks", "0", "--out", str(run)])
    assert code == 0
    err = capsys.readouterr().err
    assert "merged into class 14" in err
    model_dir = run / "model"
    config = json.loads((model_dir / "config.json").read_text())
    assert config["layers"][0]["path"] == "../../../data/undeclared.tif" and config["layers"][0]["nodata"] == 15
    with open(model_dir / "weights_undeclared.csv", newline="") as handle:
        rows = {row["class"]: row for row in csv.DictReader(handle)}
    assert rows["13"]["flag"] == "no_deposits" and rows["13"]["gen_class"] == "14"
    # the project (run and data) moved together: found through the relative paths
    moved = tmp_path / "elsewhere"
    shutil.move(str(project), str(moved))
    out = tmp_path / "maps" / "p.tif"
    assert main(["prospect", "map", str(moved / "runs" / "eis"), "--out", str(out)]) == 0
    with rasterio.open(out) as dst:
        proba = dst.read(1, masked=True)
    assert proba.mask[0].all() and not proba.mask[1:].any()
    with rasterio.open(out.parent / "weights_undeclared_generalized_class.tif") as dst:
        gen = dst.read(1)
    assert gen[27, 22] == 14 and gen[1, 0] == 1
    with rasterio.open(out.parent / "weights_undeclared_wplus.tif") as dst:
        assert dst.read(1)[27, 22] == 0.0
    # the run moved alone, the data left behind at the old place: relative paths fail, so nothing is found
    lone = tmp_path / "lone"
    shutil.move(str(moved / "runs" / "eis"), str(lone))
    assert main(["prospect", "map", str(lone), "--out", str(tmp_path / "m2" / "p.tif")]) == 2
    assert "evidence layer 'undeclared' of the run is not found" in capsys.readouterr().err


def test_cli_run_moved_alone_finds_its_layers_at_their_absolute_paths(tmp_path, eis_like):
    run = tmp_path / "run"
    assert main(["prospect", "fit", "--layers", str(eis_like["evidence"]), "--deposits", str(eis_like["deposits"]),
                 "--cv-blocks", "0", "--out", str(run)]) == 0
    moved = tmp_path / "deep" / "er" / "run"
    moved.parent.mkdir(parents=True)
    shutil.move(str(run), str(moved))
    out = tmp_path / "maps" / "p.tif"
    assert main(["prospect", "map", str(moved), "--out", str(out), "--no-layer-rasters"]) == 0
    assert out.is_file() and not list(out.parent.glob("weights_*.tif"))
    eis_like["deposits"].unlink()  # the run keeps its own copy of the deposits for the map
    assert main(["prospect", "map", str(moved), "--out", str(out)]) == 0


def test_manual_cut_needs_values(tmp_path, eis_like, capsys):
    code = main(["prospect", "fit", "--layers", str(eis_like["evidence"]), "--deposits", str(eis_like["deposits"]),
                 "--cut-method", "manual", "--cv-blocks", "0", "--out", str(tmp_path / "r")])
    assert code == 2 and "--cut NAME=VALUE" in capsys.readouterr().err


def test_generalize_a_user_table(tmp_path, capsys):
    table = tmp_path / "mine.csv"
    # an EIS Toolkit-style cumulative table: the last two rows hold every deposit
    table.write_text("Class,Deposit count,W+,S_W+,W-,S_W-,Contrast,Studentized contrast\n"
                     "1,3,1.2,0.6,-0.2,0.3,1.4,2.1\n"
                     "2,6,0.9,0.4,-0.6,0.5,1.5,2.3\n"
                     "3,8,0.4,0.35,-1.4,0.8,1.8,1.9\n"
                     "4,10,0.1,0.3,-2.0,1.0,2.1,2.5\n"
                     "5,10,0.05,0.3,-2.5,1.0,2.6,3.0\n")
    out = tmp_path / "gen.csv"
    assert main(["prospect", "generalize", str(table), "--type", "cumulative", "--cut-method", "max_contrast",
                 "--out", str(out)]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    # rows 4 and 5 hold all 10 deposits: never a cut; the largest contrast among the others is row 3
    assert [r["flag"] for r in rows] == ["", "", "", "all_deposits", "all_deposits"]
    assert [r["gen_class"] for r in rows] == ["2", "2", "2", "1", "1"]
    assert float(rows[0]["weight"]) == 0.4 and float(rows[4]["weight"]) == -1.4
    assert "below the threshold" in capsys.readouterr().err  # its studentised contrast 1.9 < 2
    rows, notes = generalise_table(read_weights_table(table, "cumulative"), "cumulative", "max_feasible_contrast")
    assert [r["gen_class"] for r in rows] == [2, 2, 1, 1, 1] and rows[0]["weight"] == 0.9 and not notes


def test_user_table_bad_inputs_named(tmp_path, capsys):
    table = tmp_path / "short.csv"
    table.write_text("class,n_points,wplus\n1,2,0.5\n")
    assert main(["prospect", "generalize", str(table), "--type", "cumulative", "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "short.csv" in err and "s_wplus" in err and "Traceback" not in err
    table.write_text("class,area_units,n_points,studc\n1,10,x,0.5\n")
    with pytest.raises(DataError, match=r"line 2: column 'n_points' is not a number"):
        read_weights_table(table, "categorical")
    table.write_text("class,n_points,wplus,s_wplus,wminus,s_wminus,contrast,studc\n1,2,1,1,1,1,1,3\n")
    with pytest.raises(DataError, match="has no class 7"):
        generalise_table(read_weights_table(table, "cumulative"), "cumulative", "manual", manual_cut=7, path=table)


def test_report_lists_what_wofe_decided(tmp_path, eis_like):
    run = tmp_path / "run"
    assert main(["prospect", "fit", "--layers", str(eis_like["evidence"]), "--deposits", str(eis_like["deposits"]),
                 "--cv-blocks", "0", "--out", str(run)]) == 0
    metrics = json.loads((run / "model" / "metrics.json").read_text())
    assert any("hold no deposit" in note and "12, 13" in note for note in metrics["wofe_notes"])
    out = tmp_path / "r.html"
    assert main(["report", str(run), "--out", str(out)]) == 0
    section = out.read_text(encoding="utf-8").split("<h2>Prospectivity</h2>", 1)[1]
    assert "Weights of evidence, per layer" in section and "hold no deposit" in section


def test_empty_classes_option_reaches_the_weights(tmp_path, eis_like):
    run = tmp_path / "run"
    assert main(["prospect", "fit", "--layers", str(eis_like["evidence"]), "--deposits", str(eis_like["deposits"]),
                 "--empty-classes", "negative", "--cv-blocks", "0", "--out", str(run)]) == 0
    saved = json.loads((run / "model" / "wofe.json").read_text())
    assert saved["empty_classes"] == "negative"
    rows = saved["layers"][0]["classes"]
    empty = {row["class"]: row["wplus"] for row in rows if row["flag"] == "no_deposits"}
    assert empty[12] == empty[13] == 0.0  # small: half a deposit would be a gain
    assert any(w < 0 for c, w in empty.items() if c < 12)  # ~75-cell classes without deposits count against
