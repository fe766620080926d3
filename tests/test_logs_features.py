"""Per-well curve features: which curves enter the table."""

from __future__ import annotations

import numpy as np
import pytest

from geotune.logs import features as feats
from geotune.logs.las import LogsWarning
from geotune.logs.synthetic import make_wells

EXCLUDE = {"Well Name", "Depth", "Facies"}


def test_a_curve_few_wells_measure_is_left_out_with_a_warning():
    table = make_wells(n_wells=4, n_samples=60, missing_pe_wells=3)  # PE in one well of four
    assert "PE" in feats.infer_spec(table, EXCLUDE, "Well Name", "Depth").curves  # the default keeps every curve
    with pytest.warns(LogsWarning, match=r"PE \(25%\)"):
        spec = feats.infer_spec(table, EXCLUDE, "Well Name", "Depth", min_well_share=0.5)
    assert "PE" not in spec.curves and {"GR", "RT", "NPHI", "RHOB", "DT"} <= set(spec.curves)
    assert not any(name.startswith("PE") for name in spec.names())
    # named explicitly, it stays: the user decides
    named = feats.infer_spec(table, EXCLUDE, "Well Name", "Depth", features=["GR", "PE"], min_well_share=0.5)
    assert named.curves == ["GR", "PE"]
    # measured in half the wells: kept (SEG 2016's PE is missing from two wells of ten)
    half = feats.infer_spec(make_wells(n_wells=4, n_samples=60, missing_pe_wells=2), EXCLUDE, "Well Name", "Depth",
                            min_well_share=0.5)
    assert "PE" in half.curves


def test_a_single_well_keeps_every_curve():
    table = make_wells(n_wells=1, n_samples=60, missing_pe_wells=0)
    table.loc[30:, "PE"] = np.nan  # partly measured: the one well measures it
    spec = feats.infer_spec(table, EXCLUDE, "Well Name", "Depth", min_well_share=0.5)
    assert "PE" in spec.curves
