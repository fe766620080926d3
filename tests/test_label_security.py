"""The workbench refuses what could harm the project: writes without the session token or from another site,
paths outside the project, oversized bodies, foreign Host headers; concurrent writers and a second server
cannot corrupt the label store."""

from __future__ import annotations

import csv
import threading

import pytest

from label_helpers import HEADERS, client, synthetic_project


def _snapshot(project):
    return {p.relative_to(project).as_posix(): p.read_bytes() for p in project.rglob("*")
            if p.is_file() and ".geotune-label" not in p.parts}


def test_writes_need_the_session_token_and_the_same_origin(tmp_path):
    project, truth, classes = synthetic_project(tmp_path / "p", volume=False)
    with client(project, classes) as (_, http):
        page = http.get("/").text
        assert 'content="test-token"' in page  # the page carries the token for its own scripts
        before = _snapshot(project)
        body = {"item": "patches.npy#0", "label": truth[0]}
        assert http.post("/api/label", json=body).status_code == 403
        assert http.post("/api/label", json=body, headers={"x-geotune-token": "guess"}).status_code == 403
        evil = {**HEADERS, "origin": "http://evil.example"}
        assert http.post("/api/label", json=body, headers=evil).status_code == 403
        assert http.get("/api/state", headers={"host": "evil.example"}).status_code == 400  # DNS rebinding
        assert _snapshot(project) == before
        assert http.post("/api/label", json=body, headers=HEADERS).status_code == 200
        assert "content-security-policy" in http.get("/").headers


@pytest.mark.parametrize("request_", [
    ("get", "/api/thumb?item=../../etc/passwd", None),
    ("get", "/api/thumb?item=patches.npy%2399999", None),
    ("get", "/api/slice?source=../outside.npy&axis=inline&index=0", None),
    ("get", "/api/slice?source=/etc/passwd&axis=inline&index=0", None),
    ("get", "/static/..%2Fapp.py", None),
    ("post", "/api/label", {"item": "../outside.png", "label": "fault"}),
    ("post", "/api/point", {"source": "../outside.npy", "axis": "inline", "index": 0, "row": 1, "col": 1,
                            "label": "fault"}),
    ("post", "/api/stroke", {"source": "volume.npy/../../outside.npy", "axis": "inline", "index": 0,
                             "label": "fault", "points": [[1, 1]]}),
])
def test_paths_outside_the_project_are_refused(tmp_path, request_):
    project, _, classes = synthetic_project(tmp_path / "p")
    import numpy as np

    np.save(tmp_path / "outside.npy", np.zeros((4, 200, 200), np.float32))  # a real file just outside
    method, url, body = request_
    with client(project, classes) as (_, http):
        before = _snapshot(project)
        response = http.post(url, json=body, headers=HEADERS) if method == "post" else http.get(url)
        assert response.status_code in (400, 404), response.text
        assert response.headers["content-type"].startswith("application/json")
        assert _snapshot(project) == before


def test_oversized_and_malformed_bodies_are_refused_before_anything_is_written(tmp_path):
    project, truth, classes = synthetic_project(tmp_path / "p")
    with client(project, classes) as (_, http):
        before = _snapshot(project)
        huge = {"source": "volume.npy", "axis": "inline", "index": 0, "label": classes[1],
                "points": [[1, 1]] * 400_000}
        assert http.post("/api/stroke", json=huge, headers=HEADERS).status_code == 413
        chunked = http.post("/api/label", content=iter([b"{" + b" " * 700_000, b" " * 700_000 + b"}"]),
                            headers=HEADERS)  # no Content-Length: the cap holds while reading
        assert chunked.status_code == 413
        assert http.post("/api/label", content=b"not json", headers=HEADERS).status_code == 400
        assert http.post("/api/label", json=["a"], headers=HEADERS).status_code == 400
        assert http.post("/api/label", json={"item": "patches.npy#0", "label": "no-such-class"},
                         headers=HEADERS).status_code == 400
        assert _snapshot(project) == before


def test_concurrent_writers_and_a_second_server_cannot_corrupt_the_store(tmp_path):
    from geotune.errors import ConfigError
    from geotune.serve.label.workbench import Workbench

    project, truth, classes = synthetic_project(tmp_path / "p", n_per_class=10, volume=False)
    with client(project, classes) as (_, http):
        with pytest.raises(ConfigError, match="already serving"):  # a second server on the same folder
            Workbench(project, start_learner=False)
        failures = []

        def tab(items):  # one browser tab labelling its items while the other does the same
            for i in items:
                r = http.post("/api/label", json={"item": f"patches.npy#{i}", "label": truth[i]}, headers=HEADERS)
                if r.status_code != 200:
                    failures.append(r.text)

        tabs = [threading.Thread(target=tab, args=(range(k, 40, 2),)) for k in (0, 1)]
        for t in tabs:
            t.start()
        for t in tabs:
            t.join()
        assert not failures
    with open(project / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(int(r["item"].split("#")[1]) for r in rows) == list(range(40))
    assert all(r["label"] == truth[int(r["item"].split("#")[1])] for r in rows)
