"""Write per-sample predictions: CSV (input order, identifying columns, predicted, one probability per
class) or .npy (probabilities), chosen by the output's extension."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

import numpy as np

from .._atomic import atomic_file
from ..errors import DataError


def write_predictions(out: str | Path, proba: np.ndarray, classes: Sequence[str], table: dict[str, list],
                      ids: Sequence[str]) -> Path:
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".npy":
        with atomic_file(out, "wb") as handle:
            np.save(handle, proba.astype(np.float32))
        write_class_order(out, classes, "probabilities, one row per input in input order, one column per class")
        return out
    if suffix != ".csv":
        raise DataError(f"unsupported output type {suffix or '(none)'} for per-sample predictions; use .csv or .npy",
                        out)
    columns = list(table) or ["id"]
    rows = table or {"id": list(ids)}
    predicted = [classes[i] for i in proba.argmax(1)]
    with atomic_file(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*columns, "predicted", "confidence", *[f"p_{c}" for c in classes]])
        for i in range(len(proba)):
            writer.writerow([*(rows[c][i] for c in columns), predicted[i], f"{proba[i].max():.6f}",
                             *(f"{p:.6f}" for p in proba[i])])
    return out


def write_class_order(out: str | Path, classes: Sequence[str], values: str) -> Path:
    """``OUT.json`` beside an ``OUT.npy``: which class each index or column means, and what the values are."""
    import json

    sidecar = Path(out).with_suffix(".json")
    with atomic_file(sidecar, "w", encoding="utf-8") as handle:
        json.dump({"classes": list(map(str, classes)), "values": values, "array": Path(out).name}, handle, indent=2)
        handle.write("\n")
    return sidecar
