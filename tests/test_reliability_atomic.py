"""Atomic writes under kill -9 and full disks, without training anything (fast)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import numpy as np

from geotune import modeldir
from geotune.errors import GeotuneError

KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    from geotune._atomic import atomic_dir
    with atomic_dir(sys.argv[1]) as tmp:
        (tmp / "weights.safetensors").write_bytes(b"half" * 1000)
        os.kill(os.getpid(), signal.SIGKILL)  # dies inside the write, as kill -9 or a power cut would
""")


def _save(folder, value):
    return modeldir.save(folder, {"task": "classify", "classes": ["a", "b"]},
                         {"w": np.full((64, 64), value, dtype=np.float32)}, {"accuracy": value})


def test_kill_9_inside_a_model_write_keeps_the_old_model_and_the_next_write_cleans_up(tmp_path):
    target = _save(tmp_path / "model", 1.0)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    result = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], capture_output=True)
    assert result.returncode == -signal.SIGKILL
    orphans = [p for p in tmp_path.iterdir() if p.name.startswith(".model.tmp-")]
    assert len(orphans) == 1  # the dead writer's folder; the model itself untouched
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    modeldir.load_config(target)
    _save(tmp_path / "model", 2.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert modeldir.load_metrics(target)["accuracy"] == 2.0


SIZE_LIMITED_SAVE = textwrap.dedent("""
    import resource, signal, sys
    import numpy as np
    from geotune import modeldir
    from geotune.errors import GeotuneError
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
    try:
        modeldir.save(sys.argv[1], {"task": "classify"}, {"w": np.zeros((100, 100), dtype=np.float32)})
    except GeotuneError as exc:
        print(type(exc).__name__, exc)
        sys.exit(2)
""")


def test_size_limit_during_save_is_a_clear_error_and_keeps_the_previous_model(tmp_path):
    target = _save(tmp_path / "model", 1.0)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    result = subprocess.run([sys.executable, "-c", SIZE_LIMITED_SAVE, str(target)], capture_output=True, text=True)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "could not write" in result.stdout and "File too large" in result.stdout
    assert str(target) in result.stdout
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_live_writers_temporary_folders_are_left_alone(tmp_path):
    import os

    busy = tmp_path / f".model.tmp-{os.getppid()}-abc"  # our parent is alive: its write may be in progress
    busy.mkdir()
    _save(tmp_path / "model", 1.0)
    assert busy.is_dir()


def test_outputs_honour_the_umask_so_colleagues_can_read_models(tmp_path):
    import os
    import stat

    from geotune._atomic import atomic_dir, atomic_file

    previous = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "table.csv") as handle:
            handle.write("a\n")
        target = _save(tmp_path / "model", 1.0)
        with atomic_dir(tmp_path / "out") as tmp:
            (tmp / "x.txt").write_text("x")
        os.umask(0o027)  # a group-shared project folder: group reads, others nothing
        with atomic_file(tmp_path / "group.csv") as handle:
            handle.write("a\n")
    finally:
        os.umask(previous)

    def mode(path):
        return stat.S_IMODE(os.stat(path).st_mode)

    assert mode(tmp_path / "table.csv") == 0o644
    assert mode(target) == 0o755 and mode(tmp_path / "out") == 0o755
    assert {mode(p) for p in target.iterdir()} == {0o644}
    assert mode(tmp_path / "group.csv") == 0o640
