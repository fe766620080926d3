"""Seismic patch classification on real data, validated on contiguous blocks (neighbouring patches overlap,
so random splits flatter a model).

    python benchmarks/seismic_patches.py [--epochs 30]

1. LANDMASS-1 subset (4 classes): train on the first 80 % of each class's patches in file order, test on the
   last 20 %. Target accuracy >= 0.95.
2. F3 fault patches (fault vs non-fault, 13.4 % fault): last 20 % of each class held out. Reports accuracy,
   fault F1 and ROC-AUC; predicting "no fault" everywhere scores 0.866 accuracy and F1 0. Target F1 >= 0.7.
3. The whole F3 inline 244 predicted with sliding 45 x 45 windows; the fault-probability picture is saved as
   benchmarks/results/f3_inline244_faults.png (F3 data: CC BY-SA 3.0, dGB Earth Sciences / TNO).
Writes benchmarks/results/seismic_patches.{json,md}. Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from _common import RESULTS, SHARED, write_results


def block_split(y: np.ndarray, fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Per class: the first (1 - fraction) in file order to train, the last ``fraction`` to test."""
    train, test = [], []
    for c in np.unique(y):
        index = np.flatnonzero(y == c)
        cut = int(round(len(index) * (1 - fraction)))
        train.append(index[:cut])
        test.append(index[cut:])
    return np.concatenate(train), np.concatenate(test)


def run(name, x, y, names, image_size, epochs, work, **options):
    from geotune.api import evaluate, finetune

    train, test = block_split(y)
    np.save(work / f"{name}_train.npy", x[train])
    np.save(work / f"{name}_train_labels.npy", names[y[train]])
    np.save(work / f"{name}_test.npy", x[test])
    np.save(work / f"{name}_test_labels.npy", names[y[test]])
    t0 = time.perf_counter()
    finetune(work / f"{name}_train.npy", work / name, labels=work / f"{name}_train_labels.npy",
             image_size=image_size, epochs=epochs, **{"strategy": "linear-probe", **options})  # as when measured
    metrics = evaluate(work / name, work / f"{name}_test.npy", labels=work / f"{name}_test_labels.npy")
    return metrics, time.perf_counter() - t0, len(train), len(test)


def predict_section(model_dir: Path, section: np.ndarray, window: int = 45, stride: int = 6) -> np.ndarray:
    """Fault probability at each window centre of a (time x trace) section, on a stride grid."""
    from geotune.api import load_model

    model = load_model(model_dir)
    scaled = 2 * (section - section.min()) / (np.ptp(section) or 1.0) - 1  # the patches' per-section [-1, 1]
    rows = range(0, section.shape[0] - window + 1, stride)
    cols = range(0, section.shape[1] - window + 1, stride)
    windows = np.stack([scaled[r:r + window, c:c + window] for r in rows for c in cols]).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "w.npy", windows)
        proba = model.predict_proba(model.read(Path(tmp) / "w.npy"), batch_size=128)
    fault = model.classes.index("fault")
    return proba[:, fault].reshape(len(rows), len(cols))


def save_section_picture(section, grid, window, stride, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    extent_rows = (window / 2, window / 2 + stride * grid.shape[0])
    extent_cols = (window / 2, window / 2 + stride * grid.shape[1])
    fig, axes = plt.subplots(2, 1, figsize=(12, 8), sharex=True)
    clip = np.percentile(np.abs(section), 99)
    for ax in axes:
        ax.imshow(section, cmap="gray", vmin=-clip, vmax=clip, aspect="auto")
    shown = axes[1].imshow(np.ma.masked_less(grid, 0.5), cmap="autumn_r", alpha=0.6, vmin=0.5, vmax=1, aspect="auto",
                           extent=(extent_cols[0], extent_cols[1], extent_rows[1], extent_rows[0]))
    axes[0].set_title("F3 inline 244 (CC BY-SA 3.0, dGB Earth Sciences / TNO)")
    axes[1].set_title("geotune fault probability (>= 0.5 shown), 45 x 45 windows every 6 samples")
    axes[1].set_xlabel("trace (crossline 300 + index)")
    for ax in axes:
        ax.set_ylabel("time sample (4 ms)")
        ax.set_xlim(0, section.shape[1])
        ax.set_ylim(section.shape[0], 0)  # the overlay's extent must not crop the section
    fig.colorbar(shown, ax=axes[1], fraction=0.02)
    fig.savefig(out, dpi=90, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    work = Path(tempfile.mkdtemp(prefix="geotune-patches-"))
    payload, rows = {}, []

    archive = np.load(SHARED / "landmass1_subset_2000" / "landmass1_subset_99x99.npz")
    metrics, seconds, n_train, n_test = run("landmass", archive["X"], archive["y"], archive["class_names"], 96,
                                            args.epochs, work)
    payload["landmass"] = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"], "seconds": seconds,
                           "n_train": n_train, "n_test": n_test, "target": 0.95}
    rows.append(("LANDMASS-1, last 20 % per class", f"acc {metrics['accuracy']:.3f}",
                 f"macro F1 {metrics['macro_f1']:.3f}", "", f"{seconds:.0f}"))

    archive = np.load(SHARED / "f3_fault_patches_sfd" / "f3_fault_patches_45x45.npz")
    metrics, seconds, n_train, n_test = run("f3", archive["X"], archive["y"], archive["class_names"], 64,
                                            args.epochs, work, class_weights=True)
    fault = metrics["per_class"]["fault"]
    payload["f3_faults"] = {"accuracy": metrics["accuracy"], "fault_f1": fault["f1"], "fault_precision":
                            fault["precision"], "fault_recall": fault["recall"], "roc_auc": metrics.get("roc_auc"),
                            "seconds": seconds, "n_train": n_train, "n_test": n_test, "target_fault_f1": 0.7,
                            "majority_class_accuracy": 0.866}
    rows.append(("F3 faults, last 20 % per class", f"acc {metrics['accuracy']:.3f}", f"fault F1 {fault['f1']:.3f}",
                 f"ROC-AUC {metrics.get('roc_auc', float('nan')):.3f}", f"{seconds:.0f}"))

    section = np.load(SHARED / "f3_fault_patches_sfd" / "f3_inline244_section.npz")["section"].T  # time down
    t0 = time.perf_counter()
    grid = predict_section(work / "f3", section)
    picture = RESULTS / "f3_inline244_faults.png"
    RESULTS.mkdir(parents=True, exist_ok=True)
    save_section_picture(section, grid, 45, 6, picture)
    payload["f3_inline244"] = {"windows": int(grid.size), "seconds": time.perf_counter() - t0,
                               "fraction_fault_ge_0.5": float((grid >= 0.5).mean()), "picture": picture.name}
    rows.append(("F3 inline 244, whole section", f"{grid.size} windows", f"{(grid >= 0.5).mean():.1%} fault",
                 picture.name, f"{payload['f3_inline244']['seconds']:.0f}"))
    write_results("seismic_patches", payload, rows, ("run", "score", "score", "score", "wall s"))


if __name__ == "__main__":
    main()
