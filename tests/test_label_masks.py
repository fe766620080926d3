"""Seismic slices in the workbench: SEG-Y read slice by slice, brushed masks on disk, patches labelled by a click."""

from __future__ import annotations

import csv
import io

import numpy as np

from label_helpers import HEADERS, client, synthetic_project


def _png(response):
    from PIL import Image

    assert response.status_code == 200 and response.headers["content-type"] == "image/png", response.text
    return np.asarray(Image.open(io.BytesIO(response.content)))


def test_a_brushed_mask_lands_on_disk_and_undo_takes_it_back(tmp_path):
    project, _, classes = synthetic_project(tmp_path / "p")
    where = {"source": "volume.npy", "axis": "inline", "index": 2}
    with client(project, classes) as (_, http):
        r = http.post("/api/stroke", json={**where, "label": "salt", "radius": 3, "points": [[20, 20], [20, 60]],
                                           "who": "ana"}, headers=HEADERS)
        assert r.status_code == 200, r.text
        mask = np.load(project / "masks" / "volume.npy" / "inline_00002.npy")
        assert mask.shape == (160, 120) and mask.dtype == np.uint8
        salt = classes.index("salt") + 1
        assert mask[20, 40] == salt and mask[23, 40] == salt and mask[30, 40] == 0 and mask[100, 100] == 0
        with open(project / "masks" / "masks.csv", newline="") as handle:
            listing = list(csv.DictReader(handle))
        assert listing[0]["mask"] == "masks/volume.npy/inline_00002.npy" and listing[0]["who"] == "ana"
        overlay = _png(http.get("/api/slice/mask?source=volume.npy&axis=inline&index=2"))
        assert overlay.shape == (160, 120, 4) and overlay[20, 40, 3] > 0 and overlay[100, 100, 3] == 0
        erase = http.post("/api/stroke", json={**where, "label": "", "radius": 2, "points": [[20, 40]]},
                          headers=HEADERS).json()
        assert np.load(project / "masks" / "volume.npy" / "inline_00002.npy")[20, 40] == 0
        http.post("/api/undo", json={"undo": erase["undo"]}, headers=HEADERS)
        assert np.load(project / "masks" / "volume.npy" / "inline_00002.npy")[20, 40] == salt
        http.post("/api/undo", json={"undo": r.json()["undo"]}, headers=HEADERS)
        assert not (project / "masks" / "volume.npy" / "inline_00002.npy").exists()


def test_a_click_labels_the_patch_around_it(tmp_path):
    from PIL import Image

    project, _, classes = synthetic_project(tmp_path / "p")
    with client(project, classes, patch_size=48) as (_, http):
        r = http.post("/api/point", json={"source": "volume.npy", "axis": "crossline", "index": 5, "row": 150,
                                          "col": 2, "label": "fault"}, headers=HEADERS)
        assert r.status_code == 200, r.text
        points = http.get("/api/slice/points?source=volume.npy&axis=crossline&index=5").json()["points"]
        assert [(p["row"], p["col"], p["label"]) for p in points] == [(150, 2, "fault")]
    with open(project / "labels.csv", newline="") as handle:
        row = next(csv.DictReader(handle))
    patch = Image.open(project / row["path"])
    assert patch.mode.startswith("I") and patch.size == (6, 48)  # the crossline has 6 traces; clipped at the edge


def test_segy_slices_match_the_volume_and_are_served_as_pngs(tmp_path):
    from geotune.data.seismic import write_volume_segy
    from geotune.data.synthetic.earth import make_volume
    from geotune.serve.label.volumes import Volume

    project = tmp_path / "p"
    cube = np.ascontiguousarray(np.moveaxis(make_volume(5, 30, 40, seed=2)["amplitude"], 1, 2))  # (il, xl, sample)
    write_volume_segy(project / "cube.sgy", cube)
    volume = Volume(project / "cube.sgy")
    assert volume.counts == {"inline": 5, "crossline": 30, "time": 40}
    np.testing.assert_allclose(volume.slice("inline", 3), cube[3].T)
    np.testing.assert_allclose(volume.slice("crossline", 7), cube[:, 7].T)
    np.testing.assert_allclose(volume.slice("time", 11), cube[:, :, 11])
    volume.close()
    with client(project, ["fault", "salt"]) as (_, http):
        sources = http.get("/api/state").json()["sources"]
        assert sources[0]["name"] == "cube.sgy" and sources[0]["axes"] == ["inline", "crossline", "time"]
        for axis, shape in (("inline", (40, 30)), ("crossline", (40, 5)), ("time", (5, 30))):
            picture = _png(http.get(f"/api/slice?source=cube.sgy&axis={axis}&index=1&cmap=gray"))
            assert picture.shape[:2] == shape and picture.std() > 0
        assert http.get("/api/slice?source=cube.sgy&axis=time&index=40").status_code == 400
