"""Predict an uploaded file with a run's model: images and arrays (classify), sections (segment), logs CSV.

Everything the user sent is checked before a model sees it; what cannot be read becomes a
``DataError`` whose message the page shows as it is.
"""

from __future__ import annotations

import re
import tempfile
import textwrap
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError, GeotuneError
from ..tasks import all_tasks, get_task, resolve

SEGY_SUFFIXES = {".sgy", ".segy"}
MAX_SAMPLES = 16  # predictions shown on the page per upload (the JSON API returns them all)
MESSAGE_CHARS = 400  # a library's message quoted in an error: long enough to say what is wrong


def predicting_tasks() -> list[str]:
    """Tasks whose registry entry gives the web app a handler and the upload types it takes."""
    return [t.name for t in all_tasks() if t.web_handler and t.web_inputs]


@dataclass
class Sample:
    name: str
    predicted: str
    probabilities: dict[str, float]
    pictures: dict[str, bytes] = field(default_factory=dict)  # caption -> PNG


@dataclass
class Result:
    run: str
    task: str
    filename: str
    samples: list[Sample]
    n_total: int
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"run": self.run, "task": self.task, "file": self.filename, "n_predictions": self.n_total,
                "notes": self.notes,
                "predictions": [{"name": s.name, "predicted": s.predicted, "probabilities": s.probabilities}
                                for s in self.samples]}


def quoted(message: object, width: int = MESSAGE_CHARS) -> str:
    """A library's error message for a web page, shortened at a word boundary if it is very long."""
    return textwrap.shorten(str(message), width, placeholder=" ...")


def safe_suffix(filename: str) -> str:
    """The upload's extension, lower case; the name itself is never used as a path."""
    suffix = Path(filename.replace("\\", "/")).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,6}", suffix) else ""


def predict_upload(model, task: str, run_name: str, filename: str, payload: bytes,
                   limit: int | None = MAX_SAMPLES) -> Result:
    """Predict ``payload``; ``limit`` samples with pictures (a page), or every prediction without (``None``: JSON)."""
    suffix = safe_suffix(filename)
    if task not in predicting_tasks():
        raise DataError(f"run {run_name} is a {task} run; the web app predicts with "
                        f"{', '.join(predicting_tasks())} runs")
    accepted = get_task(task).web_inputs
    if suffix not in accepted:
        raise DataError(f"{task} models take {', '.join(sorted(accepted))} files, not {suffix or 'a file without extension'}",
                        filename)
    if not payload:
        raise DataError("the uploaded file is empty", filename)
    with tempfile.TemporaryDirectory(prefix="geotune-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(payload)
        handler = resolve(get_task(task).web_handler)
        try:
            # readers warn about what they had to guess (missing curves, no depth column): show it on the page
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = handler(model, run_name, filename, path, limit)
        except GeotuneError as exc:  # name the user's file, not the temporary copy
            raise DataError(str(exc).replace(str(path), filename)) from None
    warned = [str(w.message).replace(str(path), filename) for w in caught  # about the file, not the libraries
              if w.category.__module__.startswith("geotune") or str(path) in str(w.message)]
    result.notes = list(dict.fromkeys(warned)) + result.notes
    return result


def _load_npy(path: Path, filename: str) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"is not a readable .npy array ({quoted(exc)})", filename) from exc
    if not np.issubdtype(array.dtype, np.number) or array.ndim < 2:
        raise DataError(f"holds a {array.ndim}-D {array.dtype} array; expected an image-like numeric array", filename)
    return array


def predict_classify(model, run_name: str, filename: str, path: Path, limit: int | None) -> Result:
    from ..evaluate.explain import as_rgb, gradcam, overlay
    from ..report.sections.markup import array_png

    if path.suffix == ".npy":
        array = _load_npy(path, filename)
        if array.ndim == 2:  # one section or patch
            np.save(path, array[None])
    samples = model.read(path)
    total = len(samples)
    shown = samples if limit is None else samples.subset(range(min(total, limit)))
    proba = model.predict_proba(shown, engine="torch")
    predicted = proba.argmax(1)
    heat = None if limit is None else gradcam(model.model, shown.x, targets=predicted)
    out = []
    for i in range(len(shown)):
        name = filename if total == 1 else f"{filename}[{i}]"
        pictures = {} if heat is None else {"input": array_png(as_rgb(shown.x[i])),
                                            "where it looked (Grad-CAM)": array_png(overlay(shown.x[i], heat[i]))}
        out.append(Sample(name, model.classes[predicted[i]],
                          {c: round(float(p), 4) for c, p in zip(model.classes, proba[i])}, pictures))
    notes = [f"showing the first {limit} of {total} samples; /api/predict returns all of them"
             ] if limit is not None and total > limit else []
    return Result(run_name, "classify", filename, out, total, notes)


def predict_segment(model, run_name: str, filename: str, path: Path, limit: int | None) -> Result:
    from ..report.sections.segment import section_panel_png

    if path.suffix in SEGY_SUFFIXES:
        from ..data.seismic import read_sections

        sections = read_sections(path)
    else:
        sections = _load_npy(path, filename)
    sections = np.asarray(sections, dtype=np.float32)
    if sections.ndim == 2:
        sections = sections[None]
    total = len(sections)
    chosen = sections if limit is None else sections[:1]  # the page draws one section; the API scores all
    classes = list(model.classes)
    samples = []
    for i, labels in enumerate(model.predict_proba(chosen).argmax(1)):
        share = {c: round(float((labels == k).mean()), 4) for k, c in enumerate(classes)}
        pictures = {} if limit is None else {
            "section and prediction": section_panel_png(chosen[i] if chosen.ndim == 3 else chosen[i, 0], labels,
                                                        classes)}
        samples.append(Sample(f"{filename} section {i}", max(share, key=share.get), share, pictures))
    notes = ["probabilities here are the share of the section's pixels given each class"]
    if len(samples) < total:
        notes.append(f"showing the first of {total} sections; /api/predict returns all of them")
    return Result(run_name, "segment", filename, samples, total, notes)


def predict_logs(model, run_name: str, filename: str, path: Path, limit: int | None) -> Result:
    proba = model.predict_proba(path)
    classes = list(model.classes)
    predicted = proba.argmax(1)
    rows = [Sample(f"row {i + 1}", classes[predicted[i]], {c: round(float(p), 4) for c, p in zip(classes, proba[i])})
            for i in range(len(proba) if limit is None else min(len(proba), limit))]
    notes = [f"showing the first {limit} of {len(proba)} rows; /api/predict returns all of them"
             ] if len(rows) < len(proba) else []
    share = {c: int((predicted == k).sum()) for k, c in enumerate(classes)}
    notes.append("facies counts over all rows: " + ", ".join(f"{c} {n}" for c, n in share.items()))
    return Result(run_name, "logs", filename, rows, len(proba), notes)
