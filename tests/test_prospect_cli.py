"""`geotune prospect fit|map` end to end on a tiny synthetic area, and its error lines."""

import json
import re

import numpy as np
import pytest
import rasterio

from geotune.cli import main
from geotune.prospect.synthetic import make_synthetic_area


@pytest.fixture(scope="module")
def area(tmp_path_factory):
    return make_synthetic_area(tmp_path_factory.mktemp("area"), shape=(40, 50), n_deposits=30, seed=2)


def _stage_lines(err: str) -> list[str]:
    """Progress lines without their clock: ``[   3 s] reading ...`` -> ``reading ...``."""
    return [re.sub(r"^\[\s*\d+ s\] ", "", line) for line in err.splitlines() if re.match(r"^\[\s*\d+ s\] ", line)]


def _layers(area):
    return [str(area[n]) for n in ("fault_dist", "host", "anomaly")]


@pytest.mark.parametrize("method", ["wofe", "logistic", "gbm"])
def test_fit_then_map(tmp_path, area, method, capsys, monkeypatch):
    monkeypatch.delenv("GEOTUNE_PROGRESS")  # what a user sees: progress lines on stderr (not a terminal here)
    run = tmp_path / "run"
    code = main(["prospect", "fit", "--layers", *_layers(area), "--deposits", str(area["deposits"]),
                 "--method", method, "--cv-blocks", "3", "--members", "2", "--out", str(run)])
    assert code == 0
    lines = _stage_lines(capsys.readouterr().err)
    assert lines[0].startswith("reading 3 evidence layer(s)") and lines[-1].startswith("saving ")
    assert any(line.startswith(f"{method}: fitting on 30 deposits") for line in lines)
    for fold in (1, 2, 3):
        assert any(line.startswith(f"spatial CV fold {fold}/3: fitting on") for line in lines)
    if method != "wofe":  # each ensemble's members: the first and the last (off a terminal)
        assert lines.count(f"{method}: fitting ensemble member 2/2") == 4  # the final fit and 3 folds
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["task"] == "prospect" and config["schema_version"] >= 1 and config["method"] == method
    metrics = json.loads((run / "model" / "metrics.json").read_text())
    assert "resubstitution" in metrics["resubstitution"]["label"]
    assert 0.5 < metrics["resubstitution"]["auc"] <= 1.0
    assert "held-out" in metrics["spatial_cv"]["label"] and metrics["spatial_cv"]["n_folds"] == 3
    assert not list((run / "model").glob("*.pkl"))
    out = tmp_path / "maps" / "prospectivity.tif"
    assert main(["prospect", "map", str(run / "model" if method == "wofe" else run), "--out", str(out)]) == 0
    lines = _stage_lines(capsys.readouterr().err)
    assert [line.split(" ")[0] for line in lines][:4] == ["loading", "reading", f"{method}:", "writing"]
    assert "prospectivity.tif, uncertainty.tif, map.png, curves.png" in lines[3]
    for name in ("prospectivity.tif", "uncertainty.tif", "map.png", "curves.png"):
        assert (out.parent / name).stat().st_size > 0
    with rasterio.open(out) as dst, rasterio.open(area["fault_dist"]) as src:
        assert dst.transform == src.transform and dst.crs == src.crs and dst.shape == src.shape
        proba = dst.read(1)
    assert ((proba >= 0) & (proba <= 1)).all()
    with rasterio.open(out.parent / "uncertainty.tif") as unc:
        assert (unc.read(1) >= 0).all()


def test_resample_flag_needed_for_coarse_layer(tmp_path, area, capsys):
    args = ["prospect", "fit", "--layers", str(area["fault_dist"]), str(area["fault_dist_coarse"]),
            "--deposits", str(area["deposits"]), "--cv-blocks", "0", "--out", str(tmp_path / "r")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "fault_dist_coarse.tif" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
    assert main(args + ["--resample"]) == 0
    config = json.loads((tmp_path / "r" / "model" / "config.json").read_text())
    assert config["resampled_layers"] == ["fault_dist_coarse"]


def test_fewer_deposits_than_folds(tmp_path, area, capsys):
    few = tmp_path / "few.csv"
    lines = area["deposits"].read_text().splitlines()[:4]  # header + 3 deposits
    few.write_text("\n".join(lines) + "\n")
    code = main(["prospect", "fit", "--layers", *_layers(area), "--deposits", str(few), "--cv-blocks", "5",
                 "--out", str(tmp_path / "r")])
    assert code == 2
    err = capsys.readouterr().err
    assert "few.csv" in err and "folds" in err


def test_map_of_missing_run(tmp_path, capsys):
    assert main(["prospect", "map", str(tmp_path / "nothing"), "--out", str(tmp_path / "p.tif")]) == 2
    assert "nothing" in capsys.readouterr().err


def test_kind_option_reaches_the_model(tmp_path, area):
    run = tmp_path / "run"
    assert main(["prospect", "fit", "--layers", *_layers(area), "--deposits", str(area["deposits"]),
                 "--kind", "host=continuous", "--favourable", "host=high", "--cv-blocks", "0",
                 "--out", str(run)]) == 0
    weights = json.loads((run / "model" / "wofe.json").read_text())
    host = [layer for layer in weights["layers"] if layer["name"] == "host"][0]
    assert host["kind"] == "continuous" and host["favourable"] == "high"
    assert np.isfinite(host["threshold"])


def test_cli_choices_match_the_estimator():
    from geotune.cli import prospect as cli
    from geotune.prospect import wofe_tables

    assert cli.CUT_METHODS == wofe_tables.CUT_METHODS and cli.WEIGHTS_TYPES == wofe_tables.WEIGHTS_TYPES
    assert cli.CUT_METHODS[0] == wofe_tables.DEFAULT_CUT_METHOD
