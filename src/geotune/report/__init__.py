"""`geotune report`: one self-contained HTML page (images embedded) that shows what a run learned.

The page is made of sections. Which sections appear depends on what the run folder holds: its
config.json task and the files present. Each kind of section is a small module in ``sections``
with ``applies(run)`` and ``render(run) -> list of (title, html)``; a new kind of run adds a module there.
"""

from __future__ import annotations

import datetime
import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import modeldir
from .._atomic import atomic_file
from ..errors import DataError, GeotuneError


@dataclass
class Run:
    """What a report knows about a run folder; sections add to ``cache`` what others can reuse."""

    run_dir: Path
    model_dir: Path | None
    config: dict[str, Any]
    metrics: dict[str, Any]
    kind: str  # the config's task ("classify", "segment", "logs", "prospect") or "plan" / "unknown"
    notes: list[str] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    max_examples: int = 4  # examples per class and explained samples per class
    max_mistakes: int = 8

    @property
    def name(self) -> str:
        return self.run_dir.resolve().name


def inspect_run(path: str | os.PathLike) -> Run:
    """Find the run folder and its model folder (``RUN`` or ``RUN/model``), a plan folder, or refuse."""
    path = Path(path)
    if not path.exists():
        raise DataError("no such run folder", path)
    if not path.is_dir():
        raise DataError("is not a folder; give a run folder (RUN or RUN/model)", path)
    try:
        model_dir = modeldir.resolve(path)
    except GeotuneError:
        model_dir = None
    if model_dir is not None:
        run_dir = model_dir.parent if model_dir.name == "model" else model_dir  # RUN/model lives in RUN
        config = _read_json(model_dir / modeldir.CONFIG)
        metrics = _read_json(model_dir / modeldir.METRICS) if (model_dir / modeldir.METRICS).is_file() else {}
        return Run(run_dir, model_dir, config, metrics, str(config.get("task", "unknown")))
    if (path / "plan.csv").is_file() or (path / "runs.csv").is_file():
        summary = _read_json(path / "summary.json") if (path / "summary.json").is_file() else {}
        return Run(path, None, summary, {}, "plan")
    if any(path.glob("*.png")) or (path / "metrics.json").is_file():
        metrics = _read_json(path / "metrics.json") if (path / "metrics.json").is_file() else {}
        return Run(path, None, {}, metrics, "unknown")
    raise DataError("is not a geotune run: no model/config.json, plan.csv, metrics.json or PNG pictures here", path)


def _read_json(file: Path) -> dict:
    try:
        value = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"is not valid JSON ({exc})", file) from exc
    return value if isinstance(value, dict) else {"value": value}


def render_report(path: str | os.PathLike, max_examples: int = 4, max_mistakes: int = 8) -> str:
    """The report of the run at ``path`` as one HTML string (no external files or links needed)."""
    from .sections import SECTIONS
    from .sections.markup import page

    run = inspect_run(path)
    run.max_examples, run.max_mistakes = max_examples, max_mistakes
    blocks: list[tuple[str, str]] = []
    shown = task_sections(run.kind)
    for section in SECTIONS:
        name = section.__name__.rsplit(".", 1)[-1]
        if name in task_sections(None) and name not in shown:
            continue  # a task's own panels appear only for the tasks that declare them in the registry
        if not section.applies(run):
            continue
        try:
            blocks.extend(section.render(run))
        except GeotuneError as exc:  # one section's missing input must not cost the whole report
            blocks.append((section.TITLE, f"<p class='note'>{html.escape(str(exc))}</p>"))
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return page(f"geotune report: {run.name}", f"{run.kind} run at {run.run_dir} · written {stamp}", blocks,
                run.notes)


def task_sections(kind: str | None) -> set[str]:
    """Report sections the registry gives task ``kind``; ``None``: those any task declares."""
    from ..tasks import all_tasks

    return {name for task in all_tasks() if kind is None or task.name == kind for name in task.report_sections}


def write_report(path: str | os.PathLike, out: str | os.PathLike | None = None, **options: Any) -> Path:
    """Write the report (default ``RUN/report.html``) atomically; returns its path."""
    text = render_report(path, **options)
    target = Path(out) if out else inspect_run(path).run_dir / "report.html"
    with atomic_file(target, "w", encoding="utf-8") as handle:
        handle.write(text)
    target.chmod(0o644)  # a report is for sharing; the temporary file it came from was private
    return target
