"""SEG-Y / SU / NumPy reading and writing: the segyio sample corpus, round trips, and bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest
import segyio

from geotune.data import seismic
from geotune.data.synthetic import make_volume
from geotune.errors import DataError

from conftest import SHARED_DATA  # read at collection for the parametrised corpus table only

SAMPLES = SHARED_DATA / "segy_samples"


def _corpus_table() -> dict[str, dict]:
    """The corpus's SOURCE.md table: how segyio 1.9 opened each file (the independent expectation)."""
    source = SAMPLES / "SOURCE.md"
    if not source.is_file():
        return {}
    rows = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 11 or not cells[0].startswith("`"):
            continue
        name = cells[0].strip("`")
        rows[name] = {"traces": cells[6], "geometry": cells[7], "samples": cells[8], "needs": cells[9]}
    return rows


TABLE = _corpus_table()


@pytest.mark.parametrize("name", sorted(TABLE) or ["(corpus absent)"])
def test_every_corpus_file_reads_correctly_or_fails_clearly(name, shared_dataset):
    folder = shared_dataset("segy_samples")
    if name not in TABLE:
        pytest.skip(f"no table of files in {folder / 'SOURCE.md'}")
    row = TABLE[name]
    path = folder / name
    must_fail = "fails" in row["needs"] or name == "stanzas-unknown-count.sgy"  # 1.9 miscounts its traces
    if must_fail:
        with pytest.raises(DataError) as caught:
            seismic.inspect_segy(path)
        assert caught.value.path == str(path) and len(caught.value.message) > 20
        return
    info = seismic.inspect_segy(path)
    assert info.n_traces == int(row["traces"])
    assert info.n_samples == int(row["samples"])
    geometry = re.match(r"(\d+) il x (\d+) xl x (\d+) off", row["geometry"])
    if geometry:
        n_il, n_xl, n_off = map(int, geometry.groups())
        assert (len(info.ilines), len(info.xlines), max(1, len(info.offsets))) == (n_il, n_xl, n_off)
        assert info.kind == ("prestack" if n_off > 1 else "3d")
    else:
        assert info.kind == "traces" and "2D section" in info.note
    array, _ = seismic.read_segy(path)
    assert array.shape == info.shape and np.isfinite(array).all()
    opener = segyio.su.open if info.su else segyio.open
    with opener(str(path), endian=info.endian, ignore_geometry=info.kind == "traces") as f:
        expected = f.trace.raw[:] if info.kind == "traces" else segyio.tools.cube(f)
        if info.sorting == "crossline":  # segyio's cube is (crossline, inline, ...) then; geotune's is il first
            expected = np.swapaxes(expected, 0, 1)
    assert np.array_equal(array, expected)
    if info.kind != "prestack":
        sections = seismic.read_sections(path)
        assert sections.shape[0] == info.n_sections and sections.shape[1] == info.n_samples


def test_stanzas_unknown_count_is_caught_by_the_size_check(shared_dataset):
    path = shared_dataset("segy_samples") / "stanzas-unknown-count.sgy"
    with pytest.raises(DataError, match="extended text headers"):
        seismic.inspect_segy(path)


def _cube(tmp_path, sorting="inline"):
    volume = make_volume(5, 7, 24, seed=3)["amplitude"]  # (il, sample, xl) sections
    cube = volume.transpose(0, 2, 1)
    path = seismic.write_volume_segy(tmp_path / f"cube_{sorting}.sgy", cube, 100, 20, sorting=sorting)
    return path, cube, volume


@pytest.mark.parametrize("sorting", ["inline", "crossline"])
def test_written_volume_reads_back_with_geometry(tmp_path, sorting):
    path, cube, sections = _cube(tmp_path, sorting)
    info = seismic.inspect_segy(path)
    assert info.kind == "3d" and info.sorting == sorting
    assert info.ilines == list(range(100, 105)) and info.xlines == list(range(20, 27))
    array, _ = seismic.read_segy(path)
    assert np.array_equal(array, cube)
    streamed = list(seismic.iter_sections(path))
    assert [key for key, _ in streamed] == info.ilines
    assert np.array_equal(np.stack([s for _, s in streamed]), sections)


@pytest.mark.parametrize("sorting", ["inline", "crossline"])
def test_write_like_keeps_headers_and_geometry(tmp_path, sorting):
    path, cube, sections = _cube(tmp_path, sorting)
    values = (sections > 0).astype(np.float32)
    out = seismic.write_segy_like(path, tmp_path / "pred.sgy", values)
    with segyio.open(str(path)) as src, segyio.open(str(out)) as dst:
        assert dst.tracecount == src.tracecount and list(dst.ilines) == list(src.ilines)
        assert all(dict(src.header[i]) == dict(dst.header[i]) for i in range(src.tracecount))
        assert src.text[0] == dst.text[0]
    again, _ = seismic.read_segy(out)
    assert np.array_equal(again, values.transpose(0, 2, 1))


def test_write_like_rejects_wrong_section_shape_and_leaves_nothing(tmp_path):
    path, _, sections = _cube(tmp_path)
    with pytest.raises(DataError, match="section 0"):
        seismic.write_segy_like(path, tmp_path / "pred.sgy", sections[:, :, :-1])
    assert list(tmp_path.glob("*pred*")) == []


def test_truncated_file_fails_naming_it(tmp_path):
    path, _, _ = _cube(tmp_path)
    cut = tmp_path / "cut.sgy"
    cut.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(DataError) as caught:
        seismic.inspect_segy(cut)
    assert caught.value.path == str(cut)


def test_garbage_format_code_fails(tmp_path):
    path, _, _ = _cube(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[3224:3226] = b"\x7f\x7f"
    bad = tmp_path / "bad.sgy"
    bad.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="format code"):
        seismic.inspect_segy(bad)


def test_little_endian_copy_reads_like_big_endian(shared_dataset):
    folder = shared_dataset("segy_samples")
    big, _ = seismic.read_segy(folder / "small.sgy")
    little, info = seismic.read_segy(folder / "small-lsb.sgy")
    assert info.endian == "little" and np.array_equal(big, little)


def test_numpy_inputs(tmp_path):
    np.save(tmp_path / "line.npy", np.zeros((4, 5), np.float32))
    assert seismic.read_sections(tmp_path / "line.npy").shape == (1, 4, 5)
    np.save(tmp_path / "flat.npy", np.zeros(10))
    with pytest.raises(DataError, match="shape"):
        seismic.read_sections(tmp_path / "flat.npy")
    np.savez(tmp_path / "two.npz", a=np.zeros((2, 3, 3)), b=np.ones((2, 3, 3)))
    with pytest.raises(DataError, match="holds arrays"):
        seismic.read_array(tmp_path / "two.npz")
    np.savez(tmp_path / "named.npz", data=np.ones((2, 3, 3)), other=np.zeros(1))
    assert seismic.read_array(tmp_path / "named.npz").sum() == 18
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match="junk.npy"):
        seismic.read_array(tmp_path / "junk.npy")


def test_percentile_normalisation_ignores_spikes():
    rng = np.random.default_rng(0)
    values = rng.normal(size=10_000).astype(np.float32)
    spiked = values.copy()
    spiked[:5] = 1e6
    low, high = seismic.clip_range(spiked, 99.0)
    assert high < 10  # the spike does not set the scale
    out = seismic.normalise(spiked, low, high)
    assert out.min() >= -1 and out.max() <= 1
    assert np.corrcoef(out[5:], values[5:])[0, 1] > 0.95
    assert seismic.normalisation_spec(99.0)["method"] == "percentile_clip"


def test_stats_sample_reads_bounded_number_of_traces(tmp_path):
    path, cube, _ = _cube(tmp_path)
    sample = seismic.sample_for_stats(path, max_values=24 * 10)
    assert 0 < sample.size <= 24 * 10
    assert set(np.round(sample, 5)) <= set(np.round(cube.ravel(), 5))
