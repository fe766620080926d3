"""`--strategy auto`: the budgeted search over recipes, its record, its replay, and honest validation."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from geotune import finetune
from geotune.config import TrainConfig
from geotune.training.auto import Candidate, choose, plan_candidates


@pytest.fixture(scope="module")
def patches(tmp_path_factory) -> dict:
    """2 classes x 32 synthetic patches of 32 px: just enough per class for one validation split."""
    from geotune.data.synthetic import make_patches

    folder = tmp_path_factory.mktemp("auto_patches")
    x, y, classes = make_patches(32, 32, 5)
    keep = y < 2
    x = x + np.random.default_rng(0).normal(0, 3 * x.std(), x.shape).astype(x.dtype)  # hard enough to differ
    np.save(folder / "x.npy", x[keep])
    np.save(folder / "y.npy", np.asarray(classes)[y[keep]])
    return {"data": folder / "x.npy", "labels": folder / "y.npy", "folder": folder}


@pytest.fixture(scope="module")
def auto_run(patches) -> dict:
    out = patches["folder"] / "auto_run"
    summary = finetune(patches["data"], out, labels=patches["labels"], strategy="auto",
                       backbone="tf_efficientnet_lite0", image_size=32, epochs=3)  # explicit options: the search varies only the head
    return {"out": out, "summary": summary}


def _read(folder, name):
    return json.loads((folder / "model" / name).read_text())


def test_auto_scores_every_candidate_on_one_split_and_keeps_the_best(auto_run):
    metrics = _read(auto_run["out"], "metrics.json")
    search = metrics["search"]
    assert len(search["candidates"]) == 2  # the few-shot head and the trained head on the backbone and size given
    scored = [c for c in search["candidates"] if c["status"] == "scored"]
    assert scored and all(c["status"] == "scored" or c["status"].startswith("skipped: a cheaper recipe scores 1.0")
                          for c in search["candidates"])
    assert {c["n_val"] for c in scored} == {metrics["n_samples"]} == {13}  # the same 20 % split for all
    assert all(c["seconds"] > 0 and 0 <= c["macro_f1"] <= 1 for c in scored)
    chosen = next(c for c in scored if c["recipe"] == search["chosen"])
    assert chosen["macro_f1"] >= max(c["macro_f1"] for c in scored) - 1 / 13 - 1e-9
    config = _read(auto_run["out"], "config.json")
    assert config["strategy"] == config["train"]["strategy"] == "linear-probe"  # a plain recipe, not "auto"
    for name, value in search["chosen_options"].items():
        assert config["train"][name] == value
    assert "strategy auto chose" in auto_run["summary"]["note"]
    split = _read(auto_run["out"], "validation_split.json")  # the split every candidate and the final model used
    assert len(split["val_indices"]) == 13


def test_the_chosen_recipe_replays_from_config_json_without_searching(auto_run, tmp_path):
    from geotune.cli import main

    out = tmp_path / "replay"
    assert main(["train", "--config", str(auto_run["out"] / "model" / "config.json"), "--out", str(out)]) == 0
    first, again = _read(auto_run["out"], "config.json")["train"], _read(out, "config.json")["train"]
    assert "search" not in _read(out, "metrics.json")
    assert {k: again[k] for k in first if k != "out"} == {k: first[k] for k in first if k != "out"}


def test_a_tiny_budget_stops_after_the_first_candidate_and_tiny_data_is_cross_validated(patches, tmp_path):
    from geotune.data.synthetic import make_patches

    x, y, classes = make_patches(8, 32, 2)  # 8 per class: too few for one validation split
    x, y = x[y < 2], y[y < 2]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.asarray(classes)[y])
    with pytest.warns(Warning, match="cross-validation"):
        finetune(tmp_path / "x.npy", tmp_path / "run", labels=tmp_path / "y.npy", strategy="auto",
                 backbone="tf_efficientnet_lite0", time_budget=0.001)
    metrics = _read(tmp_path / "run", "metrics.json")
    statuses = [c["status"] for c in metrics["search"]["candidates"]]
    assert statuses[0] == "scored" and set(statuses[1:]) == {"skipped: budget"} and len(statuses) > 1
    assert metrics["search"]["cross_validated"] and "cross-validation" in metrics["evaluated_on"]
    assert metrics["n_samples"] == len(y)  # out-of-fold predictions of every label
    config = _read(tmp_path / "run", "config.json")
    assert config["n_train"] == len(y)  # the final model trained on all of them
    assert not (tmp_path / "run" / "model" / "validation_split.json").exists()  # no sample was held out


def test_explicit_options_win_over_the_search():
    given = TrainConfig(strategy="auto", backbone="tf_efficientnet_lite2", image_size=48, fewshot="on",
                        class_weights=False)
    plans = plan_candidates(given, side=45, imbalanced=True)
    assert plans and all(c.options["backbone"] == "tf_efficientnet_lite2" and c.options["image_size"] == 48
                         for c in plans)
    assert all(c.options.get("class_weights") is None for c in plans)
    open_cfg = TrainConfig(strategy="auto")
    sizes = {c.options["image_size"] for c in plan_candidates(open_cfg, side=45, imbalanced=True)}
    assert 64 in sizes  # small patches are also tried near their own size, not only upsampled to 224
    assert any(c.options.get("class_weights") for c in plan_candidates(open_cfg, side=45, imbalanced=True))
    TrainConfig(task="classify", strategy="auto", fewshot="on").validate()  # probes only: allowed


def test_equal_scores_go_to_the_cheaper_recipe():
    def scored(name, f1, cost):
        return Candidate(name, {}, "probe", status="scored", macro_f1=f1, accuracy=f1, n_val=20, cost=cost)

    dear, cheap, best = scored("dear", 0.93, 300.0), scored("cheap", 0.90, 20.0), scored("best", 0.99, 500.0)
    assert choose([dear, cheap]).name == "cheap"  # 0.03 apart: less than one of 20 validation samples
    assert choose([dear, cheap, best]).name == "best"


@pytest.mark.slow  # renders a whole report (Grad-CAM included)
def test_report_says_how_the_split_was_made_and_lists_the_candidates(auto_run):
    from geotune.report import render_report

    text = render_report(auto_run["out"])
    assert "How the model was chosen and validated" in text
    assert "Recipes tried by --strategy auto" in text
    assert "held-out split of 13 samples" in text
    assert "Random split of array patches" in text  # .npy patches without --groups: the score may flatter


def test_tile_names_are_recognised_but_class_names_are_not():
    from geotune.report.sections.candidates import tile_sources

    tiles = ["a/TS12_003.png", "a/TS12_004.png", "b/TS13-1.png", "b/TS13-2.png", "b/other.png"]
    assert tile_sources(tiles, ["a", "b"]) == {"TS12": 2, "TS13": 2}
    named = ["calcite/calcite_001.png", "calcite/calcite_002.png", "dolomite/dolomite_1.png", "dolomite/dolomite_2.png"]
    assert tile_sources(named, ["calcite", "dolomite"]) == {}


def _fake_scores(monkeypatch, scores: dict[str, float], seconds: float = 0.01):
    """Replace the expensive part of scoring (features and heads) by given scores per backbone and size."""
    from geotune.training import auto, auto_finetune

    def score(self, candidate):
        time.sleep(seconds)
        key = f"{candidate.options['backbone']}@{candidate.options['image_size']}"
        candidate.macro_f1 = candidate.accuracy = scores.get(key, 0.5)
        candidate.n_val, candidate.status, candidate.seconds = len(self.y), "scored", seconds
        candidate.proba = np.full((len(self.y), 2), 0.5)
        candidate.val_index = np.arange(len(self.y))
        self.seconds_per_pixel = 1e-9

    monkeypatch.setattr(auto.Scorer, "score", score)
    # tiny data's fine-tuning candidate: chance-level folds (tests/test_strategy_auto_tiny.py tests it)
    monkeypatch.setattr(auto_finetune, "fit_fold", lambda scorer, cfg, samples, train, val, built:
                        np.full((len(val), len(scorer.classes)), 1.0 / len(scorer.classes)))
    monkeypatch.setattr(auto, "installed_backbones", lambda: ["tf_efficientnet_lite0", "tf_efficientnet_lite1"])


def _arrays(tmp_path, per_class: int) -> TrainConfig:
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.random((2 * per_class, 40, 40), dtype=np.float32))
    np.save(tmp_path / "y.npy", np.repeat(["a", "b"], per_class))
    return TrainConfig(data=str(tmp_path / "x.npy"), labels=str(tmp_path / "y.npy"), out=str(tmp_path / "run"),
                       strategy="auto")


def test_the_search_loop_stops_at_the_budget_after_one_candidate(monkeypatch, tmp_path):
    from geotune.training.auto import search

    _fake_scores(monkeypatch, {}, seconds=0.05)
    cfg = _arrays(tmp_path, 40)
    cfg.time_budget = 0.0005  # 30 ms: less than one candidate takes
    found = search(cfg, tmp_path / "run", log=lambda line: None)
    statuses = [c.status for c in found.candidates]
    assert statuses[0] == "scored" and set(statuses[1:]) == {"skipped: budget"} and len(statuses) > 2
    assert not found.cross_validated and "one validation split of 16 samples" in found.validation


def test_the_search_loop_keeps_the_best_and_stops_at_a_perfect_score(monkeypatch, tmp_path):
    from geotune.training.auto import search

    _fake_scores(monkeypatch, {"tf_efficientnet_lite1@64": 1.0, "tf_efficientnet_lite0@64": 0.8})
    found = search(_arrays(tmp_path, 40), tmp_path / "run", log=lambda line: None)
    assert found.chosen.options["backbone"] == "tf_efficientnet_lite1" and found.chosen.options["image_size"] == 64
    after = found.candidates[found.candidates.index(found.chosen) + 1:]
    assert after and all(c.status.startswith("skipped: a cheaper recipe scores 1.0") for c in after)


def test_the_search_loop_cross_validates_tiny_data(monkeypatch, tmp_path):
    from geotune.training.auto import search

    _fake_scores(monkeypatch, {})
    with pytest.warns(Warning, match="cross-validation"):
        found = search(_arrays(tmp_path, 6), tmp_path / "run", log=lambda line: None)
    assert found.cross_validated and "5-fold" in found.validation
    probes = [c for c in found.candidates if c.stage == "probe"]
    assert {c.options.get("fewshot") for c in probes} == {"on"}  # few labels: few-shot heads only
