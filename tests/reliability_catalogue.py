"""The catalogue of bad (and awkward-but-valid) inputs, as data: one case per row of docs/reliability.md.

tests/test_reliability_catalogue.py runs every case through ``geotune.cli.main`` and checks what the row says;
it also checks that docs/reliability.md equals what this module renders. After changing a case, regenerate:

    .venv/bin/python tests/reliability_catalogue.py        # rewrites docs/reliability.md
"""

from __future__ import annotations

import os
import pickle
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

# each case checks that an error is one line on stderr: the logs task's progress lines (reading wells,
# folds) would be more lines, so they are off for the catalogue
os.environ.setdefault("GEOTUNE_PROGRESS", "0")

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"
SHARED = Path(os.environ.get("GEOTUNE_SHARED_DATA", ROOT.parent / "shared" / "data"))
SEGY = SHARED / "segy_samples"
LAS = SHARED / "las_samples"

TRAIN = ["train", "--image-size", "32", "--epochs", "1", "--out", "{d}/run"]


@dataclass(frozen=True)
class Case:
    id: str
    input: str  # what the user hands geotune
    build: Callable[[Path], list[str]]  # writes the input under a temporary folder, returns the CLI arguments
    error: str | None  # the exact exception class the CLI reports (None: the input must work)
    message: str  # regex the one-line message must match (or, when it works, what the output holds)
    names: str  # the file the message must name
    shared: Path | None = None  # a file from ../shared/data the case needs (skipped when absent)
    bug: str | None = None  # a known, unfixed bug: the test is xfail(strict) with this reason

    @property
    def needs_model(self) -> bool:
        """Cases run through `predict` get a copy of a small saved classifier at {d}/model."""
        return self.id.startswith("model-") or self.error is None


# ------------------------------------------------------------------ builders (each writes its input)

def _png(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    if mode:
        image = image.convert(mode)
    image.save(path)
    return path


def _noise(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, shape, dtype=np.uint8)


def _tree_with(d: Path, name: str, content: bytes) -> list[str]:
    """Class folders a/ (one good image) and b/ (the bad one): `geotune train` must name the bad file."""
    _png(d / "tree" / "a" / "ok.png", _noise((16, 16)))
    (d / "tree" / "b").mkdir(parents=True)
    (d / "tree" / "b" / name).write_bytes(content)
    return TRAIN + ["--data", "{d}/tree"]


def _good_png_bytes(d: Path) -> bytes:
    return _png(d / "src.png", _noise((64, 64, 3))).read_bytes()


def zero_byte(d):
    return _tree_with(d, "bad.png", b"")


def truncated(d):
    return _tree_with(d, "bad.png", _good_png_bytes(d)[:300])


def corrupt(d):
    return _tree_with(d, "bad.jpg", bytes(_noise(500, seed=3)))


def bomb(d):
    # A valid PNG header claiming 30000 x 30000 pixels with almost no data behind it.
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    return _tree_with(d, "bomb.png", png)


def _predict_images(d: Path, writer) -> list[str]:
    folder = d / "images"
    for i in range(3):
        writer(folder / f"img{i}.{'jpg' if writer is _cmyk else 'png'}", i)
    return ["predict", "{d}/model", "{d}/images", "--out", "{d}/pred.csv"]


def _cmyk(path, i):
    _png(path, _noise((20, 24, 3), i), "CMYK")


def _uint16(path, i):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(i).integers(0, 65535, (20, 24), dtype=np.uint16)).save(path)


def _palette(path, i):
    _png(path, _noise((20, 24, 3), i), "P")


def cmyk(d):
    return _predict_images(d, _cmyk)


def sixteen_bit(d):
    return _predict_images(d, _uint16)


def palette(d):
    return _predict_images(d, _palette)


def empty_folder(d):
    (d / "empty").mkdir()
    return TRAIN + ["--data", "{d}/empty"]


def empty_class_folder(d):
    _png(d / "tree" / "a" / "ok.png", _noise((16, 16)))
    (d / "tree" / "b").mkdir()
    return TRAIN + ["--data", "{d}/tree"]


def _manifest(d: Path, rows: str) -> list[str]:
    for i in range(2):
        _png(d / "set" / "img" / f"{i}.png", _noise((16, 16), i))
    (d / "set" / "m.csv").write_text("path,label\n" + rows)
    return TRAIN + ["--data", "{d}/set/m.csv"]


def manifest_missing(d):
    return _manifest(d, "img/0.png,a\nimg/gone.png,b\n")


def manifest_escape(d):
    _png(d / "outside.png", _noise((16, 16)))
    return _manifest(d, "img/0.png,a\n../outside.png,b\n")


def manifest_absolute(d):
    return _manifest(d, "img/0.png,a\n/etc/hostname,b\n")


def manifest_extra_values(d):
    return _manifest(d, "img/0.png,a\nimg/1.png,b,surplus\n")


def _arrays(d: Path, x, y, pickled=False) -> list[str]:
    np.save(d / "x.npy", x, allow_pickle=pickled)
    np.save(d / "y.npy", y, allow_pickle=True)
    return TRAIN + ["--data", "{d}/x.npy", "--labels", "{d}/y.npy"]


def count_mismatch(d):
    return _arrays(d, np.zeros((4, 8, 8), np.float32), np.array([0, 1, 0]))


def nan_values(d):
    x = np.random.default_rng(0).normal(size=(4, 8, 8)).astype(np.float32)
    x[2, 3, 3] = np.nan
    return _arrays(d, x, np.array([0, 1, 0, 1]))


def inf_values(d):
    x = np.random.default_rng(0).normal(size=(4, 8, 8))
    x[1, 0, 0] = np.inf
    return _arrays(d, x, np.array([0, 1, 0, 1]))


def mixed_labels(d):
    return _arrays(d, np.zeros((4, 8, 8), np.float32), np.array([1, "a", 2, "b"], dtype=object))


def fractional_labels(d):
    return _arrays(d, np.zeros((4, 8, 8), np.float32), np.array([0.0, 1.5, 0.0, 1.0]))


def one_class(d):
    return _arrays(d, np.random.default_rng(0).normal(size=(4, 8, 8)), np.array(["shale"] * 4))


class _Payload:
    """Unpickling this creates a file: proof that a pickle was (or was not) executed."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def pickled_npy(d):
    payload = np.array([_Payload(str(d / "EXECUTED"))] * 4, dtype=object)
    return _arrays(d, payload, np.array([0, 1, 0, 1]), pickled=True)


def truncated_npy(d):
    np.save(d / "full.npy", np.zeros((4, 8, 8), np.float32))
    (d / "x.npy").write_bytes((d / "full.npy").read_bytes()[:150])
    np.save(d / "y.npy", np.array([0, 1, 0, 1]))
    return TRAIN + ["--data", "{d}/x.npy", "--labels", "{d}/y.npy"]


def _segment(d: Path, data: str) -> list[str]:
    np.save(d / "masks.npy", np.zeros((1, 8, 8), dtype=np.int64))
    return ["train", "--task", "segment", "--epochs", "1", "--data", data, "--labels", "{d}/masks.npy",
            "--out", "{d}/run"]


def segy_truncated(d):
    (d / "cut.sgy").write_bytes((SEGY / "small.sgy").read_bytes()[:-100])
    return _segment(d, "{d}/cut.sgy")


def shared_segy(name):
    return lambda d: _segment(d, str(SEGY / name))


def _logs(data: str) -> list[str]:
    return ["train", "--task", "logs", "--label-column", "FACIES", "--data", data, "--out", "{d}/run"]


def shared_las(name):
    return lambda d: _logs(str(LAS / name))


def empty_las(d):
    (d / "empty.las").write_bytes(b"")
    return _logs("{d}/empty.las")


def bad_gzip_las(d):
    (d / "wells").mkdir()
    (d / "wells" / "w1.las.gz").write_bytes(b"~Version\n VERS. 2.0:\n")  # named .gz, not compressed
    return _logs("{d}/wells")


def zip_without_las(d):
    import zipfile

    with zipfile.ZipFile(d / "wells.zip", "w") as archive:
        archive.writestr("README.txt", "logs to follow")
    return _logs("{d}/wells.zip")


def unlabelled_wells(d):
    from geotune.logs.synthetic import make_wells, write_las

    (d / "wells").mkdir()
    table = make_wells(2, 30, seed=1, missing_pe_wells=0)
    table["FACIES"] = np.nan  # the label curve is there, null over every interval
    for name, rows in table.drop(columns="Facies").groupby("Well Name"):
        write_las(rows, d / "wells" / f"{name}.las")
    return _logs("{d}/wells")


def _tif(path: Path, crs: str, cell: float = 1000.0) -> None:
    import rasterio
    from rasterio.transform import from_origin

    values = np.random.default_rng(0).random((12, 12)).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", height=12, width=12, count=1, dtype="float32", crs=crs,
                       transform=from_origin(500000, 7000000, cell, cell)) as dst:
        dst.write(values, 1)


def _prospect(d: Path, second_crs: str, second_cell: float) -> list[str]:
    _tif(d / "geology.tif", "EPSG:28354")
    _tif(d / "magnetics.tif", second_crs, second_cell)
    (d / "deposits.csv").write_text("x,y\n503500,6996500\n508500,6991500\n")
    return ["prospect", "fit", "--layers", "{d}/geology.tif", "{d}/magnetics.tif", "--deposits", "{d}/deposits.csv",
            "--cv-blocks", "0", "--out", "{d}/run"]


def other_crs(d):
    return _prospect(d, "EPSG:4326", 1000.0)


def other_grid(d):
    return _prospect(d, "EPSG:28354", 500.0)


def _model_predict(d: Path) -> list[str]:
    np.save(d / "x.npy", np.zeros((2, 8, 8), np.float32))
    return ["predict", "{d}/model", "{d}/x.npy", "--out", "{d}/pred.csv"]


def model_missing(d):
    (Path(str(d / "model")) / "weights.safetensors").unlink()
    return _model_predict(d)


def model_as_weights_of_another_backbone(d):
    np.save(d / "x.npy", np.zeros((4, 8, 8), np.float32))
    np.save(d / "y.npy", np.array(["a", "b", "a", "b"]))
    return TRAIN + ["--data", "{d}/x.npy", "--labels", "{d}/y.npy", "--backbone", "resnet18", "--weights", "{d}/model"]


def model_edited(d):
    weights = d / "model" / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0x55
    weights.write_bytes(bytes(data))
    return _model_predict(d)


def model_pickle(d):
    (d / "model" / "extra.pkl").write_bytes(pickle.dumps(_Payload(str(d / "EXECUTED"))))
    return _model_predict(d)


def model_disguised_pickle(d):
    (d / "model" / "notes.dat").write_bytes(pickle.dumps(_Payload(str(d / "EXECUTED"))))
    return _model_predict(d)


def model_bad_json(d):
    (d / "model" / "config.json").write_text('{"task": "classify", ')
    return _model_predict(d)


# ------------------------------------------------------------------ the catalogue

DATA, MODEL = "DataError", "ModelError"
CASES: list[Case] = [
    Case("image-zero-byte", "class folder holding a 0-byte .png", zero_byte, DATA, r"is empty \(0 bytes\)", "bad.png"),
    Case("image-truncated", "class folder holding a PNG cut after 300 bytes", truncated, DATA,
         r"cannot be decoded .*truncated or corrupt", "bad.png"),
    Case("image-corrupt", "class folder holding random bytes named .jpg", corrupt, DATA,
         "not an image Pillow can read", "bad.jpg"),
    Case("image-bomb", "PNG whose header claims 30000 x 30000 pixels (decompression bomb)", bomb, DATA,
         "decompression bomb", "bomb.png"),
    Case("image-cmyk", "CMYK JPEGs (predict)", cmyk, None, "one prediction row per image", "pred.csv"),
    Case("image-16bit", "16-bit greyscale PNGs (predict)", sixteen_bit, None, "one prediction row per image",
         "pred.csv"),
    Case("image-palette", "palette (P mode) PNGs (predict)", palette, None, "one prediction row per image", "pred.csv"),
    Case("folder-empty", "an empty folder as --data", empty_folder, DATA, "holds no images and no class sub-folders",
         "empty"),
    Case("folder-empty-class", "a class sub-folder with no images", empty_class_folder, DATA,
         "class folder holds no images", "tree/b"),
    Case("manifest-missing-file", "CSV manifest listing an image that does not exist", manifest_missing, DATA,
         r"line 3: image 'img/gone.png' not found", "m.csv"),
    Case("manifest-escape", "CSV manifest with a path ../outside.png", manifest_escape, DATA,
         "line 3: path '../outside.png' points outside the manifest's folder", "m.csv"),
    Case("manifest-absolute", "CSV manifest with an absolute path /etc/hostname", manifest_absolute, DATA,
         "line 3: path '/etc/hostname' points outside the manifest's folder", "m.csv"),
    Case("manifest-extra-values", "CSV manifest row with more values than the header", manifest_extra_values, DATA,
         "line 3: more values than the header has columns", "m.csv"),
    Case("arrays-count-mismatch", "4 samples in x.npy, 3 labels in y.npy", count_mismatch, DATA,
         "has 3 labels but the data has 4 samples", "y.npy"),
    Case("arrays-nan", "x.npy with one NaN", nan_values, DATA, "contains NaN or Inf values .*first at index 2",
         "x.npy"),
    Case("arrays-inf", "x.npy (float64) with one +Inf", inf_values, DATA, "contains NaN or Inf values .*first at index 1",
         "x.npy"),
    Case("labels-mixed-types", "labels mixing ints and strings (object .npy)", mixed_labels, DATA,
         "holds Python objects .*never loads", "y.npy"),
    Case("labels-fractional", "float labels with a 1.5", fractional_labels, DATA, "non-integer numbers", "y.npy"),
    Case("labels-one-class", "every label the same", one_class, DATA, r"only one class \(shale\)", "x.npy"),
    Case("npy-pickle", "x.npy holding pickled objects that would create a file", pickled_npy, DATA,
         "holds Python objects .*never loads", "x.npy"),
    Case("npy-truncated", "x.npy cut after 150 bytes", truncated_npy, DATA, "not a readable .npy file", "x.npy"),
    Case("segy-truncated", "small.sgy with its last 100 bytes cut", segy_truncated, DATA,
         "is truncated.* not 3600 \\+ whole traces", "cut.sgy", SEGY / "small.sgy"),
    Case("segy-broken", "segy_samples/broken.sgy (truncated upstream)", shared_segy("broken.sgy"), DATA,
         "is truncated", "broken.sgy", SEGY / "broken.sgy"),
    Case("segy-no-traces", "segy_samples/text.sgy (headers, no traces)", shared_segy("text.sgy"), DATA,
         "no traces", "text.sgy", SEGY / "text.sgy"),
    Case("segy-lsb-swapped", "segy_samples/decrement-lsb.sgy (rev 2.1, byte-swapped)", shared_segy("decrement-lsb.sgy"),
         DATA, "is truncated, its traces differ in length, or its headers use a layout", "decrement-lsb.sgy",
         SEGY / "decrement-lsb.sgy"),
    Case("segy-unknown-ext-headers", "segy_samples/stanzas-unknown-count.sgy (-1 extended headers)",
         shared_segy("stanzas-unknown-count.sgy"), DATA, r"unknown number \(-1\) of extended text headers",
         "stanzas-unknown-count.sgy", SEGY / "stanzas-unknown-count.sgy"),
    Case("segy-rev2-mapping", "segy_samples/mapping-all-types.sgy (rev 2.1 XML mapping)",
         shared_segy("mapping-all-types.sgy"), DATA, "SEG-Y revision 2.1 layout", "mapping-all-types.sgy",
         SEGY / "mapping-all-types.sgy"),
    Case("segy-rev2-extensions", "segy_samples/trace-header-extensions.sgy", shared_segy("trace-header-extensions.sgy"),
         DATA, "SEG-Y revision 2.1 layout", "trace-header-extensions.sgy", SEGY / "trace-header-extensions.sgy"),
    Case("las-not-las", "las_samples/not_a_las_file.las", shared_las("not_a_las_file.las"), DATA,
         r"not a LAS file \(no ~ sections found\)", "not_a_las_file.las", LAS / "not_a_las_file.las"),
    Case("las-header-only", "las_samples/header_only.las (no data rows)", shared_las("header_only.las"), DATA,
         "no data rows", "header_only.las", LAS / "header_only.las"),
    Case("las-no-ascii-section", "las_samples/missing_a_section.las", shared_las("missing_a_section.las"), DATA,
         "no data rows", "missing_a_section.las", LAS / "missing_a_section.las"),
    Case("las-reshape-error", "las_samples/3.0/Reshape Error #1 (SS).las", shared_las("3.0/Reshape Error #1 (SS).las"),
         DATA, "cannot read this LAS file; lasio says ValueError: Cannot reshape", "Reshape Error #1 (SS).las",
         LAS / "3.0" / "Reshape Error #1 (SS).las"),
    Case("las-curve-param-error", "las_samples/3.0/Curve-Param Error #1 (MS).LAS",
         shared_las("3.0/Curve-Param Error #1 (MS).LAS"), DATA, "cannot read the curve data",
         "Curve-Param Error #1 (MS).LAS", LAS / "3.0" / "Curve-Param Error #1 (MS).LAS"),
    Case("las-empty", "a 0-byte .las file", empty_las, DATA, "file is empty", "empty.las"),
    Case("las-gz-not-gzip", "a folder holding w1.las.gz that is plain text, not gzip", bad_gzip_las, DATA,
         "not a readable gzip file", "w1.las.gz"),
    Case("las-zip-no-las", "a .zip holding no .las or .las.gz file", zip_without_las, DATA,
         r"zip archive holds no \.las or \.las\.gz files", "wells.zip"),
    Case("las-labels-all-null", "LAS wells whose label curve is null everywhere", unlabelled_wells, DATA,
         "label column 'FACIES' holds fewer than two classes", "wells"),
    Case("geotiff-other-crs", "two evidence GeoTIFFs, EPSG:28354 and EPSG:4326", other_crs, DATA,
         "is in CRS EPSG:4326, but .*geology.tif is in EPSG:28354", "magnetics.tif"),
    Case("geotiff-other-grid", "two GeoTIFFs on one CRS, 1000 m and 500 m cells, no --resample", other_grid, DATA,
         "is on a different grid", "magnetics.tif"),
    Case("model-weights-other-backbone", "`train --weights RUN` where RUN was trained with another backbone",
         model_as_weights_of_another_backbone, "WeightsNotFoundError",
         "this run's backbone is 'tf_efficientnet_lite0', not 'resnet18': train with --backbone", "model"),
    Case("model-missing-file", "model directory without weights.safetensors", model_missing, MODEL,
         "is missing from the model directory", "weights.safetensors"),
    Case("model-edited-file", "model directory whose weights were edited", model_edited, MODEL,
         r"was changed after the model was saved \(checksum differs\)", "weights.safetensors"),
    Case("model-planted-pickle", "model directory with a planted extra.pkl that would create a file", model_pickle,
         MODEL, "refusing to load: pickle-capable files", "extra.pkl"),
    Case("model-disguised-pickle", "model directory with a pickle renamed notes.dat", model_disguised_pickle, MODEL,
         "refusing to load: looks like a pickle", "notes.dat"),
    Case("model-broken-config", "model directory whose config.json is cut short", model_bad_json, MODEL,
         "config.json is not valid JSON", "config.json"),
]
# Cases built from files of ../shared/data run in their own test, marked shared_data.
LOCAL_CASES = [case for case in CASES if case.shared is None]
SHARED_CASES = [case for case in CASES if case.shared is not None]


# ------------------------------------------------------------------ the document

def outcome(case: Case) -> str:
    if case.error is None:
        return "works: exit 0, " + case.message
    text = f"exit 2, `{case.error}` naming `{case.names}`: “{case.message}”"
    if case.bug:
        text += f" — OPEN BUG: {case.bug}"
    return text


def render_table() -> str:
    lines = ["| case | input | what happens |", "|---|---|---|"]
    for case in CASES:
        cells = [f"`{case.id}`", case.input, outcome(case)]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


INTRO = """# Reliability: bad inputs, crashes, untrusted files

Long fine-tuning runs on data gathered over years, and model files passed between people, must survive
bad files, crashes and full disks, and must never run code from a file. This page is what the tests in
`tests/test_reliability_*.py` and `tests/test_fuzz_*.py` prove. Run them with

    .venv/bin/python -m pytest tests/test_reliability_*.py tests/test_fuzz_*.py -q -p no:xdist

## Catalogue of bad inputs

Every row is one test case (`tests/reliability_catalogue.py` holds them as data; a test checks this table
equals what that module renders, and `.venv/bin/python tests/reliability_catalogue.py` rewrites it). Each
runs `geotune.cli.main([...])` (`train`, `predict` or `prospect fit`) and checks: the exit code; a single
error line naming the file and matching the quoted pattern (regex); the exact error class (rerun with
`-v`, which re-raises); that no output (run folder, prediction file) and no temporary `.NAME.tmp-*`
file or folder is left; and, for planted pickles, that the payload never ran. Rows reading
`../shared/data` skip when it is absent.

"""

OUTRO = """
## Crash safety (`tests/test_reliability_runs.py`, `tests/test_reliability_atomic.py`)

- **kill -9 and `--resume`**: `python -m geotune train` (linear probe, 32 px, `make_patches(8, 32, 0)`,
  seed 7, 30 epochs, batch 8) runs in a subprocess and is sent SIGKILL once `RUN/checkpoints/last.ckpt`
  exists; `train --resume` then finishes it, and its confusion matrix must equal an uninterrupted run's
  (same seed, CPU) with accuracy, macro F1, log loss and ECE within an absolute **1e-5** (the epoch order
  is seeded by (seed, epoch), so resumed epochs see the same batches). **Currently failing (open bug
  below)**: `last.ckpt` is written only when training ends, so there is nothing to resume from; the test
  is `xfail(strict=True)` and turns green when that is fixed.
- **atomic model directory**: a writer killed with SIGKILL inside `atomic_dir` leaves the previous model
  byte-for-byte intact and loadable; its orphaned `.model.tmp-PID-*` folder is removed by the next write to
  that target (a live writer's folder is left alone).
- **full disk**: the run folder sits on a tmpfs (`mount -t tmpfs -o size=…`; skipped with a message where
  mounting is not permitted) with room for one model but not two; retraining into it exits 2 with one line
  (`RUN/model: could not write: weights.safetensors: … No space left on device …`), the previous model
  directory is byte-for-byte intact and no temporary folder is left. The same holds for a file-size limit
  (RLIMIT_FSIZE in a subprocess, `File too large`).

## Untrusted files

- Models load from safetensors and JSON only (tree models from skops / booster JSON); `modeldir.load_config`
  refuses any pickle-capable suffix and any other file starting with a pickle opcode before reading anything
  (catalogue rows `model-*`; the planted payloads would create a file, and the tests check it never appears).
  `.npy` inputs load with `allow_pickle=False` (`npy-pickle`).
- Checkpoints load with `weights_only=True`: a pickle planted as `RUN/checkpoints/last.ckpt` is not executed
  on `--resume` (see the open bug for how it is reported).

## Reproducibility

The same seed and data give identical metrics on CPU: `geotune train --config RUN/model/config.json --out
OTHER` replays a run (the config's `train` block) to the same confusion matrix, with accuracy, macro F1, log
loss and ECE within 1e-5.

## Fuzzing (`tests/test_fuzz_readers.py`)

Hypothesis (derandomized, 30 examples each, `deadline=None`) feeds generated and mutated input to every
reader: CSV image manifests, `.npy` files, image files, LAS text, log CSV tables, SEG-Y binary and trace
headers, and GeoTIFF headers. Each must return a result or raise geotune's own `GeotuneError`, never
anything else.

## Bugs these tests found

- Fixed: a disk that fills up (or a file-size limit) while `weights.safetensors` is written raised
  safetensors' `SafetensorError` with a traceback; `modeldir` now turns it into the same one-line
  "could not write" error as any other write failure.
- Fixed: a CSV manifest row with more values than its header raised `TypeError`; it is now a `DataError`
  naming the line.
- Fixed: a model write killed by SIGKILL left a `.model.tmp-*` folder forever; the next write removes it.
- Open: `training/trainer.py` `make_trainer` uses `ModelCheckpoint(save_top_k=0, save_last=True)`; under
  Lightning 2.6 `last.ckpt` is saved only when a top-k checkpoint was saved in the same epoch, so it is
  written only when training ends and a killed run cannot be resumed.
- Open: `--resume` with a planted-pickle `RUN/checkpoints/last.ckpt` is refused safely by torch, but the
  `_pickle.UnpicklingError` escapes as a traceback with exit 1 instead of a `ModelError` naming the
  checkpoint with exit 2 (`training/trainer.py` `resume_checkpoint` / `training/classify.py` `_fit`).
"""


def render_doc() -> str:
    return INTRO + render_table() + OUTRO


if __name__ == "__main__":
    DOC.write_text(render_doc(), encoding="utf-8")
    print(f"wrote {DOC}")
