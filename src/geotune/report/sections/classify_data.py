"""The data a classifier was trained on: class counts and example inputs per class."""

from __future__ import annotations

import numpy as np

from ...evaluate.explain import as_rgb
from . import validation
from .markup import array_png, card, esc, table

TITLE = "Data"


def applies(run) -> bool:
    return run.kind == "classify" and run.model_dir is not None


def render(run) -> list[tuple[str, str]]:
    val = validation.load(run)
    train = run.config.get("train") or {}
    source = f"<p>Trained on <code>{esc(train.get('data', '?'))}</code>" + (
        f" with labels <code>{esc(train['labels'])}</code>" if train.get("labels") else "") + "</p>"
    if val is None:
        support = {c: v.get("support") for c, v in (run.metrics.get("per_class") or {}).items()}
        rows = [(c, support.get(c, "")) for c in run.config.get("classes", [])]
        return [(TITLE, source + f"<p>{run.config.get('n_train', '?')} training and {run.config.get('n_val', '?')} "
                 "validation samples (from config.json).</p>" + table(("class", "validation samples"), rows))]
    classes = val.model.classes
    rows = [(c, val.train_counts[c], val.val_counts[c]) for c in classes]
    parts = [source, table(("class", "training samples", "validation samples"), rows),
             f"<h3>Validation examples (up to {run.max_examples} per class)</h3>"]
    for i, name in enumerate(classes):
        picks = np.flatnonzero(val.y == i)[: run.max_examples]
        cards = "".join(card(array_png(as_rgb(val.samples.x[k])), f"{val.samples.ids[k]}") for k in picks)
        parts.append(f"<p><b>{esc(name)}</b></p><div class='grid'>{cards or 'none in the validation split'}</div>")
    return [(TITLE, "".join(parts))]
