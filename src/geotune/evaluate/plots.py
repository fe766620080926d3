"""Evaluation pictures: confusion matrix and reliability diagram (PNG, written atomically)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .metrics import reliability_curve


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> Path:
    from .._atomic import atomic_file

    with atomic_file(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=110, bbox_inches="tight")
    _figure().close(fig)
    return path


def save_evaluation_plots(out_dir: Path, y_true: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> list[Path]:
    from sklearn.metrics import confusion_matrix

    plt = _figure()
    out_dir.mkdir(parents=True, exist_ok=True)
    matrix = confusion_matrix(y_true, proba.argmax(1), labels=list(range(len(classes))))
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * len(classes), 1.0 + 0.7 * len(classes)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center", color="white" if value > matrix.max() / 2 else "black")
    paths = [save_figure(fig, out_dir / "confusion_matrix.png")]
    rows = reliability_curve(y_true, proba)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    if rows:
        centres, accuracy, confidence, counts = zip(*rows)
        ax.bar(centres, accuracy, width=0.09, alpha=0.7, label="accuracy")
        ax.plot(confidence, accuracy, "o-", color="C1", label="accuracy vs confidence")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    paths.append(save_figure(fig, out_dir / "reliability.png"))
    return paths
