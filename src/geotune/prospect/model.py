"""A saved prospectivity run behind the same interface as every other model: `geotune.load_model(RUN)`,
`geotune predict RUN INPUT --out map.tif` and `geotune evaluate RUN --data deposits.csv`.

``INPUT`` is the run itself (its own evidence layers are re-read) or a folder holding evidence rasters with the
same file names, for example the same layers over a neighbouring area.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from . import run as prospect_run
from .deposits import read_deposits
from .layers import EvidenceStack
from .validation import deposit_auc


class ProspectModel:
    classes = ["background", "deposit"]

    def __init__(self, folder: Path, config: dict, estimator):
        self.folder, self.config, self.estimator = folder, config, estimator

    @classmethod
    def load(cls, folder: Path, config: dict) -> "ProspectModel":
        folder, config, estimator = prospect_run.load_run(folder)
        return cls(folder, config, estimator)

    def stack(self, input: str | os.PathLike | None = None) -> EvidenceStack:
        """The run's own layers (``input`` None or the run), or the same-named files in the folder ``input``."""
        if input is None or _same_run(Path(input), self.folder):
            return prospect_run.stack_for_run(self.config, self.folder)
        folder = Path(input)
        if not folder.is_dir():
            raise DataError("give the run itself or a folder of evidence rasters named as in training", folder)
        specs = self.config["layers"]
        paths = [folder / Path(s["path"]).name for s in specs]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise DataError(f"lacks the evidence layer(s) the model was fitted on: {', '.join(missing)}", folder)
        return EvidenceStack.from_files(paths, resample=self.config.get("resample", False),
                                        kinds={s["name"]: s["kind"] for s in specs},
                                        favourable={s["name"]: s["favourable"] for s in specs},
                                        names=[s["name"] for s in specs],
                                        nodata={s["name"]: s["nodata"] for s in specs if s.get("nodata") is not None})

    def predict_proba(self, stack: EvidenceStack) -> np.ndarray:
        proba, _ = self.estimator.predict_both(stack)
        return proba

    def predict_to_file(self, input: str | os.PathLike, out: str | os.PathLike) -> Path:
        """A prospectivity GeoTIFF (and uncertainty.tif beside it) for ``input``'s layers."""
        from ..data.rasters import write_raster

        out = Path(out)
        if out.suffix.lower() not in (".tif", ".tiff"):
            raise DataError("a prospectivity map is written as a GeoTIFF (.tif)", out)
        stack = self.stack(input)
        proba, uncertainty = self.estimator.predict_both(stack)
        write_raster(out, proba, stack.grid)
        write_raster(out.with_name(out.stem + "_uncertainty.tif"), uncertainty, stack.grid)
        return out

    def evaluate_source(self, data: str | os.PathLike, labels=None, out_dir=None) -> dict:
        """AUC of the map at the deposits in ``data`` (held-out or newly found ones), over the run's own area."""
        if labels is not None:
            raise DataError("prospectivity is evaluated on deposits (--data deposits.csv); --labels does not apply",
                            labels)
        stack = self.stack(None)
        points = read_deposits(data)
        rows, cols = points.cells(stack.grid)
        metrics = {"auc": deposit_auc(self.predict_proba(stack), rows, cols, stack.mask),
                   "n_deposits": int(len(points)), "evaluated_on": str(data)}
        if out_dir is not None:
            from .. import modeldir
            from .._atomic import atomic_file

            with atomic_file(Path(out_dir) / "metrics.json", "w", encoding="utf-8") as handle:
                handle.write(modeldir.json_text(metrics))
        return metrics


def _same_run(path: Path, folder: Path) -> bool:
    try:
        return path.resolve() in (folder.resolve(), folder.resolve().parent)
    except OSError:
        return False
