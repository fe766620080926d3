"""The web app over plain HTTP: predictions, limits, path traversal, bad files (server on 127.0.0.1 only)."""

from __future__ import annotations

import io
import json
import socket
import urllib.error
import urllib.request
import uuid

import numpy as np
import pytest

from serve_helpers import CLASSES, plan_folder, running_server, untrained_classifier_run


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    runs = root / "runs"
    untrained_classifier_run(runs / "patches")
    _, picture = plan_folder(runs / "plan")
    with running_server([runs], max_upload_mb=0.25) as server:
        yield server, picture, runs


def _request(url, data=None, headers=None, method=None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _run_number(server, name):
    return next(i for i, run in enumerate(server.catalog.runs) if run.name == name)


def test_binds_to_loopback_and_lists_runs(app):
    server, _, _ = app
    assert server.server_address[0] == "127.0.0.1"
    status, kind, body = _request(server.url)
    text = body.decode()
    assert status == 200 and kind.startswith("text/html")
    assert "patches" in text and "plan" in text and "<form id='upload'" in text


def test_api_prediction_is_the_models_own(app):
    from geotune import load_model
    from geotune.data.synthetic import make_patches

    server, _, runs = app
    x, _, _ = make_patches(1, 32, 5)
    status, kind, body = _request(f"{server.url}api/predict?run={_run_number(server, 'patches')}&name=patches.npy",
                                  data=_npy(x[:3]), method="POST")
    assert status == 200 and kind == "application/json", body
    result = json.loads(body)
    assert result["n_predictions"] == 3 and result["task"] == "classify"
    expected = load_model(runs / "patches").predict(x[:3])
    for row, want in zip(result["predictions"], expected):
        assert set(row["probabilities"]) == set(CLASSES)
        assert abs(sum(row["probabilities"].values()) - 1) < 1e-3
        assert row["predicted"] == max(row["probabilities"], key=row["probabilities"].get) == want


def test_form_upload_shows_prediction_probabilities_and_overlay(app):
    from geotune.report.sections.markup import array_png

    server, _, _ = app
    image = array_png(np.random.default_rng(0).integers(0, 255, (40, 40), dtype=np.uint8))
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"run\"\r\n\r\n"
            f"{_run_number(server, 'patches')}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"thin section.png\"\r\nContent-Type: image/png\r\n\r\n").encode() + image + \
        f"\r\n--{boundary}--\r\n".encode()
    status, _, page = _request(f"{server.url}predict", data=body, method="POST",
                               headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    text = page.decode()
    assert status == 200, text
    predicted = text.split("id='prediction'>", 1)[1].split("<", 1)[0]
    assert predicted in CLASSES and "thin section.png" in text
    assert text.count("data:image/png;base64,") == 2  # the input and its Grad-CAM overlay


def _form_post(server, filename, payload, content_type="application/octet-stream"):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"run\"\r\n\r\n"
            f"{_run_number(server, 'patches')}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").encode() + payload + \
        f"\r\n--{boundary}--\r\n".encode()
    return _request(f"{server.url}predict", data=body, method="POST",
                    headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def test_api_returns_every_prediction_and_only_the_page_shows_the_first_16(app, tmp_path):
    from geotune import load_model
    from geotune.data.synthetic import make_patches
    from geotune.serve.predict import MAX_SAMPLES

    server, _, runs = app
    x, _, _ = make_patches(10, 32, 6)  # 40 patches
    status, _, body = _request(f"{server.url}api/predict?run={_run_number(server, 'patches')}&name=many.npy",
                               data=_npy(x), method="POST")
    assert status == 200, body
    result = json.loads(body)
    assert result["n_predictions"] == len(result["predictions"]) == 40
    model = load_model(runs / "patches")
    np.save(tmp_path / "many.npy", x)
    expected = model.predict_proba(model.read(tmp_path / "many.npy"))  # read as the upload is: same scaling
    for row, want in zip(result["predictions"], expected):
        assert [row["probabilities"][c] for c in model.classes] == pytest.approx(want, abs=1e-3)
    assert [row["name"] for row in result["predictions"]][-1] == "many.npy[39]"
    status, _, page = _form_post(server, "many.npy", _npy(x))
    text = page.decode()
    assert status == 200 and "40 prediction(s)" in text
    assert text.count("<h3>many.npy[") == MAX_SAMPLES and f"showing the first {MAX_SAMPLES} of 40" in text


def test_a_long_library_message_is_not_cut_mid_word(app):
    server, _, _ = app
    key = "a_key_numpy_does_not_expect_in_a_header_" + "x" * 60
    header = repr({"descr": "<f4", "fortran_order": False, "shape": (2, 2), key: 1}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    payload = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(16)
    status, _, body = _request(f"{server.url}api/predict?run={_run_number(server, 'patches')}&name=odd.npy",
                               data=payload, method="POST")
    error = json.loads(body)["error"]
    assert status == 400 and error.startswith("odd.npy: is not a readable .npy array (")
    assert key in error  # the whole word the user needs, not its first characters


def test_uploads_over_the_limit_are_refused_before_reading(app):
    server, _, _ = app
    big = _npy(np.zeros((300, 32, 32), dtype=np.float32))  # ~1.2 MB > 0.25 MB
    status, _, body = _request(f"{server.url}api/predict?run=0&name=big.npy", data=big, method="POST")
    assert status == 413 and "limit is 0.25 MB" in json.loads(body)["error"]
    for head, answer in ((b"Content-Length: 10000000000\r\n", b"413"), (b"", b"411")):  # huge, or no size
        with socket.create_connection(server.server_address[:2], timeout=30) as sock:  # sends no body
            sock.sendall(b"POST /api/predict?run=0&name=a.npy HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n")
            assert sock.recv(100).split(b" ")[1] == answer


@pytest.mark.parametrize("path", [
    "run/{plan}/file/../../../../etc/passwd", "run/{plan}/file/..%2F..%2F..%2Fetc%2Fpasswd",
    "run/{plan}/file/%2Fetc%2Fpasswd", "run/{plan}/file/plan.csv", "run/{plan}/file/model/config.json",
    "run/..%2F{plan}/file/plan.png", "run/99/file/plan.png", "run/-1", "..%2F..%2Fetc%2Fpasswd",
])
def test_nothing_outside_the_listed_pictures_is_served(app, path):
    server, _, _ = app
    status, _, body = _request(server.url + path.format(plan=_run_number(server, "plan")))
    assert status == 404 and b"root:" not in body


def test_pictures_of_a_plan_are_served_exactly(app):
    server, picture, _ = app
    number = _run_number(server, "plan")
    status, kind, body = _request(f"{server.url}run/{number}/file/plan.png")
    assert status == 200 and kind == "image/png" and body == picture
    status, _, page = _request(f"{server.url}run/{number}")
    assert status == 200 and f"src='/run/{number}/file/plan.png'" in page.decode()


@pytest.mark.parametrize("name, payload, message", [
    ("broken.png", b"not an image at all", "broken.png"),
    ("tool.exe", b"MZ\x90\x00", "not .exe"),
    ("empty.npy", b"", "empty"),
    ("objects.npy", None, "broken.npy"),
    ("text.npy", b"\x93NUMPY garbage", "text.npy"),
])
def test_bad_files_get_a_clear_message(app, name, payload, message):
    server, _, _ = app
    if payload is None:  # an object array: loading it would need pickle, which is refused
        buffer = io.BytesIO()
        np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        payload, name, message = buffer.getvalue(), "broken.npy", "broken.npy"
    status, _, body = _request(f"{server.url}api/predict?run={_run_number(server, 'patches')}&name={name}",
                               data=payload, method="POST")
    error = json.loads(body)["error"]
    assert status == 400 and message in error and "/tmp" not in error and "upload." not in error


def test_a_plan_run_cannot_predict_and_reports_are_served(app):
    server, _, runs = app
    status, _, body = _request(f"{server.url}api/predict?run={_run_number(server, 'plan')}&name=a.png",
                               data=b"x", method="POST")
    assert status == 400 and "is a plan run" in json.loads(body)["error"]
    number = _run_number(server, "plan")
    status, _, page = _request(f"{server.url}run/{number}/report")
    assert status == 200 and "Ranked sites (2)" in page.decode()
    (runs / "plan" / "plan.csv").write_text("rank,x,y\n1,1.0,2.0\n")
    try:  # kept until asked to rebuild
        assert "Ranked sites (2)" in _request(f"{server.url}run/{number}/report")[2].decode()
        assert "Ranked sites (1)" in _request(f"{server.url}run/{number}/report?fresh")[2].decode()
    finally:
        (runs / "plan" / "plan.csv").write_text("rank,x,y,expected_value\n1,10.0,20.0,2.5\n2,30.0,40.0,1.5\n")


def test_cli_says_so_in_one_line_when_the_port_is_taken(tmp_path, capsys):
    from geotune.cli import main

    untrained = tmp_path / "runs"
    untrained.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", str(untrained), "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cannot listen on 127.0.0.1:{port}" in err[0]


def test_a_seismic_section_gets_its_class_shares_and_a_picture(tmp_path):
    from geotune import load_model
    from serve_helpers import untrained_segmenter_run

    run = untrained_segmenter_run(tmp_path / "faults")
    section = np.random.default_rng(0).normal(size=(40, 48)).astype(np.float32)
    with running_server([run]) as server:
        status, _, body = _request(f"{server.url}api/predict?run=0&name=inline.npy", data=_npy(section), method="POST")
        assert status == 200, body
        result = json.loads(body)
        from geotune.data.seismic import write_volume_segy

        write_volume_segy(tmp_path / "survey.sgy", np.random.default_rng(1).normal(size=(3, 24, 40)).astype(np.float32))
        status, _, body = _request(f"{server.url}api/predict?run=0&name=survey.sgy",
                                   data=(tmp_path / "survey.sgy").read_bytes(), method="POST")
        assert status == 200 and json.loads(body)["n_predictions"] == 3, body
        status, _, body = _request(f"{server.url}api/predict?run=0&name=cut.sgy",
                                   data=(tmp_path / "survey.sgy").read_bytes()[:5000], method="POST")
        assert status == 400 and json.loads(body)["error"].startswith("cut.sgy: ")
        status, _, body = _request(f"{server.url}api/predict?run=0&name=inline.png", data=b"x", method="POST")
        assert status == 400 and "segment models take .npy, .segy, .sgy files" in json.loads(body)["error"]
    shares = result["predictions"][0]["probabilities"]
    labels = load_model(run).predict(section[None])[0]
    expected = {c: float((labels == k).mean()) for k, c in enumerate(["background", "fault", "salt"])}
    assert shares == pytest.approx(expected, abs=1e-3)
