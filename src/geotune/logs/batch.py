"""A folder of LAS files read file by file, leaving out the ones that cannot be read (``--skip-bad``).

Without it one unreadable file stops the whole batch (``read_logs`` raises naming that file); with it the
readable wells are predicted and the skipped files are listed: in a warning, and beside the predictions
in ``OUT.skipped.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from .. import progress
from .._atomic import atomic_file
from ..errors import DataError
from .las import ARCHIVE_SUFFIXES, WELL, is_las_name, read_logs, warn

SKIPPED = "skipped_files"  # DataFrame.attrs key: [{"file": ..., "problem": ...}]


def read_logs_skipping_bad(path: str | os.PathLike, aliases=None) -> pd.DataFrame:
    """``read_logs(path)``, except that in a folder each unreadable file (a .las, .las.gz or .zip) is left
    out with a warning instead of stopping the batch; the frame's ``attrs["skipped_files"]`` lists them."""
    path = Path(path)
    if not path.is_dir():
        frame = read_logs(path, aliases)
        frame.attrs[SKIPPED] = []
        return frame
    files = sorted(p for p in path.rglob("*") if p.is_file() and (is_las_name(p.name)
                                                                 or p.suffix.lower() in ARCHIVE_SUFFIXES))
    if not files:
        raise DataError("folder holds no .las, .las.gz or .zip files", path)
    frames, skipped = [], []
    for i, file in enumerate(files, 1):
        progress.stage(f"reading wells ({file.name})", i, len(files))
        try:
            frames.append((file, read_logs(file, aliases)))
        except DataError as exc:
            skipped.append({"file": str(file), "problem": exc.message})
    if not frames:
        raise DataError(f"none of the {len(files)} log files could be read; the first: {skipped[0]['problem']}",
                        skipped[0]["file"])
    if skipped:
        names = "; ".join(f"{Path(s['file']).name} ({s['problem']})" for s in skipped)
        warn(f"left out {len(skipped)} unreadable file(s) of {len(files)}; the other wells are predicted: {names}",
             path)
    frame = pd.concat(_distinct_wells(frames), ignore_index=True, sort=False)
    frame.attrs[SKIPPED] = skipped
    return frame


def _distinct_wells(frames: list[tuple[Path, pd.DataFrame]]) -> list[pd.DataFrame]:
    """Two files naming the same well stay two wells (as when read together): the later is renamed."""
    seen: set[str] = set()
    out = []
    for file, frame in frames:
        if WELL in frame.columns and len(frame):
            for well in frame[WELL].astype(str).unique():
                if well in seen:
                    renamed = f"{well} ({file.name})"
                    frame.loc[frame[WELL].astype(str) == well, WELL] = renamed
                    warn(f"well name {well!r} is also used by another file; this one is called {renamed!r}", file)
                seen.add(well)
        out.append(frame)
    return out


def write_skipped(out: str | os.PathLike, frame: pd.DataFrame) -> Path | None:
    """``OUT.skipped.json`` beside the predictions when files were skipped; else None, and an earlier
    run's list for the same output is removed (it would describe predictions that no longer exist)."""
    skipped = frame.attrs.get(SKIPPED) or []
    target = skipped_file(out)
    if not skipped:
        target.unlink(missing_ok=True)
        return None
    with atomic_file(target) as handle:
        json.dump({"predictions": Path(out).name, "skipped": skipped}, handle, indent=2)
    return target


def skipped_file(out: str | os.PathLike) -> Path:
    return Path(out).with_suffix(".skipped.json")
