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
