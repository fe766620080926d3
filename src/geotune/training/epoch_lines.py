"""One progress line per training epoch, for output that is not a terminal (a log file, CI, a pipe).

On a terminal Lightning's bar shows the same numbers; elsewhere the bar is off and, without this, a
long training run prints nothing until it ends.
"""

from __future__ import annotations

import math
import time

import lightning.pytorch as pl

from .. import progress

# shown first, in this order, when logged; other scalar metrics follow alphabetically
LEADING = ("train_loss", "val_loss", "val_acc", "val_mean_iou")


class EpochLines(pl.Callback):
    """Prints ``epoch 3/10: train_loss 0.41, val_loss 0.38, ...`` through ``geotune.progress``.

    The line of an epoch is printed when the next one starts (or training ends): a LightningModule logs
    its epoch-end numbers after the callbacks' own epoch-end hooks have run. Epochs shorter than
    ``every_s`` (a cached linear probe runs dozens a second) share a line: the first, the last and one
    at least ``every_s`` after the previous line are printed."""

    def __init__(self, every_s: float = 10.0):
        self.every_s = float(every_s)
        self._pending: int | None = None
        self._last_line: float | None = None

    def on_train_epoch_end(self, trainer, pl_module):
        self._pending = int(trainer.current_epoch)

    def on_train_epoch_start(self, trainer, pl_module):
        now = time.monotonic()
        if self._last_line is None or now - self._last_line >= self.every_s:
            self._flush(trainer)

    def on_train_end(self, trainer, pl_module):
        self._flush(trainer)

    def _flush(self, trainer) -> None:
        if self._pending is None or not trainer.is_global_zero:
            return
        epoch, self._pending = self._pending, None
        self._last_line = time.monotonic()
        total = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else None
        progress.stage(f"epoch {epoch + 1}{f'/{total}' if total else ''}: " + epoch_summary(trainer.callback_metrics))


def epoch_summary(metrics) -> str:
    values = {}
    for name, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if not name.endswith("_step") and math.isfinite(number):
            values[name.removesuffix("_epoch")] = number
    order = [n for n in LEADING if n in values] + sorted(n for n in values if n not in LEADING)
    return ", ".join(f"{name} {values[name]:.4g}" for name in order) or "done"
