"""The validation samples the classifier got wrong with the most confidence, with where it looked."""

from __future__ import annotations

import numpy as np

from ...evaluate.explain import as_rgb, overlay
from . import validation
from .markup import array_png, card

TITLE = "Most confident mistakes"


def applies(run) -> bool:
    return run.kind == "classify" and run.model_dir is not None and validation.load(run) is not None


def chosen(val, limit: int) -> np.ndarray:
    """Misclassified validation samples, most confident first."""
    predicted = val.proba.argmax(1)
    wrong = np.flatnonzero(predicted != val.y)
    return wrong[np.argsort(-val.proba[wrong, predicted[wrong]], kind="stable")][:limit]


def render(run) -> list[tuple[str, str]]:
    from . import explanations

    val = validation.load(run)
    predicted = val.proba.argmax(1)
    wrong = np.flatnonzero(predicted != val.y)
    if not len(wrong):
        return [(TITLE, f"<p>No mistakes on the {len(val.y)} validation samples.</p>")]
    order = chosen(val, run.max_mistakes)
    val.wanted.update(int(i) for i in explanations.chosen(val, run.max_examples))
    heat = val.heat(order)
    classes = val.model.classes
    cards = []
    for k, h in zip(order, heat):
        caption = (f"{val.samples.ids[k]}: true {classes[val.y[k]]}, predicted {classes[predicted[k]]} "
                   f"(p={val.proba[k, predicted[k]]:.2f})")
        cards.append(card(array_png(as_rgb(val.samples.x[k])), caption))
        cards.append(card(array_png(overlay(val.samples.x[k], h)), "where it looked (Grad-CAM)"))
    return [(TITLE, f"<p>{len(wrong)} of {len(val.y)} validation samples are misclassified; the "
             f"{len(order)} most confident are shown, each beside its Grad-CAM map for the predicted class.</p>"
             f"<div class='grid'>{''.join(cards)}</div>")]
