"""The active-learning loop behind the page: frozen-backbone features of every item, computed once and cached
in the project; a linear-probe head retrained in the background after every N labels; the next items to
label (``fewlabels.active``: uncertainty + diversity); suspected wrong labels (``fewlabels.noise``); and a
curve of cross-validated accuracy against the number of labels.

Features are cached in chunks (PROJECT/.geotune-label/cache/), so a server killed half-way through resumes
from the last finished chunk; the head is refitted from the labels at every start, which takes well under a
second, so nothing but the labels needs to survive a restart.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from pathlib import Path

import numpy as np

from ..._atomic import atomic_file
from ...errors import GeotuneError

CHUNK = 64  # items per cached feature file: the progress step, what a restart recomputes, how long a stop waits
SEED = 0


class ChunkView:
    """Items ``start..stop`` of a dataset, as the DataLoader in ``extract_features`` wants them."""

    def __init__(self, dataset, start: int, stop: int):
        self.dataset, self.start, self.stop = dataset, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, index: int):
        return self.dataset[self.start + int(index)]


def fit_head(features: np.ndarray, y: np.ndarray, n_classes: int, reference: np.ndarray | None = None):
    """The workbench's head: power-normalised logistic regression on frozen features (the few-shot head that is
    most reliable on LANDMASS from 2 labels per class on; see fewlabels.fewshot)."""
    from ...fewlabels.fewshot import fit_fewshot

    return fit_fewshot(features, y, methods=("logistic-pt",), reference=reference, seed=SEED, n_classes=n_classes)


class Learner:
    def __init__(self, project, pool, store, on_change=None):
        self.project, self.pool, self.store = project, pool, store
        self.settings = project.settings
        self.cache_dir = project.state_dir / "cache"
        self.curve_file = project.state_dir / "curve.json"
        self.features: np.ndarray | None = None
        self.extra: dict[str, np.ndarray] = {}  # features of labelled section points (not in the pool)
        self.head = None
        self.proba: np.ndarray | None = None
        self.classes_trained: list[str] = []
        self.model_version = 0
        self.trained_on = 0  # how many labels the current head saw
        self.suspects: list[dict] = []
        self.curve: list[dict] = self._read_curve()
        self.status = {"phase": "starting", "done": 0, "total": len(pool), "message": ""}
        self._backbone = None
        self._backbone_lock = threading.Lock()
        self._infer_lock = threading.Lock()  # one forward pass at a time: extract_features moves the model
        self._wake = threading.Event()
        self._want_retrain = True
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="geotune-label-learner", daemon=True)

    # ------------------------------------------------------------------ the background worker
    def start(self) -> "Learner":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread.is_alive():  # it stops after the chunk of features or the fit in hand (seconds)
            self._thread.join(timeout=120)

    def request_retrain(self) -> None:
        self._want_retrain = True
        self._wake.set()

    def labels_changed(self, n_labels: int) -> None:
        """Called after each label: retrain once ``retrain_every`` labels have come since the last training."""
        if abs(n_labels - self.trained_on) >= int(self.settings.retrain_every):
            self.request_retrain()

    def _run(self) -> None:
        try:
            self._compute_features()
        except Exception as exc:  # shown in the page; the labels themselves keep working
            self.status = {"phase": "error", "done": 0, "total": len(self.pool), "message": _explain(exc)}
            return
        while not self._stop:
            if self._want_retrain:
                self._want_retrain = False
                try:
                    self.retrain()
                except Exception as exc:
                    self.status = {**self.status, "phase": "error", "message": _explain(exc)}
                    continue
            self._wake.wait(timeout=1.0)
            self._wake.clear()

    # ------------------------------------------------------------------ features
    def backbone(self):
        with self._backbone_lock:
            if self._backbone is None:
                from ...models.classifier import build_classifier

                self._backbone, _ = build_classifier({"backbone": self.settings.backbone, "in_chans": self.pool.channels,
                                                      "classes": ["a", "b"], "head": "linear"}, pretrained=True)
                self._backbone.eval()
            return self._backbone

    def _compute_features(self) -> None:
        from ...training.features import cache_key, cached_features

        total = len(self.pool)
        self.status = {"phase": "features", "done": 0, "total": total, "message": "computing features"}
        if total == 0:
            self.features = np.zeros((0, 1), dtype=np.float32)
            return
        base = cache_key(self.settings.backbone, self.settings.image_size, self.pool.channels, self.pool.fingerprint())
        parts = []
        for start in range(0, total, CHUNK):
            if self._stop:
                return
            stop = min(total, start + CHUNK)
            with self._infer_lock:
                parts.append(cached_features(self.backbone(), ChunkView(self.pool, start, stop), self.cache_dir,
                                             f"{base}-{start}-{stop}").numpy())
            self.status = {"phase": "features", "done": stop, "total": total, "message": "computing features"}
        self.features = np.concatenate(parts).astype(np.float32)
        self.status = {"phase": "idle", "done": total, "total": total, "message": "features ready"}

    def features_of(self, units: list[np.ndarray]) -> np.ndarray:
        """Features of a few [0, 1] C x H x W arrays (section points), resized as the pool is."""
        import torch

        from ...data.scaling import resize_batch
        from ...training.features import extract_features

        batch = np.concatenate([resize_batch(u[None], self.settings.image_size) for u in units]).astype(np.float32)
        with self._infer_lock, torch.no_grad():
            return extract_features(self.backbone(), batch).numpy()

    # ------------------------------------------------------------------ training
    def training_set(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(features, class index, items) of every label whose features are known."""
        classes = list(self.project.settings.classes)
        labels = self.store.labels()
        xs, ys, items = [], [], []
        for item, label in labels.items():
            if label not in classes:
                continue
            if item in self.pool.index:
                xs.append(self.features[self.pool.index[item]])
            elif item in self.extra:
                xs.append(self.extra[item])
            else:
                continue
            ys.append(classes.index(label))
            items.append(item)
        if not xs:
            return np.zeros((0, self.features.shape[1])), np.zeros(0, dtype=np.int64), []
        return np.stack(xs), np.asarray(ys, dtype=np.int64), items

    def add_point_features(self, item: str, unit: np.ndarray) -> None:
        if self.features is not None:
            self.extra[item] = self.features_of([unit])[0]

    def retrain(self) -> None:
        if self.features is None:
            self._want_retrain = True
            return
        from ...fewlabels.noise import suspect_scores

        started = time.perf_counter()
        self.status = {**self.status, "phase": "training", "message": "retraining"}
        x, y, items = self.training_set()
        classes = list(self.project.settings.classes)
        present = np.unique(y)
        if len(present) < 2:
            self.trained_on = len(y)  # counted, so the next try waits for N more labels
            self.status = {**self.status, "phase": "idle", "message": "label at least two classes to train"}
            return
        head = fit_head(x, y, len(classes), reference=self.features)
        proba = head.predict_proba(self.features) if len(self.features) else np.zeros((0, len(classes)))
        found = suspect_scores(x, y, seed=SEED, n_classes=len(classes))
        counts = np.bincount(y)
        checkable = counts[counts > 0].min() >= 2
        accuracy = float((found["proba"].argmax(1) == y).mean()) if checkable else None
        suspects = [{"item": items[i], "given": classes[y[i]], "suggested": classes[found["suggested"][i]],
                     "score": round(float(found["score"][i]), 4)}
                    for i in np.argsort(-found["score"], kind="stable") if found["suspect"][i]] if checkable else []
        self.head, self.proba, self.classes_trained = head, proba, classes
        self.trained_on, self.suspects = len(y), suspects
        self.model_version += 1
        if accuracy is not None:
            self.curve = [c for c in self.curve if c["labels"] != len(y)] + [
                {"labels": int(len(y)), "accuracy": round(accuracy, 4)}]
            self.curve.sort(key=lambda c: c["labels"])
            with atomic_file(self.curve_file) as handle:
                json.dump(self.curve, handle)
        seconds = time.perf_counter() - started
        self.status = {**self.status, "phase": "idle", "message": f"retrained on {len(y)} labels in {seconds:.2f} s",
                       "seconds": round(seconds, 3)}

    # ------------------------------------------------------------------ what the page asks
    def prediction(self, position: int) -> dict | None:
        proba = self.proba
        if proba is None or position >= len(proba):
            return None
        k = int(proba[position].argmax())
        return {"class": self.classes_trained[k], "confidence": round(float(proba[position, k]), 4)}

    def suggest(self, n: int) -> list[int]:
        """Pool positions of the ``n`` unlabelled items to label next, best first."""
        from ...fewlabels.active import k_center, rank_pool

        labelled = self.store.labels()
        unlabelled = np.asarray([i for i, item in enumerate(self.pool.ids) if item not in labelled], dtype=np.int64)
        if len(unlabelled) == 0:
            return []
        n = min(n, len(unlabelled))
        if self.features is None:
            return unlabelled[:n].tolist()
        if self.proba is None:  # nothing trained yet: spread the first labels over the data
            return k_center(self.features, unlabelled, n, first=0)
        chosen, _ = rank_pool(self.proba[unlabelled], self.features[unlabelled], n, "diverse")
        return unlabelled[chosen].tolist()

    def predict_units(self, units: list[np.ndarray]) -> np.ndarray | None:
        head = self.head
        if head is None or not units:
            return None
        return head.predict_proba(self.features_of(units))

    def describe(self) -> dict:
        return {**self.status, "model_version": self.model_version, "trained_on": self.trained_on,
                "retrain_every": int(self.settings.retrain_every), "curve": self.curve,
                "suspects": self.suspects[:50], "classes_trained": self.classes_trained}

    def _read_curve(self) -> list[dict]:
        try:
            return json.loads(Path(self.curve_file).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []


def _explain(exc: Exception) -> str:
    if isinstance(exc, GeotuneError):
        return str(exc)
    return f"{type(exc).__name__}: {exc} ({traceback.format_exc(limit=1).splitlines()[-1]})"
