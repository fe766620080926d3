"""Grad-CAM overlays for a few validation samples of each class: where the model looked."""

from __future__ import annotations

import numpy as np

from ...evaluate.explain import overlay
from . import validation
from .markup import array_png, card, esc

TITLE = "Where the model looked (Grad-CAM)"


def applies(run) -> bool:
    return run.kind == "classify" and run.model_dir is not None and validation.load(run) is not None


def chosen(val, limit: int) -> np.ndarray:
    """The first ``limit`` validation samples of each class."""
    return np.concatenate([np.flatnonzero(val.y == i)[:limit] for i in range(len(val.model.classes))]).astype(int)


def render(run) -> list[tuple[str, str]]:
    val = validation.load(run)
    predicted = val.proba.argmax(1)
    classes = val.model.classes
    picks = chosen(val, run.max_examples)
    heat = val.heat(picks)
    parts = ["<p>Red marks the regions whose features pushed the model towards the class it predicted.</p>"]
    for i, name in enumerate(classes):
        cards = "".join(card(array_png(overlay(val.samples.x[k], h)),
                             f"predicted {classes[predicted[k]]} (p={val.proba[k, predicted[k]]:.2f})")
                        for k, h in zip(picks, heat) if val.y[k] == i)
        parts.append(f"<p><b>{esc(name)}</b></p><div class='grid'>{cards or 'none'}</div>")
    return [(TITLE, "".join(parts))]
