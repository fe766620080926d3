"""Training curves from Lightning's CSV log (RUN/model/history.csv, else RUN/logs/metrics.csv)."""

from __future__ import annotations

from .markup import figure_png, img, pyplot

TITLE = "Training curves"


def history_file(run):
    for folder, name in ((run.model_dir, "history.csv"), (run.run_dir / "logs", "metrics.csv")):
        if folder is not None and (folder / name).is_file():
            return folder / name
    return None


def applies(run) -> bool:
    return history_file(run) is not None


def render(run) -> list[tuple[str, str]]:
    import pandas as pd

    file = history_file(run)
    try:
        frame = pd.read_csv(file)
    except (OSError, ValueError) as exc:
        return [(TITLE, f"<p class='note'>{file} could not be read ({exc})</p>")]
    if "epoch" not in frame.columns or frame.empty:
        return [(TITLE, f"<p class='note'>{file} has no epoch column</p>")]
    # Lightning writes train and validation values on separate rows of one epoch; one row per epoch.
    per_epoch = frame.groupby("epoch").mean(numeric_only=True)
    losses = [c for c in per_epoch.columns if "loss" in c and per_epoch[c].notna().any()]
    scores = [c for c in per_epoch.columns if ("acc" in c or "f1" in c or "iou" in c) and per_epoch[c].notna().any()]
    if not losses and not scores:
        return [(TITLE, "<p>The log holds no loss or accuracy columns.</p>")]
    plt = pyplot()
    panels = [p for p in (losses, scores) if p]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.2), squeeze=False)
    for ax, columns, label in zip(axes[0], panels, ("loss", "score")):
        for column in columns:
            series = per_epoch[column].dropna()
            ax.plot(series.index, series.values, "o-", ms=3, label=column)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return [(TITLE, img(figure_png(fig), "training curves")
             + f"<p>{len(per_epoch)} epochs, from {file.name}.</p>")]
