"""The validation samples the classifier got wrong with the most confidence, with where it looked."""

from __future__ import annotations

import numpy as np

from ..explain import as_rgb, gradcam, overlay
from . import validation
from .markup import array_png, card, esc

TITLE = "Most confident mistakes"


def applies(run) -> bool:
    return run.kind == "classify" and run.model_dir is not None and validation.load(run) is not None


def render(run) -> list[tuple[str, str]]:
    val = validation.load(run)
    predicted = val.proba.argmax(1)
    wrong = np.flatnonzero(predicted != val.y)
    if not len(wrong):
        return [(TITLE, f"<p>No mistakes on the {len(val.y)} validation samples.</p>")]
    order = wrong[np.argsort(-val.proba[wrong, predicted[wrong]], kind="stable")][: run.max_mistakes]
    heat = gradcam(val.model.model, val.samples.x[order], targets=predicted[order])
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
