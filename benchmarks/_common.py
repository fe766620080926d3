"""Helpers shared by the benchmark scripts: machine description, data, result files."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
SHARED = Path(os.environ.get("GEOTUNE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def machine() -> dict:
    import torch

    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    try:
        with open("/proc/cpuinfo") as handle:
            info["cpu"] = next((l.split(":", 1)[1].strip() for l in handle if l.startswith("model name")), "?")
    except OSError:
        pass
    try:
        info["load_average_at_start"] = os.getloadavg()
    except OSError:
        pass
    return info


def landmass_or_synthetic(n_per_class: int, seed: int = 0):
    """(x, labels, source): LANDMASS patches when ../shared/data has them, synthetic seismic otherwise."""
    file = SHARED / "landmass1_subset_2000" / "landmass1_subset_99x99.npz"
    rng = np.random.default_rng(seed)
    if file.is_file():
        archive = np.load(file)
        x, y, names = archive["X"], archive["y"], archive["class_names"]
        pick = np.concatenate([rng.choice(np.flatnonzero(y == c), n_per_class, replace=False) for c in range(len(names))])
        return x[pick], names[y[pick]], "LANDMASS-1 subset (../shared/data)"
    from geotune.data.synthetic import make_patches

    x, y, classes = make_patches(n_per_class, 96, seed)
    return x, np.asarray(classes)[y], "synthetic seismic patches (shared data absent)"


def write_results(name: str, payload: dict, table: list[tuple], header: tuple) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "date": time.strftime("%Y-%m-%d %H:%M"), "command": " ".join(sys.argv),
               "machine": machine(), **payload}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    lines = [f"# {name}", "", f"Command: `python {' '.join(sys.argv)}`  ", f"Machine: {payload['machine']}", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in table]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def measured_run(command: list[str], cwd: str | os.PathLike | None = None) -> tuple[float, float]:
    """Run ``command`` in a fresh process; (wall seconds, its peak RSS in MiB as the kernel counted it).

    os.wait4 reports the resources of that one child (and the children it waited for), so each size of a
    scaling benchmark is measured from a clean process, unaffected by earlier runs."""
    import subprocess
    import tempfile

    with tempfile.TemporaryFile(mode="w+") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            log.seek(0)
            raise RuntimeError(f"{' '.join(map(str, command))} failed ({process.returncode}):\n{log.read()[-3000:]}")
    return seconds, usage.ru_maxrss / 1024
