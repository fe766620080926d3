"""Well-log runs: a well panel, the logs beside true and predicted facies along depth."""

from __future__ import annotations

import numpy as np

from . import validation
from .markup import esc, figure_png, img, pyplot

TITLE = "Well panels"
MAX_WELLS = 2
MAX_CURVES = 5


def applies(run) -> bool:
    return run.kind == "logs" and run.model_dir is not None


def render(run) -> list[tuple[str, str]]:
    from ...api import load_model
    from ...logs.las import read_logs

    train = run.config.get("train") or {}
    data = validation.find_path(train.get("data"), run)
    if data is None:
        run.notes.append(f"Training data not found at {train.get('data')!r}: the well panel needs it; shown "
                         "below is what the model folder holds.")
        return []
    model = load_model(run.model_dir)
    raw = read_logs(data)
    proba = model.predict_proba(data)
    if len(proba) != len(raw):
        return [(TITLE, "<p class='note'>Predictions and log rows do not line up; no panel drawn.</p>")]
    classes = list(model.classes)
    config = run.config
    well = _column(raw, config.get("well_column"), ("WELL", "Well Name", "well"))
    depth = _column(raw, config.get("depth_column"), ("DEPTH", "Depth", "DEPT", "MD", "depth"))
    label = _column(raw, config.get("label_column"), ())
    skip = {well, depth, label, config.get("group_column")}
    wanted = list((config.get("features") or {}).get("curves") or [])
    curves = [c for c in wanted if c in raw.columns] or [
        c for c in raw.columns if c not in skip and np.issubdtype(raw[c].dtype, np.number)]
    curves = curves[:MAX_CURVES]
    wells = list(dict.fromkeys(raw[well].astype(str))) if well else ["(all rows)"]
    parts = ["<p>The saved model learned from every labelled row, so these panels show how it fits its training "
             "wells; held-out skill is in the scores above.</p>"]
    for name in wells[:MAX_WELLS]:
        rows = (raw[well].astype(str) == name).to_numpy() if well else np.ones(len(raw), bool)
        z = raw.loc[rows, depth].to_numpy(float) if depth else np.arange(rows.sum(), dtype=float)
        true = None
        if label:
            index = {c: i for i, c in enumerate(classes)}
            true = np.array([index.get(str(v), -1) for v in raw.loc[rows, label]], dtype=float)
            true[true < 0] = np.nan
        png = well_panel_png(z, {c: raw.loc[rows, c].to_numpy(float) for c in curves}, true,
                             proba[rows].argmax(1), classes)
        parts.append(f"<h3>{esc(name)}</h3>" + img(png, f"well {name}"))
    if len(wells) > MAX_WELLS:
        parts.append(f"<p>{len(wells) - MAX_WELLS} more well(s) not drawn.</p>")
    return [(TITLE, "".join(parts))]


def _column(frame, name, fallbacks):
    for candidate in ([name] if name else []) + list(fallbacks):
        if candidate in frame.columns:
            return candidate
    return None


def well_panel_png(depth, curves: dict, true, predicted, classes) -> bytes:
    plt = pyplot()
    tracks = len(curves) + (2 if true is not None else 1)
    fig, axes = plt.subplots(1, tracks, figsize=(1.6 * tracks + 1, 6), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (name, values) in zip(axes, curves.items()):
        ax.plot(values, depth, lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    strips = ([("true", true)] if true is not None else []) + [("predicted", predicted.astype(float))]
    extent = [0, 1, float(np.nanmax(depth)), float(np.nanmin(depth))]
    shown = None
    for ax, (title, values) in zip(axes[len(curves):], strips):
        shown = ax.imshow(values[:, None], cmap="tab10", vmin=-0.5, vmax=9.5, aspect="auto", extent=extent,
                          interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
    axes[0].set_ylabel("depth")
    if not axes[0].yaxis_inverted():
        axes[0].invert_yaxis()
    bar = fig.colorbar(shown, ax=axes[-1], ticks=range(len(classes)))
    bar.ax.set_yticklabels([str(c) for c in classes], fontsize=7)
    bar.ax.set_ylim(-0.5, len(classes) - 0.5)
    return figure_png(fig)
