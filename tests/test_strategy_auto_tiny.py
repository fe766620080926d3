"""`--strategy auto` on tiny data: the full fine-tuning candidate, planned after the probes, scored on their
cross-validation folds, skipped or stopped when the budget cannot hold it or it is clearly behind, replayable."""

from __future__ import annotations

import time

import numpy as np
import pytest

from geotune.config import TrainConfig
from geotune.training import auto, auto_finetune
from geotune.training.auto import Candidate, chosen_config, make_folds, search


def _tiny(tmp_path, counts=(20, 6)) -> TrainConfig:
    """40 px arrays, two classes (unbalanced by default: 20 and 6)."""
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.random((sum(counts), 40, 40), dtype=np.float32))
    np.save(tmp_path / "y.npy", np.repeat(["a", "b"], counts))
    return TrainConfig(data=str(tmp_path / "x.npy"), labels=str(tmp_path / "y.npy"), out=str(tmp_path / "run"),
                       strategy="auto")


def _fake_probes(monkeypatch, score: float = 0.6, seconds_per_pixel: float = 1e-9):
    """Probes score ``score`` (out-of-fold predictions right on that share of samples) without features."""
    def fake(self, candidate):
        correct = np.random.default_rng(len(self.y)).random(len(self.y)) < score
        pred = np.where(correct, self.y, 1 - self.y)
        candidate.proba = np.eye(2)[pred]
        candidate.val_index = np.arange(len(self.y))
        from geotune.evaluate.metrics import classification_metrics

        m = classification_metrics(self.y, pred, self.classes)
        candidate.macro_f1, candidate.accuracy = float(m["macro_f1"]), float(m["accuracy"])
        candidate.n_val, candidate.status, candidate.seconds, candidate.cost = len(self.y), "scored", 0.01, 0.01
        self.seconds_per_pixel = seconds_per_pixel

    monkeypatch.setattr(auto.Scorer, "score", fake)
    monkeypatch.setattr(auto, "installed_backbones", lambda: ["tf_efficientnet_lite0", "tf_efficientnet_lite1"])


def _record_folds(monkeypatch, right: bool = True, seconds: float = 0.0) -> list:
    """Replace a fold's training by predictions that are all right (or all wrong); record the folds."""
    seen = []

    def fit_fold(scorer, cand_cfg, samples, train_idx, val_idx, built):
        time.sleep(seconds)
        seen.append((np.asarray(train_idx), np.asarray(val_idx), cand_cfg))
        y = scorer.y[val_idx]
        return np.eye(len(scorer.classes))[y if right else 1 - y]

    monkeypatch.setattr(auto_finetune, "fit_fold", fit_fold)
    return seen


def test_tiny_data_plans_full_fine_tuning_near_the_patch_size():
    def probe(backbone, size, f1):
        return Candidate(f"{backbone} {size}", {"strategy": "linear-probe", "backbone": backbone, "image_size": size,
                                                "fewshot": "on"}, "probe", status="scored", macro_f1=f1)

    probes = [probe("tf_efficientnet_lite0", 64, 0.80), probe("tf_efficientnet_lite1", 64, 0.86),
              probe("tf_efficientnet_lite1", 240, 0.88)]
    fine = auto._fine_tune_candidate(TrainConfig(strategy="auto"), probes[2], 120, True, probes=probes, side=45,
                                     imbalanced=True)
    # the best backbone at the small size (64 px for 45 px patches), not the native 240 px
    assert fine.stage == "fine-tune" and fine.options["strategy"] == "full"
    assert fine.options["backbone"] == "tf_efficientnet_lite1" and fine.options["image_size"] == 64
    assert fine.options["epochs"] == auto_finetune.TINY_EPOCHS and fine.options["class_weights"] is True
    assert fine.options["lr"] == auto_finetune.TINY_LR
    given = TrainConfig(strategy="auto", epochs=3, class_weights=False, image_size=96, lr=0.01)
    fine = auto._fine_tune_candidate(given, probes[2], 120, True, probes=probes, side=45, imbalanced=True)
    assert fine.options["epochs"] == 3 and fine.options["lr"] == 0.01 and fine.options["image_size"] == 96 and "class_weights" not in fine.options
    assert auto._fine_tune_candidate(TrainConfig(strategy="auto", fewshot="on"), probes[2], 120, True,
                                     probes=probes, side=45) is None  # the user asked for the few-shot path


def test_the_fine_tune_candidate_is_scored_on_the_probes_folds_and_replays(monkeypatch, tmp_path):
    _fake_probes(monkeypatch, score=0.6)
    seen = _record_folds(monkeypatch, right=True)
    cfg = _tiny(tmp_path)
    with pytest.warns(Warning, match="cross-validation"):
        found = search(cfg, tmp_path / "run", log=lambda line: None)
    fine = found.candidates[-1]
    assert found.cross_validated and fine.stage == "fine-tune" and fine.status == "scored"
    folds, _, _ = make_folds(cfg, found.labels, None)
    assert len(seen) == len(folds) == 5
    for (train, val, _), (want_train, want_val) in zip(seen, folds):  # the probes' folds, in order
        assert np.array_equal(train, want_train) and np.array_equal(val, want_val)
    assert {c.n_val for c in found.candidates if c.status == "scored"} == {len(found.labels)}
    assert found.chosen is fine and fine.macro_f1 == 1.0  # it beat the probes on the same folds
    assert seen[0][2].strategy == "full" and seen[0][2].image_size == 64 and seen[0][2].class_weights
    replay = chosen_config(cfg, found)  # what config.json's train block holds: plain options
    replay.to_yaml(tmp_path / "run.yaml")
    again = TrainConfig.from_yaml(tmp_path / "run.yaml").validate()
    assert again.strategy == "full" and again.image_size == 64 and again.class_weights
    assert again.epochs == auto_finetune.TINY_EPOCHS and again.patience is None
    assert again.lr == auto_finetune.TINY_LR
    assert again.backbone == fine.options["backbone"]


def test_the_fine_tune_candidate_is_skipped_when_the_budget_cannot_hold_it(monkeypatch, tmp_path):
    _fake_probes(monkeypatch, score=0.6, seconds_per_pixel=1e-3)  # a slow machine: minutes per fold
    seen = _record_folds(monkeypatch)
    with pytest.warns(Warning, match="cross-validation"):
        found = search(_tiny(tmp_path), tmp_path / "run", log=lambda line: None)
    fine = found.candidates[-1]
    assert fine.stage == "fine-tune" and fine.status == "skipped: budget" and not seen
    assert fine.estimate_s > 600 and found.chosen.stage == "probe"


def test_the_folds_stop_when_clearly_behind_or_out_of_time(monkeypatch, tmp_path):
    _fake_probes(monkeypatch, score=0.9)
    seen = _record_folds(monkeypatch, right=False)
    with pytest.warns(Warning, match="cross-validation"):
        found = search(_tiny(tmp_path), tmp_path / "run", log=lambda line: None)
    fine = found.candidates[-1]
    assert fine.status.startswith("stopped after 2 of 5 folds") and len(seen) == 2
    assert found.chosen.stage == "probe"

    seen.clear()
    seen = _record_folds(monkeypatch, right=True, seconds=0.2)
    scorer = auto.Scorer(_tiny(tmp_path), None)
    scorer.y = np.repeat([0, 1], 10)
    scorer.classes = ["a", "b"]
    scorer.folds, _, _ = make_folds(scorer.cfg, scorer.y, None)
    rival = Candidate("probe", {}, "probe", proba=np.full((20, 2), 0.5), val_index=np.arange(20))
    fine = Candidate("fine", {"strategy": "full", "image_size": 64, "epochs": 1}, "fine-tune")
    auto_finetune.score(scorer, fine, rival, deadline=time.perf_counter() + 0.5)  # room for 2 folds, not 5
    assert fine.status.startswith("skipped: budget (after ") and fine.macro_f1 is None and len(seen) < 5


def test_tiny_data_also_scores_the_few_shot_head_on_augmented_views_with_flip_tta():
    tiny = auto.plan_candidates(TrainConfig(strategy="auto"), side=45, imbalanced=True, tiny=True)
    plain = [c for c in tiny if "augment_views" not in c.options]
    views = [c for c in tiny if "augment_views" in c.options]
    assert plain and len(views) == len(plain)  # one views variant per backbone and size, right after its plain head
    for base, variant in zip(plain, views):
        assert tiny.index(variant) == tiny.index(base) + 1
        assert variant.options == {**base.options, "augment_views": auto.TINY_VIEWS, "tta": "flips"}
    for given in ({"augment_views": 2}, {"tta": "off"}, {"unlabelled": "u.npy"}):  # the user's choice stands
        cfg = TrainConfig(strategy="auto", **given)
        assert not any("augment_views" in c.options and c.options.get("tta") == "flips"
                       for c in auto.plan_candidates(cfg, side=45, imbalanced=True, tiny=True))
    big = auto.plan_candidates(TrainConfig(strategy="auto"), side=45, imbalanced=True, tiny=False)
    assert not any("augment_views" in c.options for c in big)  # big data: the trained head, fine-tuning after


def test_the_views_candidate_is_scored_as_predict_runs_it_and_costs_its_views(monkeypatch, tmp_path):
    import torch

    from geotune.predict.tta import softmax
    from geotune.training import classify, tta

    cfg = _tiny(tmp_path, counts=(6, 6))
    scorer = auto.Scorer(cfg, None)
    scorer.y, scorer.classes = np.repeat([0, 1], 6), ["a", "b"]
    scorer.folds, _, _ = make_folds(cfg, scorer.y, None)
    monkeypatch.setattr(auto.Scorer, "_features", lambda self, c, m, s: 0.0)
    trained = []

    def train_one(cand_cfg, model, samples, y, w, train_idx, val_idx, run_dir, **kwargs):
        trained.append(cand_cfg.augment_views)
        return torch.zeros(len(val_idx), 2), None  # undecided without TTA

    flipped = {}

    def view_logits(model, dataset, views, **kwargs):
        rng = np.random.default_rng(len(flipped))
        flipped[len(flipped)] = out = rng.normal(size=(views, len(dataset), 2))
        return out

    monkeypatch.setattr(classify, "train_one", train_one)
    monkeypatch.setattr(tta, "view_logits", view_logits)
    options = {"strategy": "linear-probe", "backbone": "tf_efficientnet_lite0", "image_size": 64, "fewshot": "on"}
    candidate = Candidate("views", {**options, "augment_views": 4, "tta": "flips"}, "probe")
    scorer.score(candidate)
    assert trained == [4] * len(scorer.folds) and len(flipped) == len(scorer.folds)
    for fold, (_, val_idx) in enumerate(scorer.folds):  # every fold: the mean of the 4 views' probabilities
        position = np.searchsorted(candidate.val_index, val_idx)
        expected = np.mean([softmax(v) for v in flipped[fold]], 0)
        np.testing.assert_allclose(candidate.proba[position], expected)
        assert flipped[fold].shape[0] == 4

    scorer.seconds_per_pixel, scorer.head_seconds = 1e-6, {"few-shot": 0.0}
    base = scorer.estimate(Candidate("plain", options, "probe"), features_cached=True)
    dear = scorer.estimate(candidate, features_cached=True)
    one_pass = 64 * 64 * len(scorer.y) * 1e-6
    train_share = sum(len(t) for t, _ in scorer.folds) / len(scorer.y)
    assert dear - base == pytest.approx(one_pass * (4 * train_share + 4))
