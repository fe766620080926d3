"""Confusion matrix, per-class metrics and other scores from metrics.json (any task that writes them)."""

from __future__ import annotations

import numpy as np

from .markup import esc, figure_png, fmt, img, pyplot, table

TITLE = "Scores"


def applies(run) -> bool:
    return bool(run.metrics)


def render(run) -> list[tuple[str, str]]:
    metrics = run.metrics
    parts = []
    classes = metrics.get("classes") or run.config.get("classes") or list(metrics.get("per_class") or {})
    if metrics.get("confusion_matrix") and classes:
        parts.append(img(confusion_png(np.asarray(metrics["confusion_matrix"]), classes), "confusion matrix"))
    per_class = metrics.get("per_class") or {}
    if per_class:
        rows = [(name, v.get("precision", ""), v.get("recall", ""), v.get("f1", ""), v.get("support", ""))
                for name, v in per_class.items() if isinstance(v, dict)]
        parts.append(table(("class", "precision", "recall", "F1", "support"), rows))
    flat = [(key, value) for key, value in metrics.items()
            if isinstance(value, (int, float, str)) and not isinstance(value, bool) and key != "classes"]
    nested = [(f"{key}.{inner}", value) for key, group in metrics.items() if isinstance(group, dict)
              and key != "per_class" for inner, value in group.items() if isinstance(value, (int, float, str))]
    if flat or nested:
        parts.append(table(("score", "value"), [(k, fmt(v)) for k, v in flat + nested]))
    for name, rows in grouped_tables(metrics):
        columns = list(dict.fromkeys(k for row in rows.values() for k, v in row.items() if _scalar(v)))
        parts.append(f"<h3>{esc(name.replace('_', ' '))}</h3>"
                     + table(["group", *columns], [[g, *(fmt(r.get(c, "")) for c in columns)] for g, r in rows.items()]))
    if metrics.get("evaluated_on"):
        parts.append(f"<p>Evaluated on: {esc(metrics['evaluated_on'])}.</p>")
    return [(TITLE, "".join(parts))]


def confusion_png(matrix: np.ndarray, classes) -> bytes:
    plt = pyplot()
    n = len(classes)
    fig, ax = plt.subplots(figsize=(1.6 + 0.6 * n, 1.3 + 0.6 * n))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), classes, rotation=45, ha="right")
    ax.set_yticks(range(n), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center", color="white" if value > matrix.max() / 2 else "black")
    return figure_png(fig)


def _scalar(value) -> bool:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


OWN_SECTIONS = ("per_class", "search")  # shown by sections of their own (per-class scores, candidates.py)


def grouped_tables(metrics: dict, prefix: str = "", depth: int = 0):
    """Scores per group (per well, per leave-one-group-out fold, ...): dicts of dicts of numbers."""
    for key, value in metrics.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            value = {str(i): v for i, v in enumerate(value)}  # e.g. spatial CV folds
        if key in OWN_SECTIONS or not isinstance(value, dict) or not value:
            continue
        if all(isinstance(v, dict) and any(_scalar(x) for x in v.values()) for v in value.values()):
            yield prefix + key, value
        elif depth < 1:
            yield from grouped_tables(value, f"{prefix}{key} ", depth + 1)
