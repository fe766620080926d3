"""`geotune label PROJECT`: the command builds the workbench the options describe and serves it on 127.0.0.1;
bad options and folders end with one line and exit code 2."""

from __future__ import annotations

from label_helpers import synthetic_project


def test_label_command_serves_the_project_with_its_options(tmp_path, monkeypatch, capsys):
    import uvicorn
    from starlette.testclient import TestClient

    from geotune.cli import main
    from geotune.serve.label.learner import Learner

    project, _, _ = synthetic_project(tmp_path / "p", volume=False)
    served = {}

    def fake_run(app, host, port, **_):  # instead of blocking on a socket: call the app it was given
        served.update(host=host, port=port)
        with TestClient(app, base_url="http://127.0.0.1") as http:
            served["state"] = http.get("/api/state").json()
            served["write_without_token"] = http.post("/api/classes", json={"name": "x"}).status_code

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setattr(Learner, "start", lambda self: self)  # the wiring is under test here, not the learner
    assert main(["label", str(project), "--classes", "salt, fault", "--retrain-every", "5", "--port", "9123",
                 "--who", "ana"]) == 0
    assert served["host"] == "127.0.0.1" and served["port"] == 9123
    assert served["state"]["classes"] == ["salt", "fault"] and served["state"]["learner"]["retrain_every"] == 5
    assert served["write_without_token"] == 403
    assert "http://127.0.0.1:9123/" in capsys.readouterr().out


def test_label_command_refuses_bad_input_in_one_line(tmp_path, capsys):
    from geotune.cli import main

    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o555)  # a read-only data folder: labels cannot be kept there, and nothing is written into it
    try:
        assert main(["label", str(tmp_path / "missing")]) == 2
        assert main(["label", str(tmp_path), "--retrain-every", "0"]) == 2
        assert main(["label", str(read_only)]) == 2
        assert list(read_only.iterdir()) == []
    finally:
        read_only.chmod(0o755)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and "missing" in lines[0] and "--retrain-every" in lines[1]
    assert "cannot be written" in lines[2]
