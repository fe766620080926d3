"""Geoscience Australia's Cloncurry IOCG WofE result, reproduced from the four binary layers."""

import csv

import numpy as np
import pytest

from geotune.prospect import EvidenceStack, WeightsOfEvidence, deposit_auc, read_deposits

pytestmark = pytest.mark.shared_data
NAMES = ("Dist2Breccia", "Dist2Fault", "FaultDensity", "StratNo")


@pytest.fixture(scope="module")
def fitted(shared_dataset):
    root = shared_dataset("cloncurry_iocg_wofe")
    stack = EvidenceStack.from_files([root / "evidence_binary" / f"{n}.tif" for n in NAMES])
    deposits = read_deposits(root / "deposits" / "IOCG_Deposits.shp")
    model = WeightsOfEvidence(unit_cell_km2=1.0).fit(stack, deposits)
    return root, stack, deposits, model


def test_auc_matches_published(fitted):
    _, stack, deposits, model = fitted
    rows, cols = deposits.cells(stack.grid)
    assert len(rows) == 258
    assert deposit_auc(model.predict_proba(stack), rows, cols, stack.mask) == pytest.approx(0.7145, abs=0.005)


@pytest.mark.parametrize("name", NAMES)
def test_weights_match_published_tables(fitted, name):
    root, _, _, model = fitted
    with open(root / "weights_tables" / f"binary_{name}_CT.csv", newline="") as handle:
        published = {int(row["CLASS"]): row for row in csv.DictReader(handle)}
    ours = {row["class"]: row for row in model.weights_table(name)}
    assert set(ours) == set(published)
    for cls, row in published.items():
        assert ours[cls]["n_points"] == int(row["NO_POINTS"])
        for key, column in (("wplus", "WPLUS"), ("wminus", "WMINUS"), ("s_wplus", "S_WPLUS"),
                            ("studc", "STUDC")):
            assert ours[cls][key] == pytest.approx(float(row[column]), abs=1e-6)


def test_posterior_and_its_deviation_match_ga_maps(fitted):
    from geotune.data.rasters import read_raster

    root, stack, _, model = fitted
    ga = read_raster(root / "ga_wofe_results" / "PosteriorProbability.tif").array
    ga_sd = read_raster(root / "ga_wofe_results" / "PosteriorProbability_StdDev.tif").array
    proba, sd = model.predict_both(stack)
    assert np.nanmax(np.abs(proba - ga)) < 1e-6
    assert np.nanmax(np.abs(sd - ga_sd)) < 1e-6


def test_dist2fault_overview_needs_resampling(shared_dataset):
    from geotune.errors import DataError

    root = shared_dataset("cloncurry_iocg_wofe")
    files = [root / "evidence_multiclass" / "Dist2Breccia.tif", root / "evidence_multiclass" / "Dist2Fault_overview_200m.tif"]
    with pytest.raises(DataError, match="Dist2Fault_overview_200m.tif"):
        EvidenceStack.from_files(files)
    stack = EvidenceStack.from_files(files, resample=True)
    assert stack.shape == (2487, 1259) and stack.resampled == ["Dist2Fault_overview_200m"]


@pytest.fixture
def multiclass(shared_dataset):
    root = shared_dataset("cloncurry_iocg_wofe")
    stack = EvidenceStack.from_files([root / "evidence_multiclass" / n for n in ("StratNo.tif", "FaultDensity.tif")],
                                     kinds={"FaultDensity": "continuous"}, favourable={"FaultDensity": "high"})
    model = WeightsOfEvidence(unit_cell_km2=1.0).fit(stack, read_deposits(root / "deposits" / "IOCG_Deposits.shp"))
    return root, model


def _ga_rows(root, name):
    with open(root / "weights_tables" / name, newline="") as handle:
        return list(csv.DictReader(handle))


COLUMNS = (("wplus", "WPLUS"), ("s_wplus", "S_WPLUS"), ("wminus", "WMINUS"), ("s_wminus", "S_WMINUS"),
           ("contrast", "CONTRAST"), ("studc", "STUDC"))


def test_stratno_classes_match_ga_including_those_without_deposits(multiclass):
    root, model = multiclass
    ours = {row["class"]: row for row in model.weights_table("StratNo")}
    empty = 0
    for row in _ga_rows(root, "StratNo_CT.csv"):
        mine = ours[int(row["CLASS"])]
        assert mine["n_points"] == int(row["NO_POINTS"])
        empty += mine["n_points"] == 0
        for key, column in COLUMNS:  # GA too gives a class without deposits zero weights
            assert mine[key] == pytest.approx(float(row[column]), abs=1e-6)
        assert mine["weight"] == pytest.approx(float(row["WEIGHT"]), abs=1e-6)
    assert empty == 57 and len(ours) == 87


def test_faultdensity_cumulative_rows_match_ga_and_all_deposit_rows_are_never_cut(multiclass):
    from geotune.prospect.wofe_tables import generalise_table, read_weights_table

    root, model = multiclass
    spec = [s for s in model.layers_ if s["name"] == "FaultDensity"][0]
    ga = _ga_rows(root, "FaultDensity_CD.csv")
    assert [r["threshold"] for r in spec["cumulative"]] == [int(r["CLASS"]) for r in ga]
    for mine, row in zip(spec["cumulative"], ga):
        assert mine["n_points"] == int(row["NO_POINTS"])
        if mine["n_points"] < 258:
            for key, column in COLUMNS:
                assert mine[key] == pytest.approx(float(row[column]), abs=1e-6)
        else:  # every deposit at or above the threshold: flagged, no contrast (GA computes one, 3.62 at class 3)
            assert mine["flag"] == "all_deposits" and mine["contrast"] == 0.0
    assert spec["threshold"] == 6  # highest studentised contrast, 10.04
    # GA's own table generalised by maximum contrast: class 4 (1.69), not GA's all-deposit class 3
    rows, _ = generalise_table(read_weights_table(root / "weights_tables" / "FaultDensity_CD.csv", "cumulative"),
                               "cumulative", "max_contrast")
    assert [r["gen_class"] for r in rows] == [2] * 7 + [1] * 3
    assert [int(r["GEN_CLASS"]) for r in ga] == [2] * 8 + [1] * 2
