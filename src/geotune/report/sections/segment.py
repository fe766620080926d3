"""Segmentation (seismic) runs: predicted sections beside the input and, where known, the true labels."""

from __future__ import annotations

import numpy as np

from ...errors import GeotuneError
from . import validation
from .markup import esc, figure_png, img, pyplot

TITLE = "Predicted sections"
MAX_SECTIONS = 3


def applies(run) -> bool:
    return run.kind == "segment" and run.model_dir is not None


def render(run) -> list[tuple[str, str]]:
    from ...api import load_model
    from ...data.seismic import read_sections

    train = run.config.get("train") or {}
    data, labels = validation.find_path(train.get("data"), run), validation.find_path(train.get("labels"), run)
    if data is None:
        run.notes.append(f"Training data not found at {train.get('data')!r}: predicted sections need it; shown "
                         "below is what the model folder holds.")
        return []
    sections = read_sections(data)
    truth = None
    if labels is not None:
        try:
            truth = read_sections(labels)
        except GeotuneError:
            truth = None
        if truth is not None and truth.shape != sections.shape:
            truth = None
    model = load_model(run.model_dir)
    picks = sorted(set(np.linspace(0, len(sections) - 1, min(MAX_SECTIONS, len(sections))).round().astype(int)))
    classes = list(model.classes)
    parts = [f"<p>Sections {', '.join(map(str, picks))} of the {len(sections)} in <code>{esc(data)}</code>. "
             "Sections used in training may be among them; the scores above are from the held-out ones.</p>"]
    for i in picks:
        predicted = model.predict(sections[i:i + 1])[0]
        true = None if truth is None else np.asarray(truth[i]).round().astype(int)
        parts.append(f"<h3>section {i}</h3>" + img(section_panel_png(sections[i], predicted, classes, true),
                                                   f"section {i}"))
    return [(TITLE, "".join(parts))]


def section_panel_png(section: np.ndarray, predicted: np.ndarray, classes, truth: np.ndarray | None = None) -> bytes:
    """Input section, (true labels,) predicted classes side by side, sharing the depth axis."""
    plt = pyplot()
    panels = 3 if truth is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.6), sharey=True)
    limit = float(np.percentile(np.abs(section), 99)) or 1.0
    axes[0].imshow(section, cmap="gray", vmin=-limit, vmax=limit, aspect="auto")
    axes[0].set_title("input")
    shown = None
    for ax, values, title in zip(axes[1:], [v for v in (truth, predicted) if v is not None],
                                 ["true", "predicted"] if truth is not None else ["predicted"]):
        shown = ax.imshow(values, cmap="tab10", vmin=-0.5, vmax=9.5, aspect="auto", interpolation="nearest")
        ax.set_title(title)
    bar = fig.colorbar(shown, ax=axes[-1], ticks=range(len(classes)))
    bar.ax.set_yticklabels([str(c) for c in classes])
    bar.ax.set_ylim(-0.5, len(classes) - 0.5)
    return figure_png(fig)
