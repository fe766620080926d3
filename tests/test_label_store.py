"""The workbench's label store: labels land in PROJECT/labels.csv as made, undo restores, a restart resumes,
and the file is an ordinary manifest that `geotune train` reads."""

from __future__ import annotations

import csv
import threading

import numpy as np

from label_helpers import HEADERS, client, synthetic_project


def _rows(project):
    with open(project / "labels.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_labels_undo_and_restart_resume_exactly(tmp_path):
    project, truth, classes = synthetic_project(tmp_path / "p", volume=False)
    with client(project, classes) as (_, http):
        made = {}
        for i in (3, 7, 11):
            r = http.post("/api/label", json={"item": f"patches.npy#{i}", "label": truth[i], "who": "ana"},
                          headers=HEADERS)
            assert r.status_code == 200, r.text
            made[f"patches.npy#{i}"] = truth[i]
        wrong = next(c for c in classes if c != truth[7])
        relabel = http.post("/api/label", json={"item": "patches.npy#7", "label": wrong}, headers=HEADERS).json()
        assert {r["item"]: r["label"] for r in _rows(project)}["patches.npy#7"] == wrong
        assert http.post("/api/undo", json={"undo": relabel["undo"]}, headers=HEADERS).status_code == 200
        rows = _rows(project)
        assert {r["item"]: r["label"] for r in rows} == made  # the relabel undone, the first label back
        assert {r["who"] for r in rows} == {"ana"} and all(r["when"] for r in rows)
    with client(project, classes) as (_, http):  # a new server on the same folder
        state = http.get("/api/state").json()
        assert state["labelled"] == 3 and state["classes"] == classes
        listed = http.get("/api/items?filter=labelled").json()["items"]
        assert {e["item"]: e["label"] for e in listed} == made


def test_label_file_is_a_training_manifest_with_the_patch_pixels(tmp_path):
    from geotune.data.samples import open_dataset

    project, truth, classes = synthetic_project(tmp_path / "p", volume=False)
    with client(project, classes) as (_, http):
        for i in range(0, 16, 3):
            http.post("/api/label", json={"item": f"patches.npy#{i}", "label": truth[i]}, headers=HEADERS)
    dataset = open_dataset(project / "labels.csv", image_size=32)
    assert list(dataset.labels) == [truth[i] for i in range(0, 16, 3)]
    from_png = dataset.sample(1).astype(np.float32)  # patches.npy#3
    from_array = open_dataset(project / "patches.npy", image_size=32, require_labels=False).sample(3)
    # the 16-bit PNG trains as `geotune train` would train the .npy sample itself
    assert np.abs(from_png - from_array.astype(np.float32)).max() < 2e-3


def test_two_stores_on_one_file_lose_nothing(tmp_path):
    """Two writers (two store objects, as two processes would hold) interleaving: every label survives."""
    from geotune.serve.label.store import LabelStore

    csv_path, lock = tmp_path / "labels.csv", tmp_path / ".lock"
    stores = [LabelStore(csv_path, lock), LabelStore(csv_path, lock)]

    def write(k):
        for i in range(25):
            stores[k].set(f"w{k}-{i}", "a", f"w{k}-{i}.png", f"writer{k}")

    threads = [threading.Thread(target=write, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = _rows(tmp_path)
    assert len(rows) == 50 and len({r["item"] for r in rows}) == 50
    assert stores[0].labels() == stores[1].labels()
