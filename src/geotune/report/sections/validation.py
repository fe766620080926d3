"""The classify run's validation split, rebuilt from the training data named in config.json.

``train_val_split`` with the saved labels, seed, validation fraction and groups gives back the exact
samples the model was validated on, so examples and mistakes shown are ones it never trained on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import GeotuneError


@dataclass
class Validation:
    model: object  # ImageClassifier
    samples: object  # SampleSet of the validation split
    y: np.ndarray  # true class indices
    proba: np.ndarray
    train_counts: dict[str, int]
    val_counts: dict[str, int]
    wanted: set = field(default_factory=set)  # samples some section will explain
    _heat: dict = field(default_factory=dict)

    def heat(self, indices) -> np.ndarray:
        """Grad-CAM maps (for the predicted class) of validation samples ``indices``, computed in one pass
        for every sample any section asked for, so the model runs backwards once per report."""
        from ...evaluate.explain import gradcam

        todo = sorted((self.wanted | {int(i) for i in indices}) - set(self._heat))
        if todo:
            maps = gradcam(self.model.model, self.samples.x[todo], targets=self.proba[todo].argmax(1))
            self._heat.update(zip(todo, maps))
        return np.stack([self._heat[int(i)] for i in indices]) if len(indices) else np.zeros((0, 1, 1))


def find_path(value: str | None, run) -> Path | None:
    """A path as saved: absolute, or relative to where training ran. That folder is known from the saved
    ``--out`` (``runs/patches`` trained in X lives at X/runs/patches); the current folder is tried too."""
    if not value:
        return None
    candidates = [Path(value)]
    out = Path((run.config.get("train") or {}).get("out") or ".")
    here = run.run_dir.resolve().parts
    if not Path(value).is_absolute() and not out.is_absolute() and out.parts and here[-len(out.parts):] == out.parts:
        candidates.append(Path(*here[:-len(out.parts)]) / value)
    candidates.append(run.run_dir.parent / value)
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return None


def load(run) -> Validation | None:
    """The validation split with predictions, or None (with a note on the run saying why)."""
    if "validation" in run.cache:
        return run.cache["validation"]
    run.cache["validation"] = None
    train = run.config.get("train") or {}
    data, labels = find_path(train.get("data"), run), find_path(train.get("labels"), run)
    if data is None or (train.get("labels") and labels is None):
        missing = train.get("data") if data is None else train.get("labels")
        run.notes.append(f"Training data not found at {missing!r} (moved, or trained on another machine): "
                         "examples, mistakes and explanations need it; shown below is what the model folder holds.")
        return None
    if (run.metrics.get("search") or {}).get("cross_validated"):  # --strategy auto on tiny data
        run.notes.append("The model trained on every labelled sample (its score comes from cross-validation), so "
                         "no held-out samples are left to show as examples or mistakes.")
        return None
    try:
        run.cache["validation"] = _split(run, data, labels, train)
    except GeotuneError as exc:
        run.notes.append(f"Training data at {data} could not be read again ({exc}); "
                         "shown below is what the model folder holds.")
    return run.cache["validation"]


def _split(run, data: Path, labels: Path | None, train: dict) -> Validation:
    from ...api import load_model
    from ...data.samples import load_samples
    from ...data.splits import train_val_split
    from ...errors import DataError

    model = load_model(run.model_dir)
    if train.get("group_by"):  # the model's reader has no groups; the same reader with them
        samples = load_samples(data, labels, int(model.config["image_size"]), require_labels=True,
                               scaling=model.config.get("scaling"), group_by=train["group_by"],
                               channels=int(model.config["in_chans"]),
                               jpeg_draft=bool(model.config.get("jpeg_draft", False)))
    else:
        samples = model.read(data, labels, require_labels=True)
    index = {c: i for i, c in enumerate(model.classes)}
    unknown = sorted(set(samples.labels.tolist()) - set(index))
    if unknown:
        raise DataError(f"has labels the model does not know ({', '.join(unknown[:5])}): the data changed since "
                        "training", data)
    y = np.asarray([index[v] for v in samples.labels], dtype=np.int64)
    saved = saved_split(run.model_dir, len(y))
    if saved is not None:
        val_idx = saved
        train_idx = np.setdiff1d(np.arange(len(y)), val_idx)
    else:  # model folders from before the split was saved
        train_idx, val_idx = train_val_split(y, float(train.get("val_split", 0.2)), int(train.get("seed", 42)),
                                             samples.groups)
    if run.config.get("n_val") not in (None, len(val_idx)):
        run.notes.append(f"The validation split rebuilt from {data} has {len(val_idx)} samples, training had "
                         f"{run.config['n_val']}: the data changed since training, so examples may include "
                         "training samples.")
    val = samples.subset(val_idx)
    proba = model.predict_proba(val, engine="torch")
    counts = lambda idx: {c: int((y[idx] == i).sum()) for i, c in enumerate(model.classes)}  # noqa: E731
    return Validation(model, val, y[val_idx], proba, counts(train_idx), counts(val_idx))


def saved_split(model_dir, n_samples: int) -> np.ndarray | None:
    """The validation indices training saved (``validation_split.json``), or None when the folder predates it or
    the data now has another number of samples (then the split is rebuilt, with a note)."""
    import json

    from ...modeldir import VALIDATION_SPLIT

    path = Path(model_dir) / VALIDATION_SPLIT
    if not path.is_file():
        return None
    split = json.loads(path.read_text())
    if int(split.get("n_samples", -1)) != n_samples:
        return None
    return np.asarray(split["val_indices"], dtype=np.int64)
