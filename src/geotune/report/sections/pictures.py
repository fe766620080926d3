"""Every PNG a run wrote (its own plots, an evaluation's plots) that no other section already showed."""

from __future__ import annotations

from pathlib import Path

from .markup import esc, img

TITLE = "Pictures in the run folder"
MAX_BYTES = 8 << 20  # a report stays loadable; larger pictures are listed, not embedded


def run_pngs(run) -> list[Path]:
    """PNGs in the run folder, its model folder and one level of sub-folders (evaluation/, ...)."""
    found: list[Path] = []
    for folder in [run.run_dir, *sorted(p for p in run.run_dir.iterdir() if p.is_dir() and not p.name.startswith("."))]:
        if folder.name in ("checkpoints", "cache", "logs"):
            continue
        found += sorted(folder.glob("*.png"))
    return found


def applies(run) -> bool:
    return bool(_remaining(run))


def _remaining(run) -> list[Path]:
    shown = run.cache.setdefault("shown_files", set())
    return [p for p in run_pngs(run) if p.resolve() not in shown]


def render(run) -> list[tuple[str, str]]:
    parts = []
    for file in _remaining(run):
        label = esc(file.relative_to(run.run_dir))
        if file.stat().st_size > MAX_BYTES:
            parts.append(f"<p>{label}: too large to embed ({file.stat().st_size >> 20} MiB)</p>")
            continue
        parts.append(f"<h3>{label}</h3>" + img(file.read_bytes(), str(label)))
    return [(TITLE, "".join(parts))]


def mark_shown(run, *files: Path) -> None:
    run.cache.setdefault("shown_files", set()).update(f.resolve() for f in files)
