"""Property-based fuzzing of every reader: any input either parses or raises geotune's own error.

Derandomized, so a failure reproduces on every run; small example counts keep the file fast.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geotune.errors import GeotuneError

FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _parses_or_geotune_error(read, *args, **kwargs):
    try:
        read(*args, **kwargs)
    except GeotuneError:
        pass


def _mutate(base: bytes, edits) -> bytes:
    data = bytearray(base)
    for position, value in edits:
        if data:
            data[position % len(data)] = value
    return bytes(data)


EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=12)


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


# ---------------------------------------------------------------- image manifests (CSV)

CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@FUZZ
@given(rows=st.lists(st.tuples(st.sampled_from(["img/0.png", "img/1.png", "../x.png", "/etc/hostname", "", "img"])
                               | CELL, CELL), max_size=5),
       header=st.sampled_from(["path,label", "label,path", "path", "file,label", "path,label,well"]),
       raw_tail=st.binary(max_size=20))
def test_image_manifest(folder, rows, header, raw_tail):
    from PIL import Image

    from geotune.data.images import read_manifest

    (folder / "img").mkdir(exist_ok=True)
    for i in range(2):
        if not (folder / "img" / f"{i}.png").exists():
            Image.fromarray(np.full((8, 8), 40 * i, dtype=np.uint8)).save(folder / "img" / f"{i}.png")
    body = "\n".join(",".join('"' + c.replace('"', '""') + '"' for c in row) for row in rows)
    manifest = folder / "m.csv"
    manifest.write_bytes((header + "\n" + body).encode("utf-8", "surrogatepass") + raw_tail)
    _parses_or_geotune_error(read_manifest, manifest, 8)


# ---------------------------------------------------------------- .npy arrays

@FUZZ
@given(edits=EDITS, cut=st.integers(0, 400), dtype=st.sampled_from(["<f4", ">f8", "u1", "<i2", "U3", "b1"]))
def test_npy_file(folder, edits, cut, dtype):
    from geotune.data.arrays import read_arrays

    buffer = io.BytesIO()
    np.save(buffer, np.arange(4 * 6 * 6).reshape(4, 6, 6).astype(dtype))
    raw = _mutate(buffer.getvalue(), edits)
    (folder / "x.npy").write_bytes(raw[: len(raw) - cut] if cut < len(raw) else raw)
    np.save(folder / "y.npy", np.array([0, 1, 0, 1]))
    _parses_or_geotune_error(read_arrays, folder / "x.npy", folder / "y.npy", 8)


# ---------------------------------------------------------------- image files

@FUZZ
@given(edits=EDITS, cut=st.integers(0, 300), kind=st.sampled_from(["PNG", "JPEG", "TIFF", "BMP", "GIF"]))
def test_image_file(folder, edits, cut, kind):
    from PIL import Image

    from geotune.data.images import decode_image

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (12, 12, 3), dtype=np.uint8)).save(buffer, kind)
    raw = _mutate(buffer.getvalue(), edits)
    path = folder / f"img.{kind.lower()}"
    path.write_bytes(raw[: max(0, len(raw) - cut)])
    _parses_or_geotune_error(decode_image, path)


# ---------------------------------------------------------------- LAS text

LAS_TEMPLATE = """~VERSION INFORMATION
 VERS.   {vers} : CWLS LOG ASCII STANDARD
 WRAP.   {wrap} : ONE LINE PER DEPTH STEP
~WELL INFORMATION
 STRT.{unit}  {strt} :
 STOP.{unit}  {stop} :
 STEP.{unit}  {step} :
 NULL.   {null} :
 WELL.   {well} : WELL
~CURVE INFORMATION
{curves}
~A
{rows}
"""


@FUZZ
@given(vers=st.sampled_from(["1.2", "2.0", "3.0", "x", ""]), wrap=st.sampled_from(["NO", "YES", ""]),
       unit=st.sampled_from(["M", "FT", "", "S"]), strt=CELL, stop=CELL, step=CELL,
       null=st.sampled_from(["-999.25", "", "abc"]), well=CELL,
       curves=st.lists(st.sampled_from(["DEPT", "GR", "RHOB", "DT", "", "DEPT", "X.Y"]), max_size=4),
       rows=st.lists(st.lists(st.one_of(st.floats(allow_nan=True), CELL), max_size=5), max_size=4))
def test_las_text(folder, vers, wrap, unit, strt, stop, step, null, well, curves, rows):
    from geotune.logs.las import read_las

    text = LAS_TEMPLATE.format(
        vers=vers, wrap=wrap, unit=unit, strt=strt, stop=stop, step=step, null=null, well=well,
        curves="\n".join(f" {c}.{unit} : curve" for c in curves),
        rows="\n".join(" ".join(str(v) for v in row) for row in rows))
    path = folder / "log.las"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _parses_or_geotune_error(read_las, path)


# ---------------------------------------------------------------- log tables (CSV)

@FUZZ
@given(header=st.lists(st.sampled_from(["DEPTH", "GR", "FACIES", "WELL", "", "GR"]), min_size=1, max_size=4),
       rows=st.lists(st.lists(st.one_of(st.floats(allow_nan=True), CELL), max_size=5), max_size=5),
       raw=st.binary(max_size=30))
def test_logs_csv(folder, header, rows, raw):
    from geotune.logs.las import read_table

    text = ",".join(header) + "\n" + "\n".join(",".join(str(v) for v in row) for row in rows)
    path = folder / "logs.csv"
    path.write_bytes(text.encode("utf-8", "surrogatepass") + raw)
    _parses_or_geotune_error(read_table, path)


# ---------------------------------------------------------------- SEG-Y headers

@FUZZ
@given(edits=st.lists(st.tuples(st.integers(3200, 3600 + 240 * 2), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.integers(0, 64))
def test_segy_headers(folder, shared_dataset, edits, cut):
    from geotune.data.seismic import inspect_segy, read_segy

    raw = bytearray((shared_dataset("segy_samples") / "tiny.sgy").read_bytes())
    for position, value in edits:
        raw[position] = value
    path = folder / "fuzz.sgy"
    path.write_bytes(bytes(raw[: len(raw) - cut]))
    try:
        inspect_segy(path)
        read_segy(path)
    except GeotuneError:
        pass


# ---------------------------------------------------------------- GeoTIFF metadata

@pytest.fixture(scope="module")
def geotiff_bytes(folder) -> bytes:
    import rasterio
    from rasterio.transform import from_origin

    path = folder / "base.tif"
    with rasterio.open(path, "w", driver="GTiff", height=8, width=8, count=1, dtype="float32", crs="EPSG:28354",
                       transform=from_origin(500000, 7000000, 100, 100), nodata=-9999.0) as dst:
        dst.write(np.arange(64, dtype="float32").reshape(8, 8), 1)
    return path.read_bytes()


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, 600), st.integers(0, 255)), min_size=1, max_size=8))
def test_geotiff_metadata(folder, geotiff_bytes, edits):
    from geotune.data.rasters import read_raster

    path = folder / "fuzz.tif"
    path.write_bytes(_mutate(geotiff_bytes, edits))
    _parses_or_geotune_error(read_raster, path)
