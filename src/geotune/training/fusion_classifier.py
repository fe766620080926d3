"""FusionClassifier: the scikit-learn-style estimator around the fusion networks (geotune.models.fusion).

    FusionClassifier(mode="late").fit(blocks, y)   blocks: modality name -> (n, d) array (cached embeddings)
        .predict_proba(blocks) .predict(blocks) .save(folder, classes, metrics) / FusionClassifier.load(folder)

Each modality is standardised with its training mean and spread (recorded in config.json). Fitting runs
on the Lightning engine (``training.fusion_module``): from Python a quiet single-device fit; from
`geotune train --task fusion` a main fit through ``make_trainer`` (``cfg`` and ``run_dir`` given), so
--devices, --precision, --resume and --patience apply. A fitted model saves to a geotune model directory
(task "fusion", weights in safetensors).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import DataError, ModelError
from ..models.fusion import MODES


def check_blocks(blocks: Mapping[str, np.ndarray], names: list[str] | None = None) -> dict[str, np.ndarray]:
    if not blocks:
        raise DataError("fusion needs at least one input modality")
    out = {str(k): np.asarray(v, dtype=np.float32) for k, v in blocks.items()}
    lengths = {k: len(v) for k, v in out.items()}
    if len(set(lengths.values())) != 1:
        raise DataError(f"modalities have different numbers of rows: {lengths}")
    for k, v in out.items():
        if v.ndim != 2:
            raise DataError(f"modality {k!r} must be a 2D (rows x features) array, got shape {v.shape}")
    if names is not None and sorted(out) != sorted(names):
        raise DataError(f"the model was fitted on modalities {sorted(names)}, got {sorted(out)}")
    return out


class FusionClassifier:
    def __init__(self, mode: str = "late", hidden: int = 64, epochs: int = 60, lr: float = 3e-3,
                 batch_size: int = 128, weight_decay: float = 1e-3, modality_dropout: float = 0.2,
                 seed: int = 0):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode, self.hidden, self.epochs, self.lr = mode, hidden, epochs, lr
        self.batch_size, self.weight_decay, self.modality_dropout, self.seed = (batch_size, weight_decay,
                                                                                  modality_dropout, seed)
        self.names: list[str] = []
        self.dims: dict[str, int] = {}
        self.mean: dict[str, np.ndarray] = {}
        self.std: dict[str, np.ndarray] = {}
        self.n_classes = 0
        self.net = None
        self.trainer = None  # the Lightning trainer of the last fit

    def _build(self):
        from ..models.fusion import build_fusion_net

        return build_fusion_net(self.mode, self.names, self.dims, self.hidden, self.n_classes)

    def _tensors(self, blocks):
        import torch

        return {n: torch.from_numpy(np.nan_to_num((blocks[n] - self.mean[n]) / self.std[n])) for n in self.names}

    def fit(self, blocks: Mapping[str, np.ndarray], y: np.ndarray, n_classes: int | None = None, *, cfg=None,
            run_dir: Path | None = None, val: tuple[Mapping[str, np.ndarray], np.ndarray] | None = None
            ) -> "FusionClassifier":
        """Fit on ``blocks``/``y`` for ``self.epochs`` epochs. ``cfg`` + ``run_dir``: a main fit on the engine's
        full trainer (devices, precision, checkpoints, --resume; --patience on ``val`` = (blocks, labels))."""
        import torch

        from ..config import TrainConfig
        from .fusion_module import FusionModule, FusionRows
        from .lightning_fit import fit_module

        blocks = check_blocks(blocks)
        y = np.asarray(y, dtype=np.int64)
        if len(y) != len(next(iter(blocks.values()))):
            raise DataError("labels and inputs have different numbers of rows")
        self.names = sorted(blocks)
        self.dims = {n: blocks[n].shape[1] for n in self.names}
        self.mean = {n: np.nanmean(blocks[n], axis=0) for n in self.names}
        self.std = {n: np.where(np.nanstd(blocks[n], axis=0) > 0, np.nanstd(blocks[n], axis=0), 1.0).astype(np.float32)
                    for n in self.names}
        self.n_classes = int(n_classes or y.max() + 1)
        torch.manual_seed(self.seed)  # the same initial weights on every rank and every rerun
        self.net = self._build()
        module = FusionModule(self.net, self.lr, self.weight_decay, self.modality_dropout, self.seed)
        train = FusionRows(self._tensors(blocks), torch.from_numpy(y))
        val_rows = None
        if val is not None:
            val_rows = FusionRows(self._tensors(check_blocks(val[0], self.names)),
                                  torch.from_numpy(np.asarray(val[1], dtype=np.int64)))
        if cfg is None:
            cfg = TrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, seed=self.seed,
                              accelerator="cpu")
        self.trainer = fit_module(cfg, module, train, val_rows, run_dir, quiet=run_dir is None, max_epochs=self.epochs)
        self.net.cpu().eval()
        return self

    def predict_proba(self, blocks: Mapping[str, np.ndarray]) -> np.ndarray:
        import torch

        if self.net is None:
            raise ModelError("the fusion model is not fitted")
        blocks = check_blocks(blocks, self.names)
        with torch.no_grad():
            return torch.softmax(self.net(self._tensors(blocks)), dim=1).numpy()

    def predict(self, blocks: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.predict_proba(blocks).argmax(1)

    # -- model directory
    def save(self, folder, classes: list[str] | None = None, metrics: dict | None = None,
             extra: dict | None = None) -> Path:
        """Write a geotune model directory; ``extra`` adds keys to config.json (e.g. the input columns)."""
        from .. import modeldir

        config = {**(extra or {}), "task": "fusion", "mode": self.mode, "hidden": self.hidden, "modalities": self.names,
                  "dims": self.dims, "n_classes": self.n_classes,
                  "classes": classes or [str(i) for i in range(self.n_classes)],
                  "mean": {n: self.mean[n].tolist() for n in self.names},
                  "std": {n: self.std[n].tolist() for n in self.names}}
        return modeldir.save(folder, config, tensors=self.net.state_dict(), metrics=metrics or {})

    @classmethod
    def load(cls, folder) -> "FusionClassifier":
        from .. import modeldir

        folder, config = modeldir.load_config(folder)
        if config.get("task") != "fusion":
            raise ModelError(f"not a fusion model (task {config.get('task')!r})", folder)
        model = cls(mode=config["mode"], hidden=int(config["hidden"]))
        model.names = list(config["modalities"])
        model.dims = {k: int(v) for k, v in config["dims"].items()}
        model.n_classes = int(config["n_classes"])
        model.mean = {n: np.asarray(config["mean"][n], dtype=np.float32) for n in model.names}
        model.std = {n: np.asarray(config["std"][n], dtype=np.float32) for n in model.names}
        model.net = model._build()
        try:
            model.net.load_state_dict(modeldir.load_tensors(folder))
        except RuntimeError as exc:
            raise ModelError(f"weights do not match config.json ({exc})", folder) from exc
        model.net.eval()
        return model
