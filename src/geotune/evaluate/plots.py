"""Evaluation pictures (PNG, written atomically): confusion matrix and reliability diagram (classification);
confusion matrix, IoU per class and an example section (segmentation)."""

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
    paths = [confusion_png(out_dir / "confusion_matrix.png", matrix, classes)]
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


def confusion_png(path: Path, matrix: np.ndarray, classes: Sequence[str], fractions: bool = False) -> Path:
    """Rows true class, columns predicted; with ``fractions`` each row is shown as shares of its class
    (pixel counts run to millions and would not fit in a cell)."""
    plt = _figure()
    matrix = np.asarray(matrix)
    shown = matrix / np.maximum(matrix.sum(1, keepdims=True), 1) if fractions else matrix
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * len(classes), 1.0 + 0.7 * len(classes)))
    ax.imshow(shown, cmap="Blues", vmin=0)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true" + (" (share of the class's pixels)" if fractions else ""))
    top = shown.max() if shown.size else 0
    for (i, j), value in np.ndenumerate(shown):
        ax.text(j, i, f"{value:.2f}" if fractions else str(value), ha="center", va="center",
                color="white" if value > top / 2 else "black")
    return save_figure(fig, path)


def save_segmentation_plots(out_dir: Path, metrics: dict, example: tuple | None = None) -> list[Path]:
    """confusion_matrix.png (pixel shares per true class), iou.png (IoU of each class and their mean) and,
    given ``example`` = (section, true mask, predicted mask), example.png: the section with both masks."""
    plt = _figure()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    classes = list(metrics["classes"])
    paths = [confusion_png(out_dir / "confusion_matrix.png", np.asarray(metrics["confusion_matrix"]), classes,
                           fractions=True)]
    iou = [metrics["iou"][c] for c in classes]
    fig, ax = plt.subplots(figsize=(1.5 + 0.8 * len(classes), 3.2))
    bars = ax.bar(range(len(classes)), np.nan_to_num(iou), color="C0")
    for bar, value in zip(bars, iou):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 0.01,
                "absent" if np.isnan(value) else f"{value:.2f}", ha="center", va="bottom", fontsize=8)
    ax.axhline(metrics["mean_iou"], color="C1", ls="--", lw=1, label=f"mean IoU {metrics['mean_iou']:.3f}")
    ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("IoU")
    ax.legend(loc="upper right", fontsize=8)
    paths.append(save_figure(fig, out_dir / "iou.png"))
    if example is not None:
        paths.append(example_png(out_dir / "example.png", *example, classes))
    return paths


def example_png(path: Path, section: np.ndarray, truth: np.ndarray, predicted: np.ndarray,
                classes: Sequence[str]) -> Path:
    """The section in grey with the true and the predicted classes over it, side by side, one legend."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    plt = _figure()
    colours = plt.get_cmap("tab10").colors
    cmap = ListedColormap([colours[i % 10] for i in range(len(classes))])
    section = np.asarray(section, dtype=np.float32)
    limit = float(np.percentile(np.abs(section), 99)) or 1.0
    height, width = section.shape
    fig, axes = plt.subplots(1, 2, figsize=(10, min(8.0, 1.0 + 4.5 * height / max(width, 1))), sharey=True)
    for ax, mask, title in ((axes[0], truth, "true classes"), (axes[1], predicted, "predicted classes")):
        ax.imshow(section, cmap="gray", vmin=-limit, vmax=limit, aspect="auto")
        shown = np.ma.masked_where(np.asarray(mask) == 0, mask)  # class 0 (background) left clear
        ax.imshow(shown, cmap=cmap, vmin=-0.5, vmax=len(classes) - 0.5, alpha=0.55, aspect="auto",
                  interpolation="nearest")
        ax.set_title(title)
        ax.set_xlabel("trace")
    axes[0].set_ylabel("sample (depth down)")
    handles = [Patch(color=cmap(i), label=name) for i, name in enumerate(classes) if i > 0]
    if handles:  # below both panels; the saved figure's tight box takes it in
        fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(handles), 6),
                   fontsize=8, frameon=False, title=f"{classes[0]} left clear", title_fontsize=8)
    return save_figure(fig, path)
