"""A trained image classifier loaded from its model directory (safetensors + JSON only)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .. import modeldir
from ..data.samples import SampleSet, load_samples, open_dataset
from ..data.sampleset import SampleDataset
from ..errors import DataError, ModelError
from .outputs import write_predictions
from .tta import averaged_proba, softmax, view_count


ONNX_BATCH = 8


def onnx_workers() -> int:
    """Parallel ONNX Runtime runs: $GEOTUNE_THREADS, else the cores this process may use."""
    value = os.environ.get("GEOTUNE_THREADS")
    if value:
        return max(1, int(value))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class ImageClassifier:
    def __init__(self, model, config: dict, folder: Path | None = None):
        self.model = model.eval().to(memory_format=torch.channels_last)
        self.config = config
        self.folder = folder
        self.classes: list[str] = list(config["classes"])
        self.temperature = float(config.get("temperature", 1.0))
        self.tta = str(config.get("tta") or "off")  # test-time augmentation chosen in training (predict/tta.py)
        self._onnx = None

    @classmethod
    def load(cls, folder: Path, config: dict) -> "ImageClassifier":
        from ..models.classifier import build_classifier

        for key in ("backbone", "in_chans", "classes", "head", "image_size"):
            if key not in config:
                raise ModelError(f"config.json lacks {key!r}", folder / modeldir.CONFIG)
        model, _ = build_classifier(config, pretrained=False)
        state = modeldir.load_tensors(folder)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelError(f"weights do not match the architecture in config.json ({str(exc)[:200]})",
                             folder / modeldir.WEIGHTS) from exc
        return cls(model, config, folder)

    # -- inputs -------------------------------------------------------------------------------------
    def open(self, source: str | os.PathLike, labels: str | os.PathLike | None = None,
             require_labels: bool = False) -> SampleDataset:
        """``source`` as a lazy dataset: each image is decoded when its batch is predicted, so memory stays
        flat however many there are."""
        samples = open_dataset(source, labels, int(self.config["image_size"]), require_labels=require_labels,
                               scaling=self.config.get("scaling"), channels=int(self.config["in_chans"]),
                               jpeg_draft=bool(self.config.get("jpeg_draft", False)))
        if samples.channels != int(self.config["in_chans"]):
            raise DataError(f"has {samples.channels} channel(s) but the model was trained on "
                            f"{self.config['in_chans']}", source)
        return samples

    def read(self, source: str | os.PathLike, labels: str | os.PathLike | None = None,
             require_labels: bool = False) -> SampleSet:
        """``source`` decoded into one array (small inputs; files are predicted through ``open``)."""
        return self.open(source, labels, require_labels).to_sampleset()

    def _as_batch(self, x):
        """Something sliceable into batches: a SampleSet's array, a lazy dataset, or an array."""
        if isinstance(x, SampleSet):
            return x.x
        if isinstance(x, SampleDataset):
            return _LazyBatches(x)
        x = np.asarray(x)
        if x.ndim == 3:
            x = x[:, None]
        return x

    # -- predictions --------------------------------------------------------------------------------
    def logits(self, x, batch_size: int = 64, engine: str = "torch") -> np.ndarray:
        batch = self._as_batch(x)
        if engine in ("auto", "onnx") and self._onnx_session(required=engine == "onnx") is not None:
            return self._onnx_logits(batch, batch_size)
        out = []
        with torch.no_grad():
            for start in range(0, len(batch), batch_size):
                chunk = torch.from_numpy(np.asarray(batch[start:start + batch_size], dtype=np.float32))
                out.append(self.model(chunk.contiguous(memory_format=torch.channels_last)).float().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)), dtype=np.float32)

    def predict_proba(self, x, batch_size: int = 64, engine: str = "torch") -> np.ndarray:
        """Class probabilities; with the model's test-time augmentation, averaged over its views (each batch
        is decoded once and every view of it predicted)."""
        if view_count(self.tta) == 1:
            return softmax(self.logits(x, batch_size, engine), self.temperature)
        batch = self._as_batch(x)
        chunks = [averaged_proba(lambda view: self.logits(view, batch_size, engine),
                                 np.asarray(batch[start:start + batch_size], dtype=np.float32), self.tta,
                                 self.temperature)
                  for start in range(0, len(batch), batch_size)]
        return np.concatenate(chunks) if chunks else np.zeros((0, len(self.classes)))

    def predict(self, x, batch_size: int = 64, engine: str = "torch") -> list[str]:
        return [self.classes[i] for i in self.predict_proba(x, batch_size, engine).argmax(1)]

    def embed(self, x, batch_size: int = 64) -> np.ndarray:
        batch = self._as_batch(x)
        with torch.no_grad():
            return np.concatenate([
                self.model.features(torch.from_numpy(np.asarray(batch[s:s + batch_size], dtype=np.float32))
                                    .contiguous(memory_format=torch.channels_last)).numpy()
                for s in range(0, len(batch), batch_size)])

    # -- files --------------------------------------------------------------------------------------
    def predict_to_file(self, input: str | os.PathLike, out: str | os.PathLike, batch_size: int = 64,
                        engine: str = "auto") -> Path:
        samples = self.open(input)
        proba = self.predict_proba(samples, batch_size, engine)
        return write_predictions(out, proba, self.classes, samples.table, samples.ids)

    def evaluate_source(self, data: str | os.PathLike, labels: str | os.PathLike | None = None,
                        out_dir: str | os.PathLike | None = None, batch_size: int = 64,
                        engine: str = "auto") -> dict:
        from ..evaluate.metrics import classification_metrics
        from ..evaluate.plots import save_evaluation_plots
        from .._atomic import atomic_file

        samples = self.open(data, labels, require_labels=True)
        unknown = sorted(set(samples.labels.tolist()) - set(self.classes))
        if unknown:
            raise DataError(f"has labels the model does not know: {', '.join(unknown[:5])} "
                            f"(model classes: {', '.join(self.classes)})", data)
        index = {c: i for i, c in enumerate(self.classes)}
        y = np.asarray([index[v] for v in samples.labels])
        proba = self.predict_proba(samples, batch_size, engine)
        metrics = classification_metrics(y, proba.argmax(1), self.classes, proba)
        metrics["evaluated_on"] = str(data)
        if out_dir:
            import json

            out_dir = Path(out_dir)
            with atomic_file(out_dir / "metrics.json") as handle:
                json.dump(metrics, handle, indent=2)
            save_evaluation_plots(out_dir, y, proba, self.classes)
        return metrics

    # -- ONNX Runtime -------------------------------------------------------------------------------
    def _onnx_session(self, required: bool = False):
        if self._onnx is not None:
            return self._onnx
        onnx_file = self.folder / "model.onnx" if self.folder else None
        try:
            import onnxruntime as ort
        except ImportError:
            if required:
                raise ModelError("ONNX Runtime is not installed (pip install 'geotune[onnx]')")
            return None
        if onnx_file is None or not onnx_file.is_file():
            if required:
                raise ModelError("has no model.onnx; run `geotune export` first", self.folder)
            return None
        # One thread per run, and as many runs in parallel as there are cores: EfficientNet's many small
        # (depthwise) layers leave intra-op threads waiting on each other; whole batches per core do not.
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self._onnx = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        return self._onnx

    def _onnx_logits(self, batch: np.ndarray, batch_size: int) -> np.ndarray:
        session = self._onnx
        name = session.get_inputs()[0].name
        # Small batches keep a run's activations in cache; batches of 8, one per core in parallel, measured 1.2x
        # ONNX Runtime's own defaults at batch 32 for EfficientNet-Lite0 at 224 px (benchmarks/results/performance.md).
        step = min(batch_size, ONNX_BATCH)

        def run(start):
            return session.run(None, {name: np.asarray(batch[start:start + step], dtype=np.float32)})[0]

        starts = range(0, len(batch), step)
        workers = min(onnx_workers(), len(starts))
        if workers <= 1:
            return np.concatenate([run(s) for s in starts])
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:  # ONNX Runtime releases the GIL while it runs
            return np.concatenate(list(pool.map(run, starts)))


class _LazyBatches:
    """Slices of a lazy dataset, decoded when asked for: ``batches[a:b]`` -> (b - a, C, S, S) float32."""

    def __init__(self, dataset: SampleDataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, window: slice) -> np.ndarray:
        indices = range(*window.indices(len(self.dataset)))
        size = self.dataset.image_size
        out = np.empty((len(indices), self.dataset.channels, size, size), dtype=np.float32)
        for row, index in enumerate(indices):
            out[row] = self.dataset[index]
        return out
