"""One open project and everything the routes do with it: label, undo, cut patches at points on slices,
brush masks, read slices and thumbnails. The routes (``app.py``) only translate HTTP to these calls.

Opening a project takes an exclusive lock on PROJECT/.geotune-label/server.lock: a second workbench on the
same folder is refused with a clear message instead of racing the first one.
"""

from __future__ import annotations

import fcntl
import itertools
import re
import threading
from collections import OrderedDict

import numpy as np

from ...errors import ConfigError, DataError
from .learner import Learner
from .masks import MaskStore, mask_png, rgba_png
from .pool import Pool, png_bytes, write_patch_png
from .project import Project
from .store import LabelStore
from .volumes import AXES, Volume, colour_png, cut_patch

PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
POINT_ITEM = re.compile(r"^(?P<source>.+)@(?P<axis>inline|crossline|time)(?P<index>\d+):r(?P<row>\d+):c(?P<col>\d+)$")
UNDO_DEPTH = 200


def colour(k: int) -> tuple[int, int, int]:
    return PALETTE[k % len(PALETTE)]


class Workbench:
    def __init__(self, root, who: str = "", start_learner: bool = True, **settings):
        self.project = Project(root, **settings)
        self._server_lock = open(self.project.state_dir / "server.lock", "a+")
        try:
            fcntl.flock(self._server_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._server_lock.close()
            raise ConfigError("another geotune label is already serving this project; stop it first",
                              self.project.root) from None
        try:
            self._open(who)
        except BaseException:
            self._server_lock.close()  # releases the lock: the folder can be opened again once fixed
            raise
        if start_learner:
            self.learner.start()

    def _open(self, who: str) -> None:
        self.who = who
        self.pool = Pool(self.project, self.project.settings.image_size)
        self.store = LabelStore(self.project.labels_csv, self.project.state_dir / "labels.lock")
        self.masks = MaskStore(self.project.root)
        self.learner = Learner(self.project, self.pool, self.store)
        self._volumes: dict[str, Volume] = {}
        self._volumes_lock = threading.Lock()
        self._undo: OrderedDict[int, tuple] = OrderedDict()
        self._undo_ids = itertools.count(1)
        self._undo_lock = threading.Lock()
        self._prediction_cache: OrderedDict[tuple, bytes] = OrderedDict()
        for label in set(self.store.labels().values()):  # labels made before a class was known (hand-edited CSV)
            if label not in self.project.settings.classes:
                self.project.add_class(label)

    def close(self) -> None:
        self.learner.stop()
        for volume in self._volumes.values():
            volume.close()
        fcntl.flock(self._server_lock, fcntl.LOCK_UN)
        self._server_lock.close()

    # ------------------------------------------------------------------ state
    def state(self) -> dict:
        labels = self.store.labels()
        classes = self.project.settings.classes
        counts = {c: 0 for c in classes}
        for label in labels.values():
            counts[label] = counts.get(label, 0) + 1
        sources = []
        for source in self.project.sources:
            entry = {"name": source.name, "kind": source.kind, "count": source.count}
            if source.kind == "volume":
                try:
                    entry.update(self.volume(source.name).describe())
                except DataError as exc:
                    entry["error"] = str(exc)
            sources.append(entry)
        return {"project": self.project.root.name, "classes": classes,
                "colours": ["#%02x%02x%02x" % colour(k) for k in range(len(classes))],
                "counts": counts, "labelled": len(labels), "items": len(self.pool), "sources": sources,
                "patch_size": self.project.settings.patch_size, "learner": self.learner.describe()}

    def describe_item(self, position: int, labels: dict | None = None) -> dict:
        item = self.pool.ids[position]
        labels = self.store.labels() if labels is None else labels
        return {"item": item, "label": labels.get(item), "prediction": self.learner.prediction(position)}

    def next_items(self, n: int) -> list[dict]:
        labels = self.store.labels()
        return [self.describe_item(p, labels) for p in self.learner.suggest(max(1, min(int(n), 100)))]

    def items(self, offset: int, limit: int, which: str) -> dict:
        labels = self.store.labels()
        if which == "labelled":
            positions = [self.pool.index[i] for i in labels if i in self.pool.index]
        elif which == "unlabelled":
            positions = [p for p, i in enumerate(self.pool.ids) if i not in labels]
        else:
            positions = list(range(len(self.pool)))
        chosen = positions[max(0, offset):max(0, offset) + max(1, min(limit, 500))]
        return {"total": len(positions), "items": [self.describe_item(p, labels) for p in chosen]}

    def thumbnail(self, item: str, size: int = 160) -> bytes:
        match = POINT_ITEM.match(item)
        if item not in self.pool.index and match:
            return png_bytes(self._point_patch(match)[0], size)
        return png_bytes(self.pool.unit(self.pool.position(item)), max(16, min(int(size), 512)))

    # ------------------------------------------------------------------ labels
    def check_class(self, label: str) -> str:
        if label not in self.project.settings.classes:
            raise DataError(f"unknown class {label!r}; add it first (known: {', '.join(self.project.settings.classes)})")
        return label

    def label(self, item: str, label: str, who: str | None = None) -> dict:
        self.check_class(label)
        position = self.pool.position(item)
        kind, where, index = self.pool.refs[position]
        path = item if kind == "image" else write_patch_png(self.project.root, item, self.pool.unit(position))
        previous = self.store.set(item, label, path, who or self.who)
        self.learner.labels_changed(len(self.store.labels()))
        return {"undo": self._remember(("label", item, previous)), "item": item, "label": label}

    def unlabel(self, item: str) -> dict:
        previous = self.store.remove(item)
        return {"undo": self._remember(("label", item, previous)), "item": item}

    def label_point(self, source: str, axis: str, index: int, row: int, col: int, label: str,
                    who: str | None = None) -> dict:
        """Label the patch centred on a clicked point of a slice: its PNG is written, so it trains like any patch."""
        self.check_class(label)
        self.volume(source)  # refuses unknown sources and non-volumes
        item = f"{source}@{axis}{int(index)}:r{int(row)}:c{int(col)}"
        unit, _ = self._point_patch(POINT_ITEM.match(item))
        path = write_patch_png(self.project.root, item, unit)
        previous = self.store.set(item, label, path, who or self.who)
        self.learner.add_point_features(item, unit)
        self.learner.labels_changed(len(self.store.labels()))
        return {"undo": self._remember(("label", item, previous)), "item": item, "label": label}

    def _point_patch(self, match) -> tuple[np.ndarray, tuple[int, int]]:
        if match is None:
            raise DataError("not a point on a slice")
        volume = self.volume(match["source"])
        values = volume.slice(match["axis"], int(match["index"]))
        patch, corner = cut_patch(values, int(match["row"]), int(match["col"]), int(self.project.settings.patch_size))
        return volume.unit(patch)[None], corner

    def points(self, source: str, axis: str, index: int) -> list[dict]:
        out = []
        for item, label in self.store.labels().items():
            match = POINT_ITEM.match(item)
            if match and match["source"] == source and match["axis"] == axis and int(match["index"]) == index:
                out.append({"item": item, "label": label, "row": int(match["row"]), "col": int(match["col"])})
        return out

    def stroke(self, source: str, axis: str, index: int, label: str, radius: float, points: list,
               who: str | None = None) -> dict:
        value = 0 if label == "" else self.project.settings.classes.index(self.check_class(label)) + 1
        shape = self.volume(source).slice(axis, index).shape
        stroke_id = self.masks.stroke(source, axis, index, shape, value, radius, points, who or self.who)
        return {"undo": self._remember(("stroke", stroke_id))}

    def undo(self, undo_id: int) -> dict:
        with self._undo_lock:
            entry = self._undo.pop(int(undo_id), None)
        if entry is None:
            raise DataError("nothing to undo under that id (the server was restarted, or it was undone already)")
        if entry[0] == "label":
            self.store.restore(entry[1], entry[2])
            self.learner.labels_changed(len(self.store.labels()))
            return {"undone": "label", "item": entry[1], "label": entry[2]["label"] if entry[2] else None}
        self.masks.undo(entry[1])
        return {"undone": "stroke"}

    def _remember(self, entry: tuple) -> int:
        with self._undo_lock:
            undo_id = next(self._undo_ids)
            self._undo[undo_id] = entry
            while len(self._undo) > UNDO_DEPTH:
                self._undo.popitem(last=False)
            return undo_id

    # ------------------------------------------------------------------ slices
    def volume(self, name: str) -> Volume:
        source = self.project.source(name)
        if source.kind != "volume":
            raise DataError(f"{name!r} is a set of {source.kind}, not a volume", self.project.root)
        with self._volumes_lock:
            if name not in self._volumes:
                self._volumes[name] = Volume(self.project.inside(name))
            return self._volumes[name]

    def slice_png(self, source: str, axis: str, index: int, colour_map: str) -> bytes:
        volume = self.volume(source)
        return colour_png(volume.unit(volume.slice(axis, index)), colour_map)

    def slice_mask_png(self, source: str, axis: str, index: int) -> bytes:
        shape = self.volume(source).slice(axis, index).shape
        classes = self.project.settings.classes
        return mask_png(self.masks.read(source, axis, index, shape), [colour(k) for k in range(len(classes))])

    def slice_prediction_png(self, source: str, axis: str, index: int) -> bytes | None:
        """The model's class per patch of the slice (half-overlapping patches), opacity = confidence; None
        before the first training."""
        if self.learner.head is None:
            return None
        key = (source, axis, int(index), self.learner.model_version)
        if key in self._prediction_cache:
            return self._prediction_cache[key]
        volume = self.volume(source)
        values = volume.slice(axis, index)
        size = int(self.project.settings.patch_size)
        step = max(1, size // 2)
        h, w = values.shape
        rows = list(range(0, max(1, h - size + 1), step))
        cols = list(range(0, max(1, w - size + 1), step))
        units = [volume.unit(values[r:r + size, c:c + size])[None] for r in rows for c in cols]
        proba = self.learner.predict_units(units)
        if proba is None:
            return None
        votes = np.zeros((h, w, proba.shape[1]), dtype=np.float32)
        for (r, c), p in zip([(r, c) for r in rows for c in cols], proba):
            votes[r:r + size, c:c + size] += p
        votes /= np.maximum(votes.sum(-1, keepdims=True), 1e-6)
        best = votes.argmax(-1)
        rgba = np.zeros((h, w, 4), dtype=np.uint8)
        for k in range(proba.shape[1]):
            rgba[best == k, :3] = colour(k)
        rgba[..., 3] = (np.clip(votes.max(-1), 0, 1) * 90).astype(np.uint8)  # the seismic stays readable beneath
        png = rgba_png(rgba)
        self._prediction_cache[key] = png
        while len(self._prediction_cache) > 32:
            self._prediction_cache.popitem(last=False)
        return png


def check_axis(axis: str) -> str:
    if axis not in AXES:
        raise DataError(f"axis must be one of {', '.join(AXES)}, got {axis!r}")
    return axis
