"""`--strategy auto` on data big enough to fine-tune (issue #21): the fine-tuning candidate is trained once and
becomes the final model, its epoch loop stops in time keeping its best epoch, and the search keeps its budget."""

from __future__ import annotations

import json
import time

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from geotune.config import TrainConfig
from geotune.training import auto_budget
from geotune.training.auto_budget import BestWeights, TimeLimit, decoded_once, finetune_seconds, finetune_size


def test_finetune_size_is_the_largest_that_fits_the_time_left():
    forward = {224: 40.0, 192: 29.0, 160: 20.0, 128: 13.0}.get  # seconds of one pass over every sample
    need = {s: finetune_seconds(forward(s), 10) * auto_budget.MIN_EPOCH_SHARE for s in (224, 192, 160, 128)}
    assert finetune_size(forward, 224, 10, need[224] + 1) == 224
    assert finetune_size(forward, 224, 10, need[224] - 1) == 192
    assert finetune_size(forward, 224, 10, need[160]) == 160
    assert finetune_size(forward, 192, 10, need[224] + 1) == 192  # never above the size the probes chose
    assert finetune_size(forward, 224, 10, need[128] - 1) is None  # too little left: no fine-tuning


class _Tiny(pl.LightningModule):
    """A linear model whose validation loss gets worse after epoch ``turn`` (the learning rate flips sign)."""

    def __init__(self, turn: int, step_sleep: float = 0.0):
        super().__init__()
        self.model = nn.Linear(4, 2)
        self.turn, self.step_sleep, self.val_losses = turn, step_sleep, []

    def training_step(self, batch, batch_idx):
        time.sleep(self.step_sleep)
        x, y = batch
        loss = nn.functional.cross_entropy(self.model(x), y)
        return loss if self.current_epoch < self.turn else -loss  # after the turn, training makes it worse

    def validation_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self.model(x), y)
        self.log("val_loss", loss)
        self.val_losses.append(float(loss))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.5)


def _loaders(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 4, generator=g)
    y = (x[:, 0] > 0).long()
    return DataLoader(TensorDataset(x, y), batch_size=16), DataLoader(TensorDataset(x, y), batch_size=64)


def _trainer(callbacks, epochs):
    return pl.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                      callbacks=callbacks)


def test_time_limit_stops_the_epoch_loop_before_the_deadline():
    module = _Tiny(turn=10**6, step_sleep=0.02)  # 4 steps: ~0.1 s per epoch
    started = time.perf_counter()
    limit = TimeLimit(started + 2.0)
    _trainer([limit], 10**4).fit(module, *_loaders())
    elapsed = time.perf_counter() - started
    assert limit.stopped_early and 1 <= limit.epochs_run < 10**4
    # it stops when the next epoch would not finish in time: at most one epoch (with overhead) past the deadline
    assert elapsed < 2.0 + 2 * max(limit.epoch_seconds) + 0.5


def test_best_weights_are_those_of_the_epoch_with_the_lowest_validation_loss():
    module = _Tiny(turn=3)
    best = BestWeights()
    _trainer([best], 8).fit(module, *_loaders())
    losses = module.val_losses
    assert best.best_epoch == int(np.argmin(losses)) and best.best_epoch < 7  # the loss got worse after the turn
    x, y = next(iter(_loaders()[1]))
    with torch.no_grad():
        now = float(nn.functional.cross_entropy(module.model(x), y))
    assert now == pytest.approx(min(losses), abs=1e-6)  # the model ends on its best epoch, not its last


def test_decoded_once_holds_the_same_samples_and_metadata(tiny_patches):
    from geotune.data.samples import open_dataset

    lazy = open_dataset(tiny_patches["train_data"], tiny_patches["train_labels"], 32)
    held = decoded_once(lazy, memory_gb=1.0)
    assert held is not lazy and len(held) == len(lazy)
    assert np.array_equal(np.asarray(held[5], dtype=np.float32), np.asarray(lazy[5], dtype=np.float32))
    assert list(held.labels) == list(lazy.labels) and held.channels == lazy.channels
    assert decoded_once(lazy, memory_gb=1e-9) is lazy  # too big for the memory allowed: stays lazy


@pytest.fixture(scope="module")
def noisy(tmp_path_factory) -> dict:
    """4 classes x 30 synthetic patches of 32 px (one validation split, not cross-validation) with labels no
    probe can learn (so fine-tuning is tried)."""
    from geotune.data.synthetic import make_patches

    folder = tmp_path_factory.mktemp("auto_big")
    x, y, classes = make_patches(30, 32, 3)
    labels = np.asarray(classes)[np.random.default_rng(0).permutation(y)]
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", labels)
    return {"data": str(folder / "x.npy"), "labels": str(folder / "y.npy"), "folder": folder}


def _config(noisy, out, **options) -> TrainConfig:
    values = {"data": noisy["data"], "labels": noisy["labels"], "out": str(out), "strategy": "auto",
              "backbone": "tf_efficientnet_lite0", "image_size": 32, **options}
    return TrainConfig.from_dict(values).validate()


def test_the_final_fit_reuses_the_fine_tuned_candidate_instead_of_training_it_again(noisy, monkeypatch):
    """A search whose chosen candidate kept its model: the final fit trains nothing and saves those weights."""
    from geotune import modeldir
    from geotune.models.classifier import build_classifier
    from geotune.training import classify
    from geotune.training.auto import Candidate, Search, chosen_config
    from geotune.data.splits import train_val_split

    cfg = _config(noisy, noisy["folder"] / "reused", tta="off")
    classes = sorted(set(np.load(noisy["labels"]).tolist()))
    y = classify.encode(np.load(noisy["labels"]), classes)
    _, val_idx = train_val_split(y, cfg.val_split, cfg.seed, None)
    torch.manual_seed(1)
    model, _ = build_classifier({"backbone": cfg.backbone, "in_chans": 1, "classes": classes, "head": "linear"},
                                pretrained=False)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    fine = Candidate("Lite0 32px, gradual fine-tuning", {"strategy": "gradual", "image_size": 32, "epochs": 2},
                     "fine-tune", status="scored", macro_f1=0.5, accuracy=0.5, n_val=len(val_idx),
                     val_index=val_idx, trained_state=state, val_logits=torch.randn(len(val_idx), len(classes)))
    search = Search(fine, [fine], "one validation split", False, 1.0, 60.0, y, classes)

    def no_training(*args, **kwargs):
        raise AssertionError("the final fit trained the fine-tuned recipe a second time")

    monkeypatch.setattr(classify, "train_one", no_training)
    summary = classify._fit_classifier(chosen_config(cfg, search), search)
    saved = modeldir.load_tensors(noisy["folder"] / "reused" / "model")
    assert all(torch.equal(saved[k], state[k]) for k in state)
    assert "fine-tuned model" in summary["final_fit"]
    config = json.loads((noisy["folder"] / "reused" / "model" / "config.json").read_text())
    assert config["train"]["strategy"] == "gradual" and config["train"]["epochs"] == 2  # replayable as is


def test_a_candidate_scored_on_another_split_is_trained_again(noisy):
    from geotune.training.auto import Candidate, Search
    from geotune.training.classify import trained_by_search

    y = np.zeros(10, dtype=np.int64)
    fine = Candidate("x", {}, "fine-tune", status="scored", val_index=np.array([1, 2]), trained_state={})
    search = Search(fine, [fine], "", False, 1.0, 60.0, y, ["a"])
    assert trained_by_search(search, np.array([2, 1])) is fine
    assert trained_by_search(search, np.array([1, 3])) is None


@pytest.mark.slow  # it runs for its budget; the reuse and the time limit are tested fast above
def test_search_fine_tunes_once_within_its_budget(noisy, monkeypatch):
    """End to end on tiny data (the fine-tuning threshold lowered to it): the fine-tuning candidate runs
    under a time limit, the whole search ends within its budget, and the final fit does not train it again."""
    from geotune.training import auto, classify

    monkeypatch.setattr(auto, "FINETUNE_MIN_SAMPLES", 10)
    monkeypatch.setattr(auto_budget, "MIN_EPOCH_SHARE", 0.001)  # start it whatever the load: the limit must stop it
    calls = []
    real = classify.train_one

    def counting(cfg, *args, **kwargs):
        calls.append(cfg.strategy)
        return real(cfg, *args, **kwargs)

    monkeypatch.setattr(classify, "train_one", counting)
    budget_min = 1.0
    planned = auto._fine_tune_candidate

    def long_fine_tuning(*args, **kwargs):  # more epochs than the budget holds: the time limit must end it
        fine = planned(*args, **kwargs)
        if fine is not None:
            fine.options.update(epochs=500, patience=None)
        return fine

    monkeypatch.setattr(auto, "_fine_tune_candidate", long_fine_tuning)
    cfg = _config(noisy, noisy["folder"] / "search", time_budget=budget_min)
    summary = classify.fit(cfg)
    search = summary["metrics"]["search"]
    fine = next(c for c in search["candidates"] if c["stage"] == "fine-tune")
    assert search["seconds"] <= budget_min * 60 + 5
    assert fine["status"] == "scored", fine["status"]
    assert fine["epochs_run"] < 500 and fine["stopped_by_time_limit"]
    assert calls.count("gradual") == 1  # trained once, in the search (whichever recipe was chosen)


def test_the_tta_check_is_left_out_when_the_budget_has_no_time_for_it():
    from geotune.training.auto import Candidate, Search
    from geotune.training.classify import tta_request

    fine = Candidate("x", {}, "probe", status="scored")
    cfg = TrainConfig(strategy="auto")
    in_time = Search(fine, [fine], "", False, 1.0, 60.0, np.zeros(4, dtype=np.int64), ["a"],
                     deadline=time.perf_counter() + 100, tta_estimate_s=10)
    late = Search(fine, [fine], "", False, 1.0, 60.0, np.zeros(4, dtype=np.int64), ["a"],
                  deadline=time.perf_counter() + 5, tta_estimate_s=10)
    assert tta_request(cfg, in_time) == "auto" and tta_request(cfg, late) == "off"
    assert tta_request(cfg.model_copy(update={"tta": "flips"}), late) == "flips"  # asked for: always used
    assert tta_request(cfg, None) == "off"  # fixed strategies: none unless asked
