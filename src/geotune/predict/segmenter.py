"""A trained segmentation model: whole sections, SEG-Y volumes, GeoTIFFs and .npy in, same shape out.

Every input goes through the same path: percentile-clip normalisation (as recorded in config.json,
recomputed on each input), then sliding windows with blended overlaps (``tiling.predict_tiled``)
one section at a time, so peak memory depends on a section's size, not the survey's.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import ConfigError, DataError, ModelError
from .tiling import predict_tiled

OUTPUTS = ("class", "proba")


def limit_threads(threads: int | str | None = None) -> None:
    """Cap torch's CPU threads (``threads`` or $GEOTUNE_THREADS). On shared machines, more threads than
    free cores makes OpenMP spin and run many times slower, so this is worth setting there."""
    value = threads if threads is not None else os.environ.get("GEOTUNE_THREADS")
    if value:
        import torch

        torch.set_num_threads(max(1, int(value)))


def torch_predict_fn(model):
    """Wrap a torch model as ``(B, C, w, w) float32 -> (B, K, w, w) softmax probabilities``."""
    import torch

    device = next(model.parameters()).device  # validation during training runs on the training device

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            logits = model(torch.from_numpy(np.ascontiguousarray(batch)).to(device))
            return torch.softmax(logits.float(), dim=1).cpu().numpy()

    return predict


def predict_sections(model, images: np.ndarray, window: int, n_classes: int, batch_size: int = 16,
                     overlap: float = 0.5) -> np.ndarray:
    """Probabilities (N, K, H, W) for normalised sections (N, C, H, W)."""
    fn = torch_predict_fn(model)
    return np.stack([predict_tiled(fn, image, window, n_classes, overlap, batch_size) for image in images])


class Segmenter:
    def __init__(self, model, config: dict, folder: Path | None = None):
        self.model = model.eval()
        self.config = config
        self.folder = folder
        self.classes = list(config["classes"])
        self.window = int(config["image_size"])
        self.in_chans = int(config.get("in_chans", 1))
        self.percentile = float(config.get("normalisation", {}).get("percentile", 99.0))

    @classmethod
    def load(cls, folder: str | os.PathLike, config: dict) -> "Segmenter":
        from .. import modeldir
        from ..models.segmentation import build_segmentation_model

        folder = Path(folder)
        for key in ("classes", "image_size", "backbone"):
            if key not in config:
                raise ModelError(f"config.json lacks {key!r} for a segmentation model", folder / "config.json")
        model = build_segmentation_model(config["backbone"], len(config["classes"]), int(config.get("in_chans", 1)),
                                         config.get("arch", "unet"))
        try:
            model.load_state_dict(modeldir.load_tensors(folder))
        except RuntimeError as exc:
            raise ModelError(f"weights do not fit the model described in config.json ({str(exc)[:200]})",
                             folder / modeldir.WEIGHTS) from exc
        return cls(model, config, folder)

    # ------------------------------------------------------------ arrays

    def _check_channels(self, images: np.ndarray, path) -> np.ndarray:
        if images.ndim == 3:
            images = images[:, None]
        if images.ndim != 4:
            raise DataError(f"has shape {images.shape}; expected sections (N, H, W) or (N, C, H, W)", path)
        if images.shape[1] != self.in_chans:
            raise DataError(f"has {images.shape[1]} channel(s) per pixel but the model was trained on "
                            f"{self.in_chans}", path)
        return images

    def _normaliser(self, source):
        from ..data import seismic

        low, high = seismic.clip_range(seismic.sample_for_stats(source), self.percentile)
        return lambda values: seismic.normalise(values, low, high)

    def predict_proba(self, x: np.ndarray, batch_size: int = 16, overlap: float | None = None) -> np.ndarray:
        """(N, K, H, W) probabilities for raw sections (N, H, W) / (N, C, H, W) / one (H, W)."""
        limit_threads()
        x = np.asarray(x, dtype=np.float32)
        images = self._check_channels(x[None] if x.ndim == 2 else x, None)
        images = self._normaliser(images)(images)
        return predict_sections(self.model, images, self.window, len(self.classes), batch_size,
                                self.config.get("overlap", 0.5) if overlap is None else overlap)

    def predict(self, x: np.ndarray, **options) -> np.ndarray:
        return self.predict_proba(x, **options).argmax(1).astype(np.uint8)

    def _section_values(self, section: np.ndarray, norm, output: str, proba_class: int, batch_size: int,
                        overlap: float) -> np.ndarray:
        image = norm(section)
        image = image[None] if image.ndim == 2 else image
        proba = predict_tiled(torch_predict_fn(self.model), image, self.window, len(self.classes), overlap, batch_size)
        if output == "proba":
            return proba[proba_class].astype(np.float32)
        return proba.argmax(0).astype(np.uint8)

    # ------------------------------------------------------------ files

    def predict_to_file(self, input: str | os.PathLike, out: str | os.PathLike, batch_size: int = 16,
                        engine: str = "auto", output: str = "class", proba_class: int | None = None,
                        overlap: float | None = None, progress: bool | None = None, crossline: bool = False) -> Path:
        """``_predict_file``; a .npy gets ``OUT.json`` beside it naming the classes (a .npy cannot hold names)."""
        from .outputs import write_class_order

        written = self._predict_file(input, out, batch_size, engine, output, proba_class, overlap, progress,
                                     crossline)
        if Path(written).suffix.lower() == ".npy":
            index = len(self.classes) - 1 if proba_class is None else int(proba_class)
            write_class_order(written, self.classes, "class index per pixel" if output == "class" else
                              f"probability of class {self.classes[index]!r} per pixel")
        return written

    def _predict_file(self, input: str | os.PathLike, out: str | os.PathLike, batch_size: int = 16,
                      engine: str = "auto", output: str = "class", proba_class: int | None = None,
                      overlap: float | None = None, progress: bool | None = None, crossline: bool = False) -> Path:
        """Predict ``input`` (.sgy/.segy, .npy/.npz, .tif) into ``out``; the output kind follows ``out``'s
        extension (.sgy needs a SEG-Y input, .tif a GeoTIFF input, .npy any). ``output``: ``class`` or
        ``proba`` (probability of ``proba_class``, default the last class). ``crossline=True`` (3D SEG-Y)
        also predicts every crossline and averages both directions' probabilities."""
        from ..data import seismic

        if engine == "onnx":
            raise ModelError("segmentation models run with PyTorch; ONNX is not available for --task segment",
                             self.folder)
        if output not in OUTPUTS:
            raise DataError(f"output must be one of {OUTPUTS}, got {output!r}", out)
        proba_class = len(self.classes) - 1 if proba_class is None else int(proba_class)
        if not 0 <= proba_class < len(self.classes):
            raise DataError(f"proba_class {proba_class} is not one of the model's {len(self.classes)} classes", out)
        limit_threads()
        overlap = float(self.config.get("overlap", 0.5) if overlap is None else overlap)
        if not 0.0 <= overlap < 1.0:
            raise ConfigError(f"--overlap must be at least 0 and below 1, got {overlap}")
        input, out = Path(input), Path(out)
        if not input.is_file():
            raise DataError("no such file", input)
        suffix = out.suffix.lower()
        options = dict(output=output, proba_class=proba_class, batch_size=batch_size, overlap=overlap)
        if seismic.is_segy(input):
            info = seismic.inspect_segy(input)
            if info.kind == "prestack":
                raise DataError(info.note, input)
            if self.in_chans != 1:
                raise DataError(f"has 1 channel (amplitude) but the model was trained on {self.in_chans}", input)
            norm = self._normaliser(input)
            if crossline:
                if info.kind != "3d":
                    raise DataError("crossline prediction needs a 3D inline/crossline grid; " + info.note, input)
                with tempfile.TemporaryDirectory(prefix=".geotune-xl-", dir=out.parent if out.parent.exists() else None) as tmp:
                    yield_values = self._both_directions(input, info, norm, Path(tmp), progress, **options)
                    return self._write_segy_or_npy(input, out, info, yield_values, output)
            sections = (section for _, section in seismic.iter_sections(input, info))
            values = (self._section_values(s, norm, **options) for s in _progress(sections, info.n_sections, progress))
            return self._write_segy_or_npy(input, out, info, values, output)
        if input.suffix.lower() in (".tif", ".tiff"):

            return self._predict_raster(input, out, **options)
        array = seismic.read_array(input)
        images = self._check_channels(np.asarray(array)[None] if array.ndim == 2 else array, input)
        if suffix != ".npy":
            raise DataError("for a .npy/.npz input write .npy", out)
        norm = self._normaliser(images)
        values = (self._section_values(np.asarray(image, dtype=np.float32), norm, **options)
                  for image in _progress(images, len(images), progress))
        shape = images.shape[2:] if array.ndim == 2 else (images.shape[0],) + images.shape[2:]  # same shape out
        return _write_npy(out, shape, output, values)

    @staticmethod
    def _write_segy_or_npy(input: Path, out: Path, info, values, output: str) -> Path:
        from ..data import seismic

        suffix = out.suffix.lower()
        if suffix in (".sgy", ".segy"):
            return seismic.write_segy_like(input, out, values)
        if suffix == ".npy":
            shape = (info.n_sections, info.n_samples, info.shape[1] if info.kind == "3d" else info.n_traces)
            return _write_npy(out, shape, output, values)
        raise DataError("for a SEG-Y input write .sgy or .npy", out)

    def _both_directions(self, input: Path, info, norm, tmp: Path, progress, output: str, proba_class: int,
                         batch_size: int, overlap: float) -> Iterator[np.ndarray]:
        """Inline then crossline probabilities summed in a disk-backed array (RAM stays one section)."""
        from ..data import seismic

        fn = torch_predict_fn(self.model)
        k = len(self.classes)
        total = np.lib.format.open_memmap(tmp / "proba.npy", mode="w+", dtype=np.float32,
                                          shape=(len(info.ilines), k, info.n_samples, len(info.xlines)))
        n_sections = len(info.ilines) + len(info.xlines)
        passes = ((axis, section) for axis in ("inline", "crossline")
                  for _, section in seismic.iter_sections(input, info, axis))
        counters = {"inline": 0, "crossline": 0}
        for axis, section in _progress(passes, n_sections, progress):
            proba = predict_tiled(fn, norm(section)[None], self.window, k, overlap, batch_size)
            index = counters[axis]
            if axis == "inline":
                total[index] = proba
            else:
                total[:, :, :, index] += proba.transpose(2, 0, 1)  # (k, sample, inline) -> (inline, k, sample)
            counters[axis] += 1
        for index in range(len(info.ilines)):
            proba = total[index] / 2
            yield proba[proba_class].astype(np.float32) if output == "proba" else proba.argmax(0).astype(np.uint8)

    def _predict_raster(self, input: Path, out: Path, output: str, proba_class: int, batch_size: int,
                        overlap: float) -> Path:
        """A GeoTIFF of any size, strip by strip (predict/raster_stream.py); the output keeps its grid."""
        from .raster_stream import predict_raster

        if out.suffix.lower() not in (".tif", ".tiff"):
            raise DataError("for a GeoTIFF input write .tif (same georeference)", out)
        if self.in_chans != 1:
            raise DataError(f"has 1 band read but the model was trained on {self.in_chans} channels", input)
        return predict_raster(torch_predict_fn(self.model), input, out, self.window, len(self.classes),
                              self._normaliser, output=output, proba_class=proba_class, overlap=overlap,
                              batch_size=batch_size)

    def evaluate_source(self, data: str | os.PathLike, labels: str | os.PathLike | None = None,
                        out_dir: str | os.PathLike | None = None, batch_size: int = 16) -> dict:
        """Score against label masks, one section at a time (a survey is never held in memory);
        writes metrics.json into ``out_dir`` when given."""
        from .._atomic import atomic_file
        from ..data import seismic
        from ..data.sections import check_mask, open_pairs
        from ..evaluate.segmentation import SegmentationScores

        if labels is None:
            raise DataError("evaluating a segmentation model needs --labels (masks of the data's shape)", data)
        limit_threads()
        images, masks = open_pairs(data, labels)
        if images.channels != self.in_chans:
            raise DataError(f"has {images.channels} channel(s) per pixel but the model was trained on "
                            f"{self.in_chans}", data)
        low, high = seismic.clip_range(images.stats_sample(), self.percentile)
        fn = torch_predict_fn(self.model)
        overlap = float(self.config.get("overlap", 0.5))
        scores = SegmentationScores(self.classes)
        example, most_labelled = None, -1  # the section with the most non-background pixels, for example.png
        for index in _progress(range(images.n), images.n, None):
            mask = check_mask(masks.read(index)[0], labels)
            if mask.size and mask.max() >= len(self.classes):
                raise DataError(f"labels hold class {mask.max()} but the model knows {len(self.classes)} classes",
                                labels)
            image = seismic.normalise(images.read(index), low, high)
            proba = predict_tiled(fn, image, self.window, len(self.classes), overlap, batch_size)
            predicted = proba.argmax(0)
            scores.update(mask, predicted)
            labelled = int(np.count_nonzero(mask))
            if out_dir is not None and labelled > most_labelled:
                example, most_labelled = (image[0], mask, predicted), labelled
        metrics = scores.result()
        if out_dir is not None:
            import json

            from ..evaluate.plots import save_segmentation_plots

            with atomic_file(Path(out_dir) / "metrics.json") as handle:
                json.dump(metrics, handle, indent=2)
            save_segmentation_plots(Path(out_dir), metrics, example)
        return metrics


def _progress(items, total: int, enabled: bool | None) -> Iterator:
    """tqdm's bar on a terminal (or when ``enabled`` asks for it); otherwise geotune's progress lines, which
    the command line shows and the Python API does not."""
    if enabled is None and not sys.stderr.isatty():
        return _section_lines(items, total)
    from tqdm import tqdm

    return iter(tqdm(items, total=total, desc="sections", unit="section", file=sys.stderr,
                     disable=None if enabled is None else not enabled, leave=False))


def _section_lines(items, total: int) -> Iterator:
    from .. import progress

    for i, item in enumerate(items, 1):
        progress.stage("predicting sections", i, total)
        yield item


def _write_npy(out: Path, shape: tuple[int, ...], output: str, values) -> Path:
    """Stream sections into a memory-mapped .npy beside ``out``; rename only when all are written."""
    dtype = np.uint8 if output == "class" else np.float32
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}.npy")
    try:
        target = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
        expected = 1 if len(shape) == 2 else shape[0]
        count = 0
        for i, section in enumerate(values):
            if len(shape) == 2:
                target[...] = section
            else:
                target[i] = section
            count += 1
        target.flush()
        del target
        if count != expected:
            raise DataError(f"only {count} of {expected} sections were predicted; nothing was kept", out)
        os.replace(tmp, out)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    return out
