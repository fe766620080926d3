"""Streamed section data: windows read lazily from a .npy memmap or a SEG-Y match the in-memory arrays,
and nothing reads the whole volume."""

from __future__ import annotations

import numpy as np
import pytest

from geotune.data import seismic
from geotune.data.section_dataset import (EpochWindowSampler, RankSlicedSampler, SectionDataset, WindowDataset,
                                          window_rng)
from geotune.data.sections import ArraySections, load_pairs, open_pairs, scan_labels
from geotune.data.synthetic import make_volume
from geotune.data.windows import random_window
from geotune.errors import DataError

CLIP = (-1.5, 2.0)


class SectionOnlyArray:
    """An array stand-in that serves one section per read and fails if anything asks for the whole volume."""

    def __init__(self, array: np.ndarray):
        self.array, self.shape, self.ndim, self.dtype = array, array.shape, array.ndim, array.dtype
        self.reads = []

    def __getitem__(self, key):
        first = key[0] if isinstance(key, tuple) else key
        assert isinstance(first, (int, np.integer)), f"not one section: {key!r}"
        self.reads.append(key)
        return self.array[key]

    def __array__(self, *args, **kwargs):
        raise AssertionError("the whole volume was turned into an array")


def expected_window(sections: np.ndarray, masks: np.ndarray, dataset: WindowDataset, item: int, epoch: int):
    section = dataset.sections[item // dataset.windows_per_section]
    image = seismic.normalise(sections[section][None], *CLIP)
    return random_window(image, masks[section], dataset.size, window_rng(dataset.seed, epoch, item), dataset.augment)


@pytest.fixture()
def npy_pair(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 40, 70)).astype(np.float32)
    y = rng.integers(0, 3, size=(6, 40, 70)).astype(np.int64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    return tmp_path / "x.npy", tmp_path / "y.npy", x, y


def test_npy_windows_come_from_the_memmap_and_match_the_arrays(npy_pair):
    data, labels, x, y = npy_pair
    images, masks = open_pairs(data, labels)
    assert isinstance(images.array, np.memmap) and isinstance(masks.array, np.memmap)
    dataset = WindowDataset(images, masks, [1, 3, 4], 32, 3, True, 5, CLIP)
    assert len(dataset) == 9
    for epoch in (0, 2):
        for item in range(len(dataset)):
            window, mask = dataset[(item, epoch)]
            want_window, want_mask = expected_window(x, y, dataset, item, epoch)
            np.testing.assert_allclose(window.numpy(), want_window, rtol=1e-6)
            assert np.array_equal(mask.numpy(), want_mask) and window.shape == (1, 32, 32)
    assert not np.array_equal(dataset[(0, 0)][0].numpy(), dataset[(0, 2)][0].numpy())  # new epoch, new window


def test_padding_small_sections_matches_random_window(tmp_path):
    x = np.random.default_rng(1).normal(size=(2, 20, 50)).astype(np.float32)  # shorter than the window
    y = (x > 0).astype(np.int64)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    images, masks = open_pairs(tmp_path / "x.npy", tmp_path / "y.npy")
    dataset = WindowDataset(images, masks, [0, 1], 32, 2, True, 0, CLIP)
    for item in range(len(dataset)):
        window, mask = dataset[item]
        want_window, want_mask = expected_window(x, y, dataset, item, 0)
        np.testing.assert_allclose(window.numpy(), want_window, rtol=1e-6)
        assert np.array_equal(mask.numpy(), want_mask)


def test_dataset_reads_one_section_at_a_time_never_the_volume(npy_pair):
    _, _, x, y = npy_pair
    images, masks = ArraySections(SectionOnlyArray(x), "x.npy"), ArraySections(SectionOnlyArray(y), "y.npy")
    counts = scan_labels(masks, "y.npy")
    assert np.array_equal(counts.sum(0), np.bincount(y.ravel()))
    train = WindowDataset(images, masks, [0, 2], 32, 2, True, 0, CLIP)
    for item in range(len(train)):
        train[item]
    assert len(images.array.reads) == len(train)
    assert all(isinstance(key[1], slice) and key[1].stop - key[1].start == 32 for key in images.array.reads)
    val = SectionDataset(images, masks, [4, 5], CLIP)
    image, mask = val[1]
    np.testing.assert_allclose(image.numpy(), seismic.normalise(x[5][None], *CLIP), rtol=1e-6)
    assert np.array_equal(mask.numpy(), y[5])


def test_segy_windows_read_only_their_traces(tmp_path, monkeypatch):
    volume = make_volume(4, 72, 48, seed=3)  # (il, sample, xl) sections
    cube = volume["amplitude"].transpose(0, 2, 1)  # (il, xl, sample) as segyio reads
    survey = seismic.write_volume_segy(tmp_path / "v.sgy", cube, 10, 100)
    label_volume = seismic.write_volume_segy(tmp_path / "labels.sgy", volume["labels"].transpose(0, 2, 1).astype(np.float32))
    sections, masks_in_memory = volume["amplitude"], volume["labels"]
    read = []
    real_read_traces = seismic.read_traces

    def spy(f, indices, path):
        read.append(len(indices))
        return real_read_traces(f, indices, path)

    def refuse(*args, **kwargs):
        raise AssertionError("the whole volume was read")

    monkeypatch.setattr(seismic, "read_traces", spy)
    monkeypatch.setattr(seismic, "read_segy", refuse)
    monkeypatch.setattr(seismic, "read_sections", refuse)
    images, masks = open_pairs(survey, label_volume)
    assert images.shape == (48, 72) and images.n == 4
    dataset = WindowDataset(images, masks, [0, 1, 3], 32, 2, True, 9, CLIP)
    read.clear()
    for item in range(len(dataset)):
        window, mask = dataset[(item, 1)]
        want_window, want_mask = expected_window(sections, masks_in_memory, dataset, item, 1)
        np.testing.assert_allclose(window.numpy(), want_window, rtol=1e-6)
        assert np.array_equal(mask.numpy(), want_mask)
    assert read and max(read) == 32  # a window reads its 32 traces, not the section's 72


def test_segy_with_npy_labels_in_segyio_shape(tmp_path):
    volume = make_volume(3, 40, 32, seed=4)
    survey = seismic.write_volume_segy(tmp_path / "v.sgy", volume["amplitude"].transpose(0, 2, 1))
    np.save(tmp_path / "lab.npy", volume["labels"].transpose(0, 2, 1))
    images, masks = load_pairs(survey, tmp_path / "lab.npy")
    assert images.shape == (3, 1, 32, 40) and np.array_equal(masks, volume["labels"])


def test_sampler_is_a_function_of_seed_and_epoch():
    a, b = EpochWindowSampler(10, 3), EpochWindowSampler(10, 3)
    a.set_epoch(4)
    b.set_epoch(4)
    assert list(a) == list(b) and all(epoch == 4 for _, epoch in a)
    b.set_epoch(5)
    assert [i for i, _ in a] != [i for i, _ in b] and sorted(i for i, _ in b) == list(range(10))


def test_validation_sections_split_over_ranks_without_repeats():
    data = list(range(5))
    seen = [list(RankSlicedSampler(data, rank, 2)) for rank in (0, 1)]
    assert sorted(seen[0] + seen[1]) == data and len(RankSlicedSampler(data, 1, 2)) == 2


def test_bad_labels_name_the_file(tmp_path, npy_pair):
    data, _, x, _ = npy_pair
    np.save(tmp_path / "frac.npy", np.full(x.shape, 0.5))
    np.save(tmp_path / "neg.npy", np.full(x.shape, -1))
    np.save(tmp_path / "short.npy", np.zeros((5, 40, 70), np.int64))
    for name, message in (("frac.npy", "fractional"), ("neg.npy", ">= 0"), ("short.npy", "labels have shape")):
        with pytest.raises(DataError, match=message) as caught:
            images, masks = open_pairs(data, tmp_path / name)
            scan_labels(masks, tmp_path / name)
        assert name in str(caught.value)


def _resident_file_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("RssFile:"))


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_streaming_a_npy_label_volume_leaves_it_out_of_resident_memory(tmp_path):
    # the label scan and training read every section; through the memmap each page read stayed in RSS
    # (a 0.84 GB label volume added 0.84 GB to peak RSS), with plain reads the process keeps none of it
    volume = np.zeros((64, 512, 1024), dtype=np.int8)  # 32 MB
    volume[:, 256:, :] = 1
    np.save(tmp_path / "labels.npy", volume)
    del volume
    masks = ArraySections(np.load(tmp_path / "labels.npy", mmap_mode="r"), tmp_path / "labels.npy")
    before = _resident_file_kb()
    counts = scan_labels(masks, tmp_path / "labels.npy")
    grown_mb = (_resident_file_kb() - before) / 1024
    assert counts.sum(axis=0).tolist() == [64 * 256 * 1024, 64 * 256 * 1024]
    assert grown_mb < 8, f"scanning a 32 MB label volume left {grown_mb:.0f} MB resident"
    mapped = np.load(tmp_path / "labels.npy", mmap_mode="r")
    before = _resident_file_kb()
    touched = sum(int(mapped[i].sum()) for i in range(len(mapped)))  # the old way, for contrast
    assert touched == 64 * 256 * 1024 and (_resident_file_kb() - before) / 1024 > 24


def test_square_label_volume_beside_a_3d_segy_is_read_in_segyio_shape_with_a_warning(tmp_path):
    # 16 samples and 16 crosslines: (inline, crossline, sample) and (inline, sample, crossline) look alike
    from geotune.errors import GeotuneWarning

    rng = np.random.default_rng(0)
    cube = rng.normal(size=(3, 16, 16)).astype(np.float32)  # (il, xl, sample) as segyio reads
    survey = seismic.write_volume_segy(tmp_path / "v.sgy", cube, 10, 100)
    labels = np.zeros((3, 16, 16), dtype=np.uint8)
    labels[:, :5, :] = 1  # crosslines 0-4 are class 1: in a (sample, crossline) section, the first 5 columns
    np.save(tmp_path / "labels.npy", labels)
    with pytest.warns(GeotuneWarning, match="ambiguous"):
        images, masks = open_pairs(survey, tmp_path / "labels.npy")
    section = masks.read(1)[0]
    assert section[:, :5].min() == 1 and section[:, 5:].max() == 0
