"""Configuration and headline numbers of any run."""

from __future__ import annotations

import json

from .markup import esc, table

TITLE = "Run"
# The config fields a reader wants first; the full config follows in a fold-out.
KEYS = ("task", "backbone", "classes", "image_size", "in_chans", "strategy", "head", "weights_source", "temperature",
        "n_train", "n_val", "method", "model_type", "window", "strategy", "budget", "holes_planned")
TRAIN_KEYS = ("data", "labels", "epochs", "lr", "batch_size", "val_split", "seed", "group_by", "cv", "calibrate",
              "devices", "num_nodes")
HEADLINE = ("accuracy", "macro_f1", "ece", "mean_iou", "auc", "expected_deposits", "total_cost")


def applies(run) -> bool:
    return True


def render(run) -> list[tuple[str, str]]:
    config = run.config
    rows = [(key, _short(config[key])) for key in dict.fromkeys(KEYS) if key in config]
    train = config.get("train") or {}
    rows += [(f"train.{key}", _short(train[key])) for key in TRAIN_KEYS if train.get(key) not in (None, False)]
    parts = []
    if rows:
        parts.append(table(("setting", "value"), rows))
    head = [(key, run.metrics[key]) for key in HEADLINE if isinstance(run.metrics.get(key), (int, float))]
    if head:
        parts.append("<p>" + " · ".join(f"<b>{esc(k)}</b> {v:.4g}" for k, v in head)
                     + f" <span style='opacity:.7'>({esc(run.metrics.get('evaluated_on', 'as saved'))})</span></p>")
    if config:
        shown = {k: v for k, v in config.items() if k != "files"}
        parts.append("<details><summary>full configuration</summary><pre>"
                     + esc(json.dumps(shown, indent=2, default=str)) + "</pre></details>")
    if not parts:
        parts.append("<p>No configuration in this folder.</p>")
    return [(TITLE, "".join(parts))]


def _short(value) -> str:
    if isinstance(value, (list, tuple)):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, default=str)
    else:
        text = str(value)
    return text if len(text) < 200 else text[:197] + "..."
