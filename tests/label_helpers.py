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
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


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
