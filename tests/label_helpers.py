"""Shared by the workbench tests: small synthetic projects, the app under a TestClient, a live server."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import numpy as np

TOKEN = "test-token"
HEADERS = {"x-geotune-token": TOKEN}


def synthetic_project(folder, n_per_class: int = 4, size: int = 32, volume: bool = True):
    """PROJECT with patches.npy (4 synthetic classes) and, when asked, volume.npy (6 inlines of 120 x 160)."""
    from geotune.data.synthetic import make_patches
    from geotune.data.synthetic.earth import make_volume

    folder.mkdir(parents=True, exist_ok=True)
    x, y, classes = make_patches(n_per_class, size, 0)
    np.save(folder / "patches.npy", x)
    if volume:
        np.save(folder / "volume.npy", make_volume(6, 120, 160, seed=1)["amplitude"])
    return folder, np.asarray(classes)[y], list(classes)


@contextlib.contextmanager
def client(project, classes, start_learner: bool = False, **settings):
    """(workbench, TestClient on http://127.0.0.1 with the test token), closed at the end."""
    from starlette.testclient import TestClient

    from geotune.serve.label.app import create_app
    from geotune.serve.label.workbench import Workbench

    workbench = Workbench(project, who="tester", classes=classes, start_learner=start_learner, **settings)
    try:
        with TestClient(create_app(workbench, token=TOKEN), base_url="http://127.0.0.1") as http:
            yield workbench, http
    finally:
        workbench.close()


def wait_for(condition, timeout: float = 120.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what() if callable(what) else what}")


@contextlib.contextmanager
def live_server(workbench):
    """The app under uvicorn on 127.0.0.1 at a free port, in a thread; yields its URL."""
    import uvicorn

    from geotune.serve.label.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(workbench), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 30, "the server to start")
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def label_in_suggested_order(http, workbench, truth: dict, n_labels: int) -> list[str]:
    """Play the labeller: take the app's suggestions (one retraining round at a time), answer with the true
    class, wait for the retraining that follows; returns the items in the order labelled."""
    done = []
    every = workbench.project.settings.retrain_every
    wait_for(lambda: workbench.learner.features is not None, 300, "features")
    while len(done) < n_labels:
        version = workbench.learner.model_version
        batch = http.get(f"/api/next?n={min(every, n_labels - len(done))}").json()["items"]
        assert batch and not {e["item"] for e in batch} & set(done)  # never suggests what is labelled
        for entry in batch:
            r = http.post("/api/label", json={"item": entry["item"], "label": truth[entry["item"]]}, headers=HEADERS)
            assert r.status_code == 200, r.text
            done.append(entry["item"])
        if len(done) % every == 0:
            wait_for(lambda: workbench.learner.model_version > version and workbench.learner.trained_on == len(done),
                     120, f"retraining on {len(done)} labels")
    return done


def held_out_accuracy(workbench, items, labels, held_x, held_y) -> float:
    """Accuracy on held-out samples of the workbench's head fitted on ``items`` with ``labels``."""
    from geotune.serve.label.learner import fit_head
    from geotune.training.features import extract_features

    classes = workbench.project.settings.classes
    features = workbench.learner.features
    x = features[[workbench.pool.index[i] for i in items]]
    y = np.asarray([classes.index(c) for c in labels])
    head = fit_head(x, y, len(classes), reference=features)
    held = extract_features(workbench.learner.backbone(), held_x).numpy()
    return float((head.predict(held) == np.asarray([classes.index(c) for c in held_y])).mean())


def landmass_pool(archive_file, project, pool_per_class: int, held_per_class: int, seed: int):
    """A labelling project of LANDMASS patches: ``project/patches.npy`` drawn from each class's first 375, held-out
    patches from its last 125 (neighbouring patches overlap). Returns (held-out x, held-out y, names, truth)."""
    archive = np.load(archive_file)
    x, y, names = archive["X"], archive["y"], [str(n) for n in archive["class_names"]]
    rng = np.random.default_rng(seed)
    pool = np.concatenate([rng.choice(np.where(y == c)[0][:375], pool_per_class, replace=False)
                           for c in range(len(names))])
    held = np.concatenate([rng.choice(np.where(y == c)[0][-125:], held_per_class, replace=False)
                           for c in range(len(names))])
    rng.shuffle(pool)
    project.mkdir()
    np.save(project / "patches.npy", x[pool])
    truth = {f"patches.npy#{i}": names[y[k]] for i, k in enumerate(pool)}
    return x[held], y[held], names, truth
