"""Well-log runs: how far the validation reached, so a reader knows which new wells the scores cover.

Training measured each validation group (area or well) against the others (``logs/shift.py``): per curve the
robust z-score of the group's well medians, and the distance in the model's feature space. ``predict`` and
``evaluate`` warn about a new well further out than any of these; this section shows the limits.
"""

from __future__ import annotations

from .markup import esc, fmt, table

TITLE = "Which new wells the validation covers"


def applies(run) -> bool:
    return run.kind == "logs" and bool((run.config or {}).get("shift"))


def render(run) -> list[tuple[str, str]]:
    reference = run.config["shift"]
    curves = reference.get("curves") or {}
    rows = [(name, _value(entry.get("center")), _value(entry.get("scale")),
             "-" if entry.get("limit") is None else f"{entry['limit']:.2f}")
            for name, entry in curves.items()]
    parts = ["<p>Each validation group was held out and its wells' curve medians compared with the other wells' "
             "(robust z-scores). A new well whose curves lie further out than the largest z-score seen here, or "
             "further from the training wells in the model's feature space than "
             f"{esc(_limit(reference.get('feature_limit')))}, is beyond what the validation scores measured: "
             "<code>geotune predict</code> and <code>evaluate</code> flag it (<code>shift_beyond_validation</code> "
             "in the predictions, <code>shift</code> in metrics.json) and warn.</p>"]
    if rows:
        parts.append(table(("curve", "training wells' median", "spread", "largest |z| of a validation group"), rows))
    return [(TITLE, "".join(parts))]


def _value(value) -> str:
    return "-" if value is None else fmt(value)


def _limit(value) -> str:
    return "the largest distance of a validation group" if value is None else f"{value:.2f} (standardised units)"
