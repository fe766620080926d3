"""The model directory contract: atomic, checksummed, pickle-free."""

import json

import numpy as np
import pytest

from geotune import modeldir
from geotune.errors import ModelError


def _save(folder, value=1.0):
    return modeldir.save(folder, {"task": "classify", "classes": ["a", "b"]},
                         {"w": np.full((2, 2), value, dtype=np.float32)}, {"accuracy": 0.5})


def test_round_trip_accepts_run_or_model_folder(tmp_path):
    _save(tmp_path / "run" / "model")
    for path in (tmp_path / "run", tmp_path / "run" / "model"):
        folder, config = modeldir.load_config(path)
        assert config["schema_version"] == modeldir.SCHEMA_VERSION and config["task"] == "classify"
        assert float(modeldir.load_tensors(folder)["w"].sum()) == 4.0


def test_edited_or_missing_files_are_detected(tmp_path):
    folder = _save(tmp_path / "m")
    weights = folder / modeldir.WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="changed after the model was saved"):
        modeldir.load_config(folder)
    weights.unlink()
    with pytest.raises(ModelError, match="missing"):
        modeldir.load_config(folder)


def test_planted_pickle_is_refused_and_never_executed(tmp_path):
    import pickle

    folder = _save(tmp_path / "m")
    marker = tmp_path / "executed"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (folder / "extra.pkl").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ModelError, match="pickle"):
        modeldir.load_config(folder)
    (folder / "extra.pkl").rename(folder / "notes.dat")  # a pickle under an innocent name
    with pytest.raises(ModelError, match="pickle"):
        modeldir.load_config(folder)
    assert not marker.exists()


def test_failed_save_keeps_the_previous_model(tmp_path):
    folder = _save(tmp_path / "m", value=1.0)
    before = (folder / modeldir.WEIGHTS).read_bytes()
    with pytest.raises(ModelError):
        modeldir.save(folder, {"task": "classify"}, {"w": np.zeros(2, dtype=np.float32)}, files={"bad.pkl": b"x"})
    assert (folder / modeldir.WEIGHTS).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary folder left behind


def test_newer_schema_and_broken_json_are_explained(tmp_path):
    folder = _save(tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["schema_version"] = 99
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="newer geotune"):
        modeldir.load_config(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        modeldir.load_config(folder)
    with pytest.raises(ModelError, match="no such model directory"):
        modeldir.load_config(tmp_path / "absent")
