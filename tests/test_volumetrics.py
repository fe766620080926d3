"""Monte Carlo volumetrics: ordering of P90/P50/P10, closed-form cases, facies net-to-gross, CLI."""

import json

import numpy as np
import pytest
import yaml
from scipy.stats import norm

from geotune.cli import main
from geotune.errors import ConfigError
from geotune.prospect.volumetrics import simulate

Z = norm.ppf(0.9)


def _oil(**over):
    params = {"grv": {"dist": "triangular", "min": 5e7, "mode": 1e8, "max": 2e8},
              "ntg": {"dist": "uniform", "min": 0.5, "max": 0.8},
              "porosity": {"dist": "normal", "mean": 0.2, "sd": 0.03},
              "sw": {"dist": "lognormal", "p90": 0.2, "p10": 0.4},
              "fvf": {"dist": "fixed", "value": 1.25}}
    params.update(over)
    return {"kind": "oil", "samples": 20000, "seed": 1, "parameters": params}


def test_p90_below_p50_below_p10():
    out = simulate(_oil())["summary"]["output"]
    assert out["P90"] < out["P50"] < out["P10"]


def test_fixed_values_give_the_product():
    fixed = {k: {"dist": "fixed", "value": v} for k, v in
             {"grv": 2e8, "ntg": 0.6, "porosity": 0.25, "sw": 0.3, "fvf": 1.2}.items()}
    out = simulate({"kind": "oil", "samples": 1000, "parameters": fixed})["summary"]["output"]
    expected = 2e8 * 0.6 * 0.25 * (1 - 0.3) / 1.2
    assert out["P90"] == pytest.approx(expected) and out["P10"] == pytest.approx(expected)


def test_product_of_lognormals_has_known_quantiles():
    # tonnage ~ LN(mu1, s1), grade ~ LN(mu2, s2): metal ~ LN(mu1 + mu2, sqrt(s1^2 + s2^2))
    config = {"kind": "ore", "samples": 200000, "seed": 3, "parameters": {
        "tonnage": {"dist": "lognormal", "mu": np.log(5e6), "sigma": 0.5},
        "grade": {"dist": "lognormal", "mu": np.log(0.01), "sigma": 0.3}}}
    out = simulate(config)["summary"]["output"]
    mu, sigma = np.log(5e6 * 0.01), np.hypot(0.5, 0.3)
    assert out["P50"] == pytest.approx(np.exp(mu), rel=0.01)
    assert out["P90"] == pytest.approx(np.exp(mu - Z * sigma), rel=0.015)
    assert out["P10"] == pytest.approx(np.exp(mu + Z * sigma), rel=0.015)


def test_lognormal_from_p90_p10_and_tornado_signs():
    result = simulate(_oil())
    sw = result["summary"]["inputs"]["sw"]
    assert sw["P90"] == pytest.approx(0.2, rel=0.02) and sw["P10"] == pytest.approx(0.4, rel=0.02)
    bars = {row["parameter"]: row for row in result["tornado"]}
    assert bars["grv"]["output_at_high"] > bars["grv"]["output_at_low"]
    assert bars["sw"]["output_at_high"] < bars["sw"]["output_at_low"]  # more water, less oil
    assert bars["fvf"]["swing"] == 0.0
    assert result["tornado"][0]["parameter"] == "grv"  # the widest input range here


def test_samples_distribution_resampled(tmp_path):
    values = np.linspace(1e6, 3e6, 101)
    np.save(tmp_path / "t.npy", values)
    config = {"kind": "ore", "samples": 5000, "parameters": {
        "tonnage": {"dist": "samples", "file": "t.npy"}, "grade": 0.02}}
    out = simulate(config, base=tmp_path)["summary"]["output"]
    assert 1e6 * 0.02 <= out["P90"] < out["P50"] < out["P10"] <= 3e6 * 0.02


def test_ntg_from_facies_maps(tmp_path):
    classes = np.zeros((10, 10), dtype=int)
    classes[:, :3] = 2  # 30 % net
    np.save(tmp_path / "classes.npy", classes)
    probs = np.zeros((3, 10, 10))
    probs[2] = 0.4
    probs[0] = 0.6
    np.save(tmp_path / "probs.npy", probs)
    fixed = {"grv": 1e6, "porosity": 0.2, "sw": 0.0, "fvf": 1.0}
    for name, expected in (("classes.npy", 0.3), ("probs.npy", 0.4)):
        config = {"kind": "oil", "samples": 2000, "parameters": {
            **fixed, "ntg": {"facies_map": name, "net_classes": [2]}}}
        out = simulate(config, base=tmp_path)["summary"]["output"]
        assert out["P50"] == pytest.approx(1e6 * expected * 0.2, rel=0.02)


def test_bad_configs():
    with pytest.raises(ConfigError, match="missing"):
        simulate({"kind": "oil", "parameters": {"grv": 1.0}})
    with pytest.raises(ConfigError, match="outside"):
        simulate(_oil(ntg={"dist": "uniform", "min": 0.5, "max": 1.5}))
    with pytest.raises(ConfigError, match="triangular"):
        simulate(_oil(grv={"dist": "triangular", "min": 3, "mode": 1, "max": 2}))


def test_cli_writes_table_and_figures(tmp_path, capsys):
    config = tmp_path / "vol.yaml"
    config.write_text(yaml.safe_dump({**_oil(), "unit": "m3"}))
    out = tmp_path / "out"
    assert main(["volumetrics", "--config", str(config), "--out", str(out)]) == 0
    table = (out / "volumetrics.csv").read_text().splitlines()
    assert table[0] == "quantity,P90,P50,P10,mean,std" and table[1].startswith("output,")
    p90, p50, p10 = (float(v) for v in table[1].split(",")[1:4])
    assert p90 < p50 < p10
    data = json.loads((out / "volumetrics.json").read_text())
    assert data["summary"]["output"]["P50"] == pytest.approx(p50, rel=1e-5)
    assert (out / "histogram.png").stat().st_size > 0 and (out / "tornado.png").stat().st_size > 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: coal\nparameters: {}\n")
    assert main(["volumetrics", "--config", str(bad), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "kind" in err and not (tmp_path / "o2").exists()
