"""The runs a web app shows: found once at start from the folders given, addressed by number only.

URLs carry a run's number and a file's name from the run's own listing, never a path, so nothing
outside the listed runs can be asked for.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ..errors import GeotuneError
from ..report import Run, inspect_run, render_report
from ..report.sections.pictures import run_pngs



class Catalog:
    def __init__(self, paths: list[str | os.PathLike]):
        self.runs: list[Run] = []
        self.skipped: list[str] = []
        seen: set[Path] = set()
        for path in paths:
            for run in _find_runs(Path(path), self.skipped):
                if run.run_dir.resolve() not in seen:
                    seen.add(run.run_dir.resolve())
                    self.runs.append(run)
        self._models: dict[int, object] = {}
        self._reports: dict[int, str] = {}
        self.lock = threading.Lock()  # one model call at a time: torch already uses every core

    def get(self, index: str) -> Run | None:
        if not index.isdigit() or int(index) >= len(self.runs):
            return None
        return self.runs[int(index)]

    def pictures(self, run: Run) -> dict[str, Path]:
        """PNG name (relative to the run folder, '/' separated) -> file."""
        return {p.relative_to(run.run_dir).as_posix(): p for p in run_pngs(run)}

    def model(self, index: int):
        from ..api import load_model

        if index not in self._models:
            self._models[index] = load_model(self.runs[index].model_dir)
        return self._models[index]

    def report(self, index: int, fresh: bool = False) -> str:
        if fresh or index not in self._reports:
            self._reports[index] = render_report(self.runs[index].run_dir)
        return self._reports[index]


def _find_runs(path: Path, skipped: list[str]) -> list[Run]:
    """A run folder, or a folder of run folders (one level down, e.g. runs/)."""
    try:
        return [inspect_run(path)]
    except GeotuneError as exc:
        if not path.is_dir():
            skipped.append(str(exc))
            return []
    found = []
    for child in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            found.append(inspect_run(child))
        except GeotuneError:
            continue
    if not found:
        skipped.append(f"{path}: no geotune runs here or in its sub-folders")
    return found
