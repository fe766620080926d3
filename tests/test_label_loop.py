"""The active-learning loop through the web API: label in the order the app suggests, the model retrains every
N labels, its predictions, curve and suspects appear, and a restart resumes exactly. On LANDMASS, 40 labels
in the suggested order teach the head at least as much as 40 random labels."""

from __future__ import annotations

import numpy as np
import pytest

from label_helpers import client, held_out_accuracy, landmass_pool, label_in_suggested_order, synthetic_project, wait_for


def test_loop_retrains_every_n_labels_and_resumes_after_restart(tmp_path):
    project, truth, classes = synthetic_project(tmp_path / "p", n_per_class=8, volume=False)
    by_item = {f"patches.npy#{i}": c for i, c in enumerate(truth)}
    with client(project, classes, start_learner=True, image_size=32, retrain_every=6) as (wb, http):
        done = label_in_suggested_order(http, wb, by_item, 12)
        state = http.get("/api/state").json()["learner"]
        assert state["model_version"] >= 2 and state["trained_on"] == 12
        assert [c["labels"] for c in state["curve"]][-1] == 12 and 0 <= state["curve"][-1]["accuracy"] <= 1
        items = http.get("/api/items?filter=unlabelled").json()["items"]
        assert len(items) == len(truth) - 12 and all(e["prediction"]["class"] in classes for e in items)
        assert isinstance(state["suspects"], list)
    with client(project, classes, start_learner=True) as (wb, http):  # a restart: same labels, same settings
        assert http.get("/api/state").json()["labelled"] == 12
        assert list(wb.store.labels()) == done
        wait_for(lambda: wb.learner.model_version >= 1, 120, "the model to be refitted after the restart")
        assert wb.learner.trained_on == 12 and wb.project.settings.retrain_every == 6


@pytest.mark.slow  # ~30 s on 2 busy cores: features of 120 patches, four retrainings, ten random baselines
def test_landmass_suggested_labels_teach_at_least_as_much_as_random_ones(tmp_path, shared_dataset):
    from geotune.data.samples import open_dataset

    project = tmp_path / "landmass"
    held_patches, held_classes, names, truth = landmass_pool(
        shared_dataset("landmass1_subset_2000") / "landmass1_subset_99x99.npz", project, 30, 15, seed=0)
    with client(project, names, start_learner=True, image_size=32, retrain_every=10) as (wb, http):
        done = label_in_suggested_order(http, wb, truth, 40)
        np.save(tmp_path / "held.npy", held_patches)  # outside the project; read the way the pool is read
        held_x = open_dataset(tmp_path / "held.npy", image_size=32, require_labels=False).to_sampleset().x
        active = held_out_accuracy(wb, done, [truth[i] for i in done], held_x, [names[k] for k in held_classes])
        randoms = []
        for seed in range(10):
            picks = list(np.random.default_rng(100 + seed).choice(wb.pool.ids, 40, replace=False))
            randoms.append(held_out_accuracy(wb, picks, [truth[i] for i in picks], held_x,
                                             [names[k] for k in held_classes]))
        print(f"held-out accuracy: suggested {active:.3f}, random {np.mean(randoms):.3f} +- {np.std(randoms):.3f}")
        assert active >= np.mean(randoms)
    with client(project, names) as (wb, _):
        assert list(wb.store.labels()) == done
