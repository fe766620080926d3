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
    fig = plan_figure(prior, result, exclude, drilled)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plan_figure(prior, result, exclude=None, drilled=None):
    """The plan on its map as a figure; ``plot_plan`` writes it."""
    from ..evaluate.map_axes import kilometre_ticks, place_labels, thin_ticks

    plt = _pyplot()
    step = max(1, int(np.ceil(max(prior.shape) / MAX_PIXELS)))
    img = np.array(prior.array[::step, ::step], dtype=float)
    h, w = prior.shape
    t = prior.transform
    x0, y0 = t @ (0, 0)
    x1, y1 = t @ (w, h)
    extent = (min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1))
    origin = "upper" if t.e < 0 else "lower"
    fig, ax = plt.subplots(figsize=(7, max(3.0, 7 * h / max(w, 1)) if w >= h else 7))  # a flat map still gets room
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
    kilometre_ticks(ax, getattr(prior, "crs", None))
    ax.set_title(f"drilling plan: {len(table)} holes")
    if len(table):
        ax.scatter(table["x"], table["y"], s=60, facecolors="none", edgecolors="orange", linewidths=2,
                   label="planned (label: rank)")
    fig.tight_layout()  # before ticks are thinned and labels placed: their room depends on the final layout
    thin_ticks(ax)
    if len(table):
        ordered = table.sort_values("rank")
        hidden = place_labels(ax, zip(ordered["x"], ordered["y"]), ordered["rank"].astype(str), color="orange",
                              fontsize=8)
        if hidden:  # a legend line, so the picture says why some holes have no number
            ax.scatter([], [], s=0, label=f"{hidden} rank labels left out where holes crowd (see plan.csv)")
    ax.legend(loc="lower right", fontsize=7)
    return fig


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
