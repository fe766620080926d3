"""Pictures: the plan on its map, and discoveries per hole with confidence bands."""

from __future__ import annotations

import numpy as np

MAX_PIXELS = 1000  # big maps are thinned for the picture only


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_plan(path, prior, result, exclude=None, drilled=None) -> None:
    plt = _pyplot()
    step = max(1, int(np.ceil(max(prior.shape) / MAX_PIXELS)))
    img = np.array(prior.array[::step, ::step], dtype=float)
    h, w = prior.shape
    t = prior.transform
    x0, y0 = t * (0, 0)
    x1, y1 = t * (w, h)
    extent = (min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1))
    origin = "upper" if t.e < 0 else "lower"
    fig, ax = plt.subplots(figsize=(7, 7 * h / max(w, 1) if w >= h else 7))
    im = ax.imshow(img, extent=extent, origin=origin, cmap="viridis")
    fig.colorbar(im, ax=ax, shrink=0.7, label="prospectivity (prior)")
    if exclude is not None:
        ex = np.where(np.asarray(exclude)[::step, ::step], 1.0, np.nan)
        ax.imshow(ex, extent=extent, origin=origin, cmap="Greys", vmin=0, vmax=1.5, alpha=0.6)
    if drilled is not None and len(drilled):
        hit = drilled["hit"].to_numpy() > 0
        ax.scatter(drilled["x"][hit], drilled["y"][hit], marker="*", s=90, c="red", label="drilled: hit")
        ax.scatter(drilled["x"][~hit], drilled["y"][~hit], marker="x", s=40, c="white", label="drilled: miss")
    table = result.table
    if len(table):
        ax.scatter(table["x"], table["y"], s=60, facecolors="none", edgecolors="orange", linewidths=2,
                   label="planned")
        for r in table.itertuples():
            ax.annotate(str(r.rank), (r.x, r.y), xytext=(4, 4), textcoords="offset points", color="orange",
                        fontsize=8)
    ax.set_title(f"drilling plan: {len(table)} holes")
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curve(path, curve, column: str = "deposits") -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, g in curve.groupby("strategy", sort=False):
        ax.plot(g["hole"], g[f"{column}_mean"], label=name)
        ax.fill_between(g["hole"], g[f"{column}_ci_low"], g[f"{column}_ci_high"], alpha=0.2)
    ax.set_xlabel("holes drilled")
    ax.set_ylabel(f"{column} found (mean, 95 % CI)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
