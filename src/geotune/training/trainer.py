"""One place that sets up Lightning's Trainer for every geotune run."""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

from ..config import TrainConfig
from .precision import check_precision


def make_trainer(cfg: TrainConfig, run_dir: Path, extra_callbacks=(), max_epochs: int | None = None):
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    checkpoints = run_dir / "checkpoints"
    if not cfg.resume and checkpoints.exists():
        shutil.rmtree(checkpoints)  # a fresh run must not continue an old one by accident
    # One rolling checkpoint, rewritten after every epoch (without a monitor, top-1 is the latest epoch), so
    # a run killed at any point resumes from its last finished epoch.
    callbacks = [ModelCheckpoint(dirpath=checkpoints, filename="last", monitor=None, save_top_k=1,
                                 every_n_epochs=1, enable_version_counter=False), *extra_callbacks]
    callbacks += progress_callbacks()
    if cfg.patience:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=cfg.patience, mode="min"))
    check_precision(cfg.precision, cfg.accelerator)
    world = cfg.devices * cfg.num_nodes
    strategy = "ddp" if world > 1 else "auto"
    quiet_lightning()
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*GPU available but not used.*")
    return pl.Trainer(
        max_epochs=max_epochs or cfg.epochs,
        accelerator=cfg.accelerator,
        devices=cfg.devices,
        num_nodes=cfg.num_nodes,
        strategy=strategy,
        precision=cfg.precision,
        logger=CSVLogger(str(run_dir), name="logs", version=""),
        callbacks=callbacks,
        enable_progress_bar=sys.stderr.isatty(),
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
        deterministic=False,
    )


def progress_callbacks() -> list:
    """Off a terminal Lightning's bar is off; when progress is on (the command line), one line per epoch
    says how training goes instead. On a terminal the bar stays."""
    from .. import progress

    if sys.stderr.isatty() or not progress.enabled():
        return []
    from .epoch_lines import EpochLines

    return [EpochLines()]


def quiet_lightning() -> None:
    """Lightning announces hardware and tips at INFO on every Trainer; geotune's users need none of it."""
    import logging

    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero",
                 "lightning.pytorch.accelerators.cuda"):
        logging.getLogger(name).setLevel(logging.WARNING)


def resume_checkpoint(cfg: TrainConfig, run_dir: Path) -> str | None:
    """The checkpoint to resume from, checked to load as tensors only (never unpickling code)."""
    last = run_dir / "checkpoints" / "last.ckpt"
    if cfg.resume and last.is_file():
        import torch

        from ..errors import ModelError

        try:
            torch.load(last, map_location="cpu", weights_only=True)
        except Exception as exc:  # UnpicklingError for planted objects, RuntimeError/EOFError for torn files
            raise ModelError(f"cannot resume from this checkpoint: it does not load as plain tensors "
                             f"({type(exc).__name__}); delete it to start again", last) from exc
        return str(last)
    if cfg.resume:
        print(f"no checkpoint at {last}; starting from the beginning", file=sys.stderr)
    return None
