"""`geotune plan run|simulate` end to end on tiny GeoTIFFs, and each bad input's one-line error."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from rasterio.crs import CRS
from scipy.ndimage import gaussian_filter

from geotune.cli import main
from geotune.data.rasters import Raster, write_raster

X0, Y0, CELL = 500000.0, 7000000.0, 100.0  # a 30 x 40 grid of 100 m cells, north up


@pytest.fixture()
def maps(tmp_path):
    rng = np.random.default_rng(0)
    p = gaussian_filter(rng.normal(size=(30, 40)), 4)
    p = (p - p.min()) / (p.max() - p.min()) * 0.4
    like = Raster(p, Affine(CELL, 0, X0, 0, -CELL, Y0), CRS.from_epsg(32754))
    write_raster(tmp_path / "p.tif", p, like)
    write_raster(tmp_path / "u.tif", np.full(p.shape, 0.1), like)
    write_raster(tmp_path / "cost.tif", np.full(p.shape, 2.0), like)
    # no drilling in the west quarter
    poly = [[X0 - 50, Y0 + 50], [X0 + 1000, Y0 + 50], [X0 + 1000, Y0 - 3050], [X0 - 50, Y0 - 3050], [X0 - 50, Y0 + 50]]
    feature = dict(type="Feature", properties={}, geometry=dict(type="Polygon", coordinates=[poly]))
    (tmp_path / "zones.geojson").write_text(json.dumps(dict(type="FeatureCollection", features=[feature])))
    pd.DataFrame(dict(x=[X0 + 2050, X0 + 3050], y=[Y0 - 1050, Y0 - 550], hit=[1, 0])).to_csv(
        tmp_path / "holes.csv", index=False)
    return tmp_path


def test_plan_run_writes_a_ranked_plan(maps):
    out = maps / "plan"
    rc = main(["plan", "run", "--map", str(maps / "p.tif"), "--uncertainty", str(maps / "u.tif"),
               "--cost", str(maps / "cost.tif"), "--exclude", str(maps / "zones.geojson"),
               "--drilled", str(maps / "holes.csv"), "--min-spacing", "300", "--radius", "150",
               "--budget", "5", "--strategy", "voi", "--deposit-value", "10", "--out", str(out)])
    assert rc == 0
    table = pd.read_csv(out / "plan.csv")
    assert list(table["rank"]) == [1, 2, 3, 4, 5]
    assert {"x", "y", "expected_value", "uncertainty", "reason"} <= set(table.columns)
    assert (table.x > X0 + 1000).all()  # outside the exclusion polygon
    holes = np.array([[X0 + 2050, Y0 - 1050], [X0 + 3050, Y0 - 550]])
    xy = np.column_stack([table.x, table.y, ])
    assert np.hypot(*(xy[:, None] - holes[None]).transpose(2, 0, 1)).min() >= 300
    geo = json.loads((out / "plan.geojson").read_text())
    assert len(geo["features"]) == 5 and geo["features"][0]["properties"]["rank"] == 1
    assert "32754" in geo["crs"]["properties"]["name"]
    assert (out / "plan.png").stat().st_size > 1000
    assert json.loads((out / "summary.json").read_text())["holes_planned"] == 5


def test_plan_simulate_writes_table_and_curve(maps):
    out = maps / "sim"
    rc = main(["plan", "simulate", "--map", str(maps / "p.tif"), "--budget", "4", "--runs", "3",
               "--strategies", "voi,random", "--radius", "150", "--out", str(out)])
    assert rc == 0
    curve = pd.read_csv(out / "curve.csv")
    assert set(curve.strategy) == {"voi", "random"} and curve.hole.max() == 4
    assert (curve.deposits_ci_low <= curve.deposits_mean).all()
    assert len(pd.read_csv(out / "runs.csv")) == 2 * 3 * 4
    assert "voi" in (out / "table.md").read_text() and (out / "curve.png").exists()


def _error(capsys, argv, path_part, words):
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert path_part in err and words in err


def test_bad_inputs_exit_2_with_one_line(maps, capsys):
    base = ["plan", "run", "--map", str(maps / "p.tif"), "--out", str(maps / "bad")]
    _error(capsys, base + ["--budget", "0"], "", "smaller than one hole")
    _error(capsys, base + ["--budget", "2", "--cost", str(maps / "cost.tif"), "--max-cost", "1"], "",
           "cheapest hole")
    everything = dict(type="Polygon", coordinates=[[[X0 - 1e4, Y0 + 1e4], [X0 + 1e5, Y0 + 1e4],
                                                    [X0 + 1e5, Y0 - 1e5], [X0 - 1e4, Y0 - 1e5], [X0 - 1e4, Y0 + 1e4]]])
    (maps / "all.geojson").write_text(json.dumps(everything))
    _error(capsys, base + ["--budget", "2", "--exclude", str(maps / "all.geojson")], "all.geojson", "cover the whole")
    pd.DataFrame(dict(x=[X0 + 99999], y=[Y0 - 500], hit=[1])).to_csv(maps / "far.csv", index=False)
    _error(capsys, base + ["--budget", "2", "--drilled", str(maps / "far.csv")], "far.csv", "outside the map grid")
    other = Raster(np.ones((10, 10)), Affine(CELL, 0, X0, 0, -CELL, Y0), CRS.from_epsg(32754))
    write_raster(maps / "small.tif", np.full((10, 10), 0.1), other)
    _error(capsys, base + ["--budget", "2", "--uncertainty", str(maps / "small.tif")], "small.tif", "different grid")
    assert not (maps / "bad").exists()  # nothing half-written


def test_mask_raster_and_bad_tables_exit_2(maps, capsys):
    like = Raster(np.zeros((30, 40)), Affine(CELL, 0, X0, 0, -CELL, Y0), CRS.from_epsg(32754))
    mask = np.zeros((30, 40))
    mask[:, 20:] = 1
    write_raster(maps / "mask.tif", mask, like)
    out = maps / "masked"
    assert main(["plan", "run", "--map", str(maps / "p.tif"), "--exclude", str(maps / "mask.tif"), "--budget", "4",
                 "--strategy", "greedy", "--out", str(out)]) == 0
    assert (pd.read_csv(out / "plan.csv").x < X0 + 2000).all()
    write_raster(maps / "maskall.tif", np.ones((30, 40)), like)
    base = ["plan", "run", "--map", str(maps / "p.tif"), "--budget", "2", "--out", str(maps / "bad")]
    _error(capsys, base + ["--exclude", str(maps / "maskall.tif")], "maskall.tif", "cover the whole")
    (maps / "nohit.csv").write_text("x,y\n1,2\n")
    _error(capsys, base + ["--drilled", str(maps / "nohit.csv")], "nohit.csv", "hit")
    (maps / "word.csv").write_text(f"x,y,hit\n{X0 + 500},{Y0 - 500},maybe\n")
    _error(capsys, base + ["--drilled", str(maps / "word.csv")], "word.csv", "1/0")
    _error(capsys, ["plan", "simulate", "--map", str(maps / "p.tif"), "--strategies", "voi,magic", "--out",
                    str(maps / "bad")], "", "unknown strategy magic")
    assert not (maps / "bad").exists()
