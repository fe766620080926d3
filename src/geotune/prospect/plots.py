"""PNG figures for prospectivity runs and volumetrics, written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._atomic import atomic_file


def _figure(*args, **kwargs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(*args, **kwargs)


def _save(plt, fig, path: Path) -> Path:
    with atomic_file(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def map_png(path: Path, proba: np.ndarray, uncertainty: np.ndarray, grid, deposit_xy=None,
            title: str = "prospectivity") -> Path:
    plt, fig = map_figure(proba, uncertainty, grid, deposit_xy, title)
    return _save(plt, fig, path)


def map_figure(proba: np.ndarray, uncertainty: np.ndarray, grid, deposit_xy=None, title: str = "prospectivity"):
    """The two-panel map (probability, uncertainty) as a figure; ``map_png`` writes it."""
    from ..evaluate.map_axes import kilometre_ticks, thin_ticks

    plt, fig, axes = _figure(1, 2, figsize=(11, 6))
    left, top = grid.transform.c, grid.transform.f
    right = left + grid.transform.a * proba.shape[1]
    bottom = top + grid.transform.e * proba.shape[0]
    extent = (left, right, bottom, top)
    for ax, data, label, cmap in ((axes[0], proba, title + " (probability per unit cell)", "viridis"),
                                  (axes[1], uncertainty, "uncertainty (standard deviation)", "magma")):
        image = ax.imshow(np.ma.masked_invalid(data), extent=extent, cmap=cmap, interpolation="nearest")
        fig.colorbar(image, ax=ax, shrink=0.7)
        if deposit_xy is not None:
            ax.scatter(*deposit_xy, s=6, c="red", edgecolors="white", linewidths=0.3, label="deposits")
        ax.set_title(label, fontsize=9)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=7)
        kilometre_ticks(ax, getattr(grid, "crs", None))
    axes[0].legend(loc="lower right", fontsize=7)
    for ax in axes:
        thin_ticks(ax)
    return plt, fig


def curves_png(path: Path, curves: dict[str, dict]) -> Path:
    """Fraction of deposits against fraction of area, one line per named curve."""
    plt, fig, ax = _figure(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="random (AUC 0.5)")
    for label, curve in curves.items():
        ax.plot(curve["area_fraction"], curve["deposit_fraction"], label=f"{label} (AUC {curve['auc']:.3f})")
    ax.set_xlabel("fraction of area (most prospective first)")
    ax.set_ylabel("fraction of deposits captured")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return _save(plt, fig, path)


def histogram_png(path: Path, values: np.ndarray, percentiles: dict[str, float], label: str) -> Path:
    plt, fig, ax = _figure(figsize=(7, 4.5))
    ax.hist(values, bins=80, color="#4c72b0", alpha=0.85)
    for name, value in percentiles.items():
        ax.axvline(value, color="black", linestyle="--", linewidth=1)
        ax.text(value, ax.get_ylim()[1] * 0.95, f" {name}\n {value:.4g}", fontsize=8, va="top")
    ax.set_xlabel(label)
    ax.set_ylabel("realisations")
    return _save(plt, fig, path)


def tornado_png(path: Path, rows: list[dict], base: float, label: str) -> Path:
    """Horizontal bars from each input's low-case to high-case result, widest at the top."""
    plt, fig, ax = _figure(figsize=(7, 0.6 * len(rows) + 1.5))
    rows = sorted(rows, key=lambda r: abs(r["output_at_high"] - r["output_at_low"]))
    for i, row in enumerate(rows):
        low, high = row["output_at_low"], row["output_at_high"]
        ax.barh(i, low - base, left=base, color="#dd8452")
        ax.barh(i, high - base, left=base, color="#4c72b0")
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(range(len(rows)), [r["parameter"] for r in rows])
    ax.set_xlabel(f"{label} (orange: input at its P90/low value, blue: at its P10/high value; others at P50)")
    ax.xaxis.label.set_size(8)
    return _save(plt, fig, path)
