"""Seismic input and output: SEG-Y / Seismic Unix through segyio, NumPy .npy/.npz volumes.

Geometry conventions
- A post-stack 3D SEG-Y reads as (inline, crossline, sample); a *section* is one inline shown as
  (sample, crossline), depth down, which is what the segmentation models see.
- A file whose trace headers carry no inline/crossline grid (2D lines, unstructured files) reads as a
  trace collection (trace, sample); geotune treats it as one section in file order.
- Pre-stack files (several offsets per location) read as (inline, crossline, offset, sample); they can be
  inspected but not segmented (stack them first).
- NumPy arrays are (N, H, W) sections as stored (a 2D array is one section).

Large volumes are never loaded whole for prediction: ``iter_sections`` reads one inline at a time from
the memory-mapped file and ``SegyWriter`` writes the output one section at a time.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import DataError

TEXT_HEADER_BYTES = 3200
BINARY_HEADER_END = 3600
TRACE_HEADER_BYTES = 240
FORMAT_CODE_BYTES = slice(3224, 3226)  # binary header bytes 3225-3226
ILINE_BYTE, XLINE_BYTE = 189, 193
NPZ_KEYS = ("data", "amplitude", "images", "volume", "x")
STATS_MAX_VALUES = 2_000_000  # amplitude values read to estimate the clip percentiles (8 MB at most)


@dataclass
class SegyInfo:
    """What a SEG-Y/SU file holds and how geotune will read it."""

    path: str
    kind: str  # "3d" | "prestack" | "traces"
    endian: str
    su: bool
    format_code: int
    n_traces: int
    n_samples: int
    sample_interval_ms: float | None
    ilines: list[int] = field(default_factory=list)
    xlines: list[int] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    sorting: str | None = None
    ext_headers: int = 0
    note: str = ""

    @property
    def shape(self) -> tuple[int, ...]:
        if self.kind == "3d":
            return (len(self.ilines), len(self.xlines), self.n_samples)
        if self.kind == "prestack":
            return (len(self.ilines), len(self.xlines), len(self.offsets), self.n_samples)
        return (self.n_traces, self.n_samples)

    @property
    def n_sections(self) -> int:
        return len(self.ilines) if self.kind == "3d" else 1

    def open_options(self) -> dict:
        return {"endian": self.endian, "ignore_geometry": self.kind == "traces"}


def is_segy(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in (".sgy", ".segy", ".su")


# ---------------------------------------------------------------- inspecting


def inspect_segy(path: str | os.PathLike) -> SegyInfo:
    """Open a SEG-Y or SU file, work out byte order and geometry, and check it is internally consistent.

    Raises DataError with the reason for anything it cannot read correctly (truncated files, unknown
    sample formats, SEG-Y rev 2 layouts segyio 1.9 cannot parse, header/size contradictions).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path)
    size = path.stat().st_size
    su = path.suffix.lower() == ".su"
    if su:
        return _inspect_su(path, size)
    if size < BINARY_HEADER_END:
        raise DataError(f"is {size} bytes, shorter than the 3600-byte SEG-Y text and binary headers", path)
    with open(path, "rb") as handle:
        head = handle.read(BINARY_HEADER_END)
    endian = _detect_endian(head, path)
    revision = _revision(head, endian)
    if size == BINARY_HEADER_END:
        raise DataError("has text and binary headers but no traces", path)
    info = None
    errors = []
    for ignore_geometry in (False, True):
        try:
            info = _open_info(path, endian, ignore_geometry, su=False)
            break
        except DataError:
            raise
        except Exception as exc:  # segyio raises RuntimeError/ValueError/IndexError with terse messages
            errors.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    if info is None:
        raise DataError(_explain_open_failure(errors[-1], revision, size), path)
    _check_size(info, size, path)
    return info


def _detect_endian(head: bytes, path: Path) -> str:
    raw = head[FORMAT_CODE_BYTES]
    big, little = int.from_bytes(raw, "big"), int.from_bytes(raw, "little")
    if 1 <= big <= 16:
        return "big"
    if 1 <= little <= 16:
        return "little"
    raise DataError(f"the sample format code (binary header bytes 3225-3226) reads {big} big-endian and "
                    f"{little} little-endian; neither is a SEG-Y format code (1-16): not SEG-Y, or a damaged "
                    "binary header", path)


def _revision(head: bytes, endian: str) -> tuple[int, int]:
    # rev 2 stores major and minor revision as one byte each, so byte order does not swap them
    return head[3500], head[3501]


def _explain_open_failure(error: str, revision: tuple[int, int], size: int) -> str:
    if revision[0] == 2:
        return (f"SEG-Y revision {revision[0]}.{revision[1]} layout (trace header extensions or XML header "
                f"mapping) that segyio 1.9 cannot read ({error}); convert it to revision 1 first")
    if "inconsistent with file size" in error or "non-uniform" in error:
        return (f"is truncated, its traces differ in length, or its headers use a layout segyio 1.9 does "
                f"not read: {size} bytes is not 3600 + whole traces ({error})")
    if "no data traces" in error or "out of range" in error:
        return f"holds no complete trace after its headers ({error})"
    if "format" in error.lower():
        return f"uses a sample format segyio cannot read ({error})"
    return f"cannot be read as SEG-Y ({error})"


def _open_info(path: Path, endian: str, ignore_geometry: bool, su: bool) -> SegyInfo:
    import segyio

    opener = segyio.su.open if su else segyio.open
    with opener(str(path), "r", endian=endian, ignore_geometry=ignore_geometry) as f:
        if not su and f.ext_headers < 0:
            raise DataError(
                f"declares an unknown number ({f.ext_headers}) of extended text headers (binary header bytes "
                "3505-3506); segyio 1.9 would read those headers as traces and return a wrong trace count. "
                "Set the count in the binary header (or rewrite the file) first", path)
        n_samples = len(f.samples)
        if n_samples == 0:
            raise DataError("declares 0 samples per trace", path)
        interval = _sample_interval(f, su)
        fmt = 5 if su else int(f.bin[segyio.BinField.Format])
        common = dict(path=str(path), endian=endian, su=su, format_code=fmt, n_traces=int(f.tracecount),
                      n_samples=n_samples, sample_interval_ms=interval,
                      ext_headers=0 if su else int(f.ext_headers))
        if f.unstructured:
            note = (f"no regular inline/crossline grid in the trace headers (bytes {ILINE_BYTE}/{XLINE_BYTE}): "
                    f"read as a collection of {f.tracecount} traces, treated as one 2D section in file order; "
                    "segmentation and prediction work on that section, 3D operations (crossline passes, "
                    "volume shape checks) are not possible")
            return SegyInfo(kind="traces", note=note, **common)
        sorting = {segyio.TraceSortingFormat.INLINE_SORTING: "inline",
                   segyio.TraceSortingFormat.CROSSLINE_SORTING: "crossline"}.get(f.sorting)
        offsets = [int(o) for o in f.offsets]
        kind = "prestack" if len(offsets) > 1 else "3d"
        note = "" if kind == "3d" else (f"pre-stack: {len(offsets)} offsets per location; geotune segments "
                                        "post-stack data, stack the gathers first")
        return SegyInfo(kind=kind, ilines=[int(i) for i in f.ilines], xlines=[int(x) for x in f.xlines],
                        offsets=offsets, sorting=sorting, note=note, **common)


def _sample_interval(f, su: bool) -> float | None:
    import segyio

    candidates = [] if su else [f.bin[segyio.BinField.Interval]]  # SU files have no binary header
    if f.tracecount:
        candidates.append(f.header[0][segyio.TraceField.TRACE_SAMPLE_INTERVAL])
    for value in candidates:
        if value and value > 0:
            return value / 1000.0
    return None  # negative or missing intervals: unknown, not an error for segmentation


def _check_size(info: SegyInfo, size: int, path: Path) -> None:
    """Header-declared trace count and length must account for every byte of the file."""
    itemsize = _itemsize(info.format_code)
    header = 0 if info.su else BINARY_HEADER_END + TEXT_HEADER_BYTES * info.ext_headers
    expected = header + info.n_traces * (TRACE_HEADER_BYTES + info.n_samples * itemsize)
    if expected != size:
        raise DataError(
            f"headers say {info.n_traces} traces of {info.n_samples} samples ({itemsize}-byte format "
            f"{info.format_code}), which makes {expected} bytes, but the file has {size}: truncated, extra "
            "headers segyio does not count, or traces of unequal length", path)


def _itemsize(format_code: int) -> int:
    return {1: 4, 2: 4, 3: 2, 5: 4, 6: 8, 8: 1, 9: 8, 10: 4, 11: 2, 12: 8, 16: 1}.get(format_code, 4)


def _inspect_su(path: Path, size: int) -> SegyInfo:
    if size < TRACE_HEADER_BYTES:
        raise DataError(f"is {size} bytes, shorter than one 240-byte SU trace header", path)
    reasons = []
    for endian in ("big", "little"):
        try:
            info = _open_info(path, endian, False, su=True)
        except DataError:
            raise
        except Exception as exc:
            try:
                info = _open_info(path, endian, True, su=True)
            except Exception:
                reasons.append(f"{endian}-endian: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
                continue
        try:
            _check_size(info, size, path)
            return info
        except DataError as exc:
            reasons.append(f"{endian}-endian: {exc.message}")
    raise DataError("cannot be read as Seismic Unix in either byte order (" + "; ".join(reasons) + ")", path)


# ---------------------------------------------------------------- reading


@contextlib.contextmanager
def open_segy(path: str | os.PathLike, info: SegyInfo | None = None):
    """``(segyio file, info)`` with the options inspection chose. Read with plain file reads, not mmap: scanning
    every trace header through a memory map made each page of a 4 GB survey resident in this process (peak RSS
    4.8 GB); read, they pass through the shared page cache and the process stays near 1.5 GB."""
    import segyio

    info = info or inspect_segy(path)
    opener = segyio.su.open if info.su else segyio.open
    try:
        handle = opener(str(path), "r", **info.open_options())
    except Exception as exc:
        raise DataError(f"cannot be opened as SEG-Y ({exc})", path) from exc
    with handle as f:
        yield f, info


def read_segy(path: str | os.PathLike) -> tuple[np.ndarray, SegyInfo]:
    """The whole file in memory: 3D (il, xl, sample), pre-stack (il, xl, offset, sample) or (trace, sample).

    For volumes larger than memory use ``iter_sections``.
    """
    with open_segy(path) as (f, info):
        try:
            raw = f.trace.raw[:]
        except Exception as exc:
            raise DataError(f"traces cannot be read ({exc})", path) from exc
        array = np.asarray(raw, dtype=np.float32).reshape(info.n_traces, info.n_samples)
        if info.kind == "traces":
            return array, info
        order = _grid_order(f, info)
        return array[order.ravel()].reshape(info.shape), info


def _grid_order(f, info: SegyInfo) -> np.ndarray:
    """Trace index for every (inline, crossline[, offset]) in segyio's il/xl/offset listing order."""
    import segyio

    il = f.attributes(segyio.TraceField.INLINE_3D)[:]
    xl = f.attributes(segyio.TraceField.CROSSLINE_3D)[:]
    n_off = len(info.offsets) if info.kind == "prestack" else 1
    off_index = np.zeros(len(il), dtype=np.int64)
    if info.kind == "prestack":
        off_index = _positions(f.attributes(segyio.TraceField.offset)[:], info.offsets)
    order = np.empty((len(info.ilines), len(info.xlines), n_off), dtype=np.int64)
    # vectorised: a survey of tens of millions of traces is indexed in seconds, not minutes
    order[_positions(il, info.ilines), _positions(xl, info.xlines), off_index] = np.arange(len(il))
    return order if info.kind == "prestack" else order[..., 0]


def _positions(values: np.ndarray, listing: list[int]) -> np.ndarray:
    """Index of every value in ``listing`` (values all occur in it)."""
    listing = np.asarray(listing)
    sorter = np.argsort(listing, kind="stable")
    return sorter[np.searchsorted(listing, np.asarray(values), sorter=sorter)]


def section_trace_indices(f, info: SegyInfo, axis: str = "inline") -> list[np.ndarray]:
    """Per section, the trace indices in section column order: inlines (crosslines as listed across) or,
    with ``axis="crossline"``, crosslines (inlines as listed across)."""
    if info.kind == "prestack":
        raise DataError(info.note, info.path)
    if info.kind == "traces":
        if axis != "inline":
            raise DataError("has no inline/crossline grid, so it has no crossline sections", info.path)
        return [np.arange(info.n_traces)]
    order = _grid_order(f, info)
    if axis == "crossline":
        return [order[:, j] for j in range(order.shape[1])]
    return [order[i] for i in range(order.shape[0])]


def iter_sections(path: str | os.PathLike, info: SegyInfo | None = None,
                  axis: str = "inline") -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(line number or 0, section (sample, trace) float32)`` one at a time from the memory-mapped
    file: inlines by default, crosslines with ``axis="crossline"``."""
    with open_segy(path, info) as (f, info):
        for number, indices in enumerate(section_trace_indices(f, info, axis)):
            lines = info.xlines if axis == "crossline" else info.ilines
            key = lines[number] if info.kind == "3d" else 0
            yield key, read_traces(f, indices, path).T


def read_traces(f, indices: np.ndarray, path) -> np.ndarray:
    """(len(indices), n_samples) float32 from an open segyio file; a contiguous run is read as one block."""
    try:
        if len(indices) > 1 and np.all(np.diff(indices) == 1):
            block = f.trace.raw[int(indices[0]):int(indices[-1]) + 1]
        else:
            block = np.stack([f.trace[int(i)] for i in indices])
    except Exception as exc:
        raise DataError(f"traces cannot be read ({exc})", path) from exc
    return np.asarray(block, dtype=np.float32).reshape(len(indices), -1)


def read_sections(path: str | os.PathLike) -> np.ndarray:
    """Any supported seismic file as (N, H, W) float32 sections (depth down)."""
    path = Path(path)
    if is_segy(path):
        return np.stack([section for _, section in iter_sections(path)])
    array = read_array(path)
    return np.asarray(as_sections(array, path), dtype=np.float32)


def read_array(path: str | os.PathLike, mmap: bool = True) -> np.ndarray:
    """A .npy (memory-mapped) or .npz array, never unpickling anything."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path)
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                keys = list(archive.keys())
                key = keys[0] if len(keys) == 1 else next((k for k in NPZ_KEYS if k in keys), None)
                if key is None:
                    raise DataError(f"holds arrays {keys}; name the amplitude array one of {NPZ_KEYS}", path)
                return archive[key]
        if path.suffix.lower() != ".npy":
            raise DataError("is not a seismic file geotune reads (.sgy, .segy, .su, .npy, .npz)", path)
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except DataError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"cannot be read as a NumPy array ({exc})", path) from exc


def as_sections(array: np.ndarray, path=None) -> np.ndarray:
    """(H, W) -> (1, H, W); (N, H, W) as is; anything else has no section geometry."""
    if array.ndim == 2:
        return array[None]
    if array.ndim == 3:
        return array
    raise DataError(f"has shape {array.shape}; expected sections (N, H, W) or one section (H, W)", path)


# ---------------------------------------------------------------- normalisation


def normalisation_spec(percentile: float = 99.0) -> dict:
    """The recipe stored in a model's config.json so that prediction repeats it on every input."""
    return {"method": "percentile_clip", "percentile": float(percentile), "scope": "per_input"}


def clip_range(values: np.ndarray, percentile: float) -> tuple[float, float]:
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = np.percentile(finite, [100.0 - percentile, percentile])
    if high <= low:  # a constant input: centre it, do not divide by zero
        return float(low) - 1.0, float(high) + 1.0
    return float(low), float(high)


def normalise(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Clip to [low, high] (outlier spikes) and map to [-1, 1]; NaN becomes 0."""
    out = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float32), nan=(low + high) / 2), low, high)
    return ((out - (low + high) / 2) / ((high - low) / 2)).astype(np.float32)


def sample_for_stats(source, max_values: int | None = None) -> np.ndarray:
    """Values for the percentile estimate: a SEG-Y path (evenly spaced traces) or an array (strided
    sample); memory stays bounded whatever the volume size."""
    max_values = STATS_MAX_VALUES if max_values is None else max_values
    if isinstance(source, (str, os.PathLike)) and is_segy(source):
        with open_segy(source) as (f, info):
            n = max(1, min(info.n_traces, max_values // max(info.n_samples, 1)))
            picks = np.unique(np.linspace(0, info.n_traces - 1, n).astype(int))
            return np.concatenate([np.asarray(f.trace[int(i)], dtype=np.float32) for i in picks])
    array = np.asarray(source) if not isinstance(source, np.ndarray) else source
    step = max(1, int(np.ceil(array.shape[0] / max(1, max_values // max(1, array[0].size)))))
    return np.asarray(array[::step], dtype=np.float32).ravel()


# ---------------------------------------------------------------- writing


class SegyWriter:
    """Write values onto a copy of an input SEG-Y: same text, binary and trace headers, same geometry;
    samples as IEEE float32. Sections arrive in ``iter_sections`` order; the file appears only when
    every trace was written (``close(success=True)``)."""

    def __init__(self, source: str | os.PathLike, out: str | os.PathLike, info: SegyInfo | None = None):
        import segyio

        self.source, self.out = Path(source), Path(out)
        self.info = info or inspect_segy(source)
        if self.info.su:
            raise DataError("predictions for a Seismic Unix input cannot be written as SEG-Y; use --out .npy",
                            source)
        if self.info.kind == "prestack":
            raise DataError(self.info.note, source)
        self._stack = contextlib.ExitStack()
        self._src, _ = self._stack.enter_context(open_segy(source, self.info))
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.out.with_name(f".{self.out.name}.tmp-{os.getpid()}")
        spec = segyio.tools.metadata(self._src)
        spec.format = 5
        spec.ext_headers = self.info.ext_headers
        spec.endian = self.info.endian
        self._dst = segyio.create(str(self._tmp), spec)
        self._dst.text[0] = self._src.text[0]
        for i in range(1, self.info.ext_headers + 1):
            self._dst.text[i] = self._src.text[i]
        binary = dict(self._src.bin)
        binary[segyio.BinField.Format] = 5
        self._dst.bin = binary
        self._indices = section_trace_indices(self._src, self.info)
        self._written = 0

    def write_section(self, number: int, values: np.ndarray) -> None:
        if not 0 <= number < len(self._indices):
            raise DataError(f"section {number} does not exist; the input has {len(self._indices)}", self.out)
        indices = self._indices[number]
        values = np.asarray(values, dtype=np.float32)
        if values.shape != (self.info.n_samples, len(indices)):
            raise DataError(f"section {number} has shape {values.shape}, the input's is "
                            f"{(self.info.n_samples, len(indices))}", self.out)
        values = np.ascontiguousarray(values.T)  # one row per trace, as segyio writes them
        for row, trace in enumerate(indices):
            self._dst.header[int(trace)] = self._src.header[int(trace)]
            self._dst.trace[int(trace)] = values[row]
        self._written += 1

    def close(self, success: bool = True) -> Path | None:
        self._dst.close()
        self._stack.close()
        if success and self._written == len(self._indices):
            os.replace(self._tmp, self.out)
            return self.out
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)
        return None

    def __enter__(self) -> "SegyWriter":
        return self

    def __exit__(self, kind, value, tb) -> None:
        result = self.close(success=kind is None)
        if kind is None and result is None:
            raise DataError(f"only {self._written} of {len(self._indices)} sections were written; "
                            "nothing was kept", self.out)


def write_segy_like(source: str | os.PathLike, out: str | os.PathLike, sections) -> Path:
    """Write ``sections`` (an (N, H, W) array or an iterable of (H, W)) onto ``source``'s geometry."""
    with SegyWriter(source, out) as writer:
        for number, values in enumerate(sections):
            writer.write_section(number, values)
    return Path(out)


def write_volume_segy(out: str | os.PathLike, volume: np.ndarray, first_inline: int = 1, first_crossline: int = 1,
                      sample_interval_ms: float = 4.0, sorting: str = "inline") -> Path:
    """Write an (inline, crossline, sample) array as a new post-stack 3D SEG-Y (IEEE float, big-endian),
    with inline/crossline numbers in bytes 189/193 and CDP x/y on a 25 m grid; atomically."""
    import segyio

    volume = np.asarray(volume, dtype=np.float32)
    if volume.ndim != 3:
        raise DataError(f"a 3D SEG-Y needs an (inline, crossline, sample) array, got shape {volume.shape}", out)
    n_il, n_xl, n_samples = volume.shape
    spec = segyio.spec()
    spec.format = 5
    spec.samples = np.arange(n_samples) * sample_interval_ms
    spec.ilines = list(range(first_inline, first_inline + n_il))
    spec.xlines = list(range(first_crossline, first_crossline + n_xl))
    spec.sorting = segyio.TraceSortingFormat.INLINE_SORTING if sorting == "inline" else \
        segyio.TraceSortingFormat.CROSSLINE_SORTING
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        with segyio.create(str(tmp), spec) as f:
            f.bin.update(hdt=int(sample_interval_ms * 1000), hns=n_samples, format=5)
            pairs = [(i, x) for i in range(n_il) for x in range(n_xl)] if sorting == "inline" else \
                [(i, x) for x in range(n_xl) for i in range(n_il)]
            for trace, (i, x) in enumerate(pairs):
                f.header[trace] = {
                    segyio.TraceField.INLINE_3D: spec.ilines[i], segyio.TraceField.CROSSLINE_3D: spec.xlines[x],
                    segyio.TraceField.CDP_X: 25 * x, segyio.TraceField.CDP_Y: 25 * i,
                    segyio.TraceField.TRACE_SAMPLE_COUNT: n_samples,
                    segyio.TraceField.TRACE_SAMPLE_INTERVAL: int(sample_interval_ms * 1000),
                }
                f.trace[trace] = volume[i, x]
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
