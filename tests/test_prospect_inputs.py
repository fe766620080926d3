"""Evidence layers and deposits from files: kinds, resampling, readers and each bad input."""

import json

import numpy as np
import pytest
import rasterio
from affine import Affine

from geotune.errors import DataError
from geotune.prospect import EvidenceStack, read_deposits
from geotune.prospect.layers import infer_kind
from geotune.prospect.synthetic import make_synthetic_area


@pytest.fixture(scope="module")
def area(tmp_path_factory):
    return make_synthetic_area(tmp_path_factory.mktemp("area"), shape=(30, 40), n_deposits=20, seed=1)


def _tif(path, array, transform=Affine(1000, 0, 500000, 0, -1000, 7600000), crs="EPSG:32754", nodata=-9999.0):
    with rasterio.open(path, "w", driver="GTiff", height=array.shape[0], width=array.shape[1], count=1,
                       dtype="float32", transform=transform, crs=crs, nodata=nodata) as dst:
        dst.write(array.astype("float32"), 1)
    return path


def test_kinds_inferred_and_overridden(area):
    stack = EvidenceStack.from_files([area["fault_dist"], area["host"], area["anomaly"], area["noise"]])
    assert [l.kind for l in stack.layers] == ["continuous", "categorical", "binary", "continuous"]
    forced = EvidenceStack.from_files([area["host"]], kinds={"host": "continuous"}, favourable={"host": "high"})
    assert forced["host"].kind == "continuous" and forced["host"].favourable == "high"
    assert infer_kind(np.array([1.0, 2.0, np.nan])) == "binary"


def test_nodata_cells_leave_the_mask(tmp_path, area):
    with rasterio.open(area["noise"]) as src:
        data = src.read(1)
    data[:5, :5] = -9999.0
    holed = _tif(tmp_path / "holed.tif", data)
    stack = EvidenceStack.from_files([area["fault_dist"], holed])
    assert not stack.mask[:5, :5].any() and stack.mask[10:, 10:].all()


def test_different_grid_needs_resample(area):
    with pytest.raises(DataError) as err:
        EvidenceStack.from_files([area["fault_dist"], area["fault_dist_coarse"]])
    assert "fault_dist_coarse.tif" in str(err.value) and "resampling" in str(err.value)
    stack = EvidenceStack.from_files([area["fault_dist"], area["fault_dist_coarse"]], resample=True)
    assert stack.resampled == ["fault_dist_coarse"]
    fine, coarse = stack["fault_dist"].array, stack["fault_dist_coarse"].array
    assert coarse.shape == fine.shape
    assert np.nanmedian(np.abs(coarse - fine)) < 1000.0  # same field, within a coarse cell


def test_crs_mismatch_is_an_error_even_with_resample(tmp_path, area):
    other = _tif(tmp_path / "other_crs.tif", np.ones((30, 40)), crs="EPSG:32755")
    with pytest.raises(DataError) as err:
        EvidenceStack.from_files([area["fault_dist"], other], resample=True)
    assert "other_crs.tif" in str(err.value) and "CRS" in str(err.value)


def test_all_nodata_layer_named(tmp_path, area):
    empty = _tif(tmp_path / "empty.tif", np.full((30, 40), -9999.0))
    with pytest.raises(DataError) as err:
        EvidenceStack.from_files([area["fault_dist"], empty])
    assert "empty.tif" in str(err.value) and "nodata" in str(err.value)


def test_deposit_outside_grid_named(tmp_path, area):
    bad = tmp_path / "far.csv"
    bad.write_text("x,y\n510000,7590000\n900000,7590000\n")
    stack = EvidenceStack.from_files([area["fault_dist"]])
    with pytest.raises(DataError) as err:
        read_deposits(bad).cells(stack.grid)
    assert "far.csv" in str(err.value) and "outside" in str(err.value) and "point 2" in str(err.value)


def test_csv_without_xy_columns(tmp_path):
    bad = tmp_path / "cols.csv"
    bad.write_text("east,north\n1,2\n")
    with pytest.raises(DataError, match="cols.csv"):
        read_deposits(bad)


def test_geojson_and_shapefile_agree_with_csv(tmp_path, area):
    csv = read_deposits(area["deposits"])
    features = [{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [x, y]}}
                for x, y in zip(csv.x, csv.y)]
    gj = tmp_path / "d.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    assert np.allclose(read_deposits(gj).x, csv.x) and np.allclose(read_deposits(gj).y, csv.y)
    pyogrio = pytest.importorskip("pyogrio")
    import struct

    wkb = np.array([struct.pack("<BIdd", 1, 1, x, y) for x, y in zip(csv.x, csv.y)], dtype=object)
    shp = tmp_path / "d.shp"
    pyogrio.raw.write(shp, wkb, field_data=[], fields=[], crs="EPSG:32754", geometry_type="Point",
                      driver="ESRI Shapefile")
    points = read_deposits(shp)
    assert np.allclose(points.x, csv.x) and np.allclose(points.y, csv.y)
    stack = EvidenceStack.from_files([area["fault_dist"]])
    assert np.array_equal(points.cells(stack.grid)[0], csv.cells(stack.grid)[0])


def test_vector_in_another_crs_refused(tmp_path, area):
    pyogrio = pytest.importorskip("pyogrio")
    import struct

    shp = tmp_path / "wgs.shp"
    pyogrio.raw.write(shp, np.array([struct.pack("<BIdd", 1, 1, 141.0, -21.0)], dtype=object), field_data=[],
                      fields=[], crs="EPSG:4326", geometry_type="Point", driver="ESRI Shapefile")
    stack = EvidenceStack.from_files([area["fault_dist"]])
    with pytest.raises(DataError, match="wgs.shp.*CRS"):
        read_deposits(shp).cells(stack.grid)
