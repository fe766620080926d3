"""The label store: PROJECT/labels.csv (path, label, item, who, when), rewritten atomically on every change.

Every change runs under a lock held across threads (browser tabs, parallel requests) and processes (an
``fcntl`` lock file), re-reads the file when another process changed it, and replaces it in one rename: a
reader or a crash sees the old file or the new one, never half of one. The CSV is an ordinary classify
manifest (``path`` relative to it, ``label``), so ``geotune train --data PROJECT/labels.csv`` trains on it.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import threading
from datetime import datetime, timezone
from pathlib import Path

from ..._atomic import atomic_file
from ...errors import DataError

COLUMNS = ("path", "label", "item", "who", "when")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class LabelStore:
    def __init__(self, csv_path: Path, lock_path: Path):
        self.path, self.lock_path = Path(csv_path), Path(lock_path)
        self._thread_lock = threading.RLock()
        self._rows: dict[str, dict] = {}
        self._stamp = None
        self.version = 0  # bumped on every change: the learner retrains when it has moved on far enough
        with self.locked():
            pass

    @contextlib.contextmanager
    def locked(self):
        """Exclusive access to the file for this thread and process; the rows are fresh inside."""
        with self._thread_lock:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.lock_path, "a+") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    self._refresh()
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._rows, self._stamp = {}, None
            return
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp == self._stamp:
            return
        try:
            with open(self.path, newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise DataError(f"cannot be read ({exc})", self.path) from exc
        missing = [c for c in ("path", "label", "item") if rows and c not in rows[0]]
        if missing:
            raise DataError(f"lacks the column(s) {', '.join(missing)} of a label store", self.path)
        self._rows = {row["item"]: {c: row.get(c) or "" for c in COLUMNS} for row in rows}
        self._stamp = stamp
        self.version += 1

    def _write(self) -> None:
        with atomic_file(self.path, newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(self._rows.values())
        stat = self.path.stat()
        self._stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        self.version += 1

    def set(self, item: str, label: str, path: str, who: str) -> dict | None:
        """Label ``item`` (its training file at ``path``); returns the row it replaced, for undo."""
        with self.locked():
            previous = self._rows.get(item)
            self._rows.pop(item, None)  # re-labelled items move to the end: the file lists labels in order made
            self._rows[item] = {"path": path, "label": label, "item": item, "who": who, "when": utc_now()}
            self._write()
            return previous

    def restore(self, item: str, row: dict | None) -> None:
        """Put back what ``set`` returned (undo): the old row, or no label at all."""
        with self.locked():
            if row is None:
                self._rows.pop(item, None)
            else:
                self._rows[item] = {c: row.get(c, "") for c in COLUMNS}
            self._write()

    def remove(self, item: str) -> dict | None:
        with self.locked():
            previous = self._rows.pop(item, None)
            if previous is not None:
                self._write()
            return previous

    def rows(self) -> list[dict]:
        with self.locked():
            return [dict(row) for row in self._rows.values()]

    def labels(self) -> dict[str, str]:
        """item -> label, in the order the labels were made."""
        with self.locked():
            return {item: row["label"] for item, row in self._rows.items()}
