"""Drill plans (`geotune plan run`) and campaign simulations (`geotune plan simulate`)."""

from __future__ import annotations

from .markup import esc, img, table
from .pictures import mark_shown

TITLE = "Plan"
MAX_ROWS = 20


def applies(run) -> bool:
    return run.kind == "plan"


def render(run) -> list[tuple[str, str]]:
    import pandas as pd

    parts = []
    for picture, caption in (("plan.png", "ranked sites on the map"), ("curve.png", "campaign simulation")):
        file = run.run_dir / picture
        if file.is_file():
            parts.append(f"<p>{esc(caption)}</p>" + img(file.read_bytes(), caption))
            mark_shown(run, file)
    plan = run.run_dir / "plan.csv"
    if plan.is_file():
        frame = pd.read_csv(plan)
        parts.append(f"<h3>Ranked sites ({len(frame)})</h3>"
                     + table(list(frame.columns), frame.head(MAX_ROWS).itertuples(index=False)))
    summary_md = run.run_dir / "table.md"
    if summary_md.is_file():
        parts.append("<pre>" + esc(summary_md.read_text(encoding="utf-8")) + "</pre>")
    return [(TITLE, "".join(parts) or "<p>No plan files here.</p>")]
