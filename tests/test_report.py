"""`geotune report`: one self-contained HTML page whose sections follow what the run folder holds."""

from __future__ import annotations

import base64
import json
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest

from geotune.cli import main


class _Page(HTMLParser):
    """Section titles, image sources and any link that would leave the file."""

    def __init__(self):
        super().__init__()
        self.titles, self.images, self.external, self._in_h2 = [], [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._in_h2 = tag == "h2"
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("href", "src"):
            if re.match(r"(https?:)?//", attrs.get(key) or ""):
                self.external.append(attrs[key])

    def handle_data(self, data):
        if self._in_h2:
            self.titles.append(data)
            self._in_h2 = False


def _parse(path) -> tuple[_Page, str]:
    text = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    return page, text


@pytest.fixture(scope="module")
def classify_report(tiny_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", str(tiny_run), "--out", str(out), "--examples", "2", "--mistakes", "3"]) == 0
    return _parse(out)


def test_classify_report_has_every_panel_and_is_self_contained(classify_report, tiny_run):
    page, text = classify_report
    assert page.titles[:3] == ["Run", "Data", "Training curves"]
    assert {"Scores", "Most confident mistakes", "Where the model looked (Grad-CAM)"} <= set(page.titles)
    assert page.images and all(src.startswith("data:image/png;base64,") for src in page.images)
    assert not page.external
    config = json.loads((tiny_run / "model" / "config.json").read_text())
    # 2 examples a class + 2 Grad-CAM overlays a class + curves + confusion matrix, at least
    assert len(page.images) >= 4 * len(config["classes"]) + 2
    assert f"{config['train']['epochs']} epochs" in text  # one curve point per epoch of the CSV log


def test_rebuilt_validation_split_matches_training(classify_report, tiny_run):
    """The mistakes shown come from the very validation split training scored: same size, same errors."""
    page, text = classify_report
    config = json.loads((tiny_run / "model" / "config.json").read_text())
    matrix = np.array(json.loads((tiny_run / "model" / "metrics.json").read_text())["confusion_matrix"])
    wrong = int(matrix.sum() - np.trace(matrix))
    assert "changed since training" not in text
    if wrong:
        assert f"{wrong} of {config['n_val']} validation samples are misclassified" in text
    else:
        assert f"No mistakes on the {config['n_val']} validation samples" in text
    data_table = text.split("<th>training samples</th>", 1)[1].split("</table>", 1)[0]
    counts = re.findall(r"<td>(\w+)</td><td class='num'>(\d+)</td><td class='num'>(\d+)</td>", data_table)
    assert len(counts) == len(config["classes"])
    assert sum(int(v) for _, _, v in counts) == config["n_val"]
    assert sum(int(t) for _, t, _ in counts) == config["n_train"]


def test_report_without_training_data_says_so_and_shows_the_model_folder(tiny_run, tmp_path):
    moved = tmp_path / "moved_run"
    shutil.copytree(tiny_run / "model", moved / "model")
    config_file = moved / "model" / "config.json"
    config = json.loads(config_file.read_text())
    config["train"]["data"] = str(tmp_path / "gone" / "train_data.npy")
    config_file.write_text(json.dumps(config))
    out = tmp_path / "r.html"
    assert main(["report", str(moved / "model"), "--out", str(out)]) == 0
    page, text = _parse(out)
    assert "Training data not found" in text and "gone/train_data.npy" in text
    assert "Most confident mistakes" not in page.titles and "Scores" in page.titles
    assert "Training curves" in page.titles  # history.csv travels with the model


def _png(seed: int) -> bytes:
    from geotune.report.sections.markup import array_png

    return array_png(np.random.default_rng(seed).integers(0, 255, (12, 12, 3), dtype=np.uint8))


def test_other_kinds_of_run_show_config_scores_curves_and_their_pictures(tmp_path):
    """A run of a kind the report has no panel for still shows what its folder holds."""
    run = tmp_path / "other"
    (run / "model").mkdir(parents=True)
    (run / "model" / "config.json").write_text(json.dumps({"schema_version": 1, "task": "newkind", "classes": ["a", "b"],
                                                           "train": {"data": str(tmp_path / "absent.csv")}}))
    (run / "model" / "metrics.json").write_text(json.dumps({
        "accuracy": 0.75, "macro_f1": 0.7, "confusion_matrix": [[3, 1], [0, 4]],
        "per_group": {"WELL-A": {"micro_f1": 0.5, "n_samples": 4}, "WELL-B": {"micro_f1": 1.0, "n_samples": 4}},
        "per_class": {"a": {"precision": 1.0, "recall": 0.75, "f1": 0.857, "support": 4},
                      "b": {"precision": 0.8, "recall": 1.0, "f1": 0.889, "support": 4}}}))
    (run / "model" / "history.csv").write_text(
        "epoch,step,train_loss_epoch,val_loss,val_acc\n0,1,1.0,,\n0,1,,0.9,0.5\n1,2,0.7,,\n1,2,,0.6,0.7\n")
    picture = _png(0)
    (run / "section.png").write_bytes(picture)
    out = tmp_path / "r.html"
    assert main(["report", str(run), "--out", str(out)]) == 0
    page, text = _parse(out)
    assert page.titles == ["Run", "Training curves", "Scores", "Pictures in the run folder"]
    assert "2 epochs" in text and "newkind" in text
    assert "data:image/png;base64," + base64.b64encode(picture).decode() in page.images
    assert "<td>a</td><td class='num'>1</td><td class='num'>0.75</td>" in text
    assert "<td>WELL-A</td><td>0.5</td><td>4</td>" in text  # scores per well


def test_plan_report_shows_ranked_sites_in_order_and_the_map_once(tmp_path):
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "plan.csv").write_text("rank,x,y,expected_value\n1,10.0,20.0,2.5\n2,30.0,40.0,1.5\n3,50.0,60.0,0.5\n")
    picture = _png(1)
    (plan / "plan.png").write_bytes(picture)
    (plan / "summary.json").write_text(json.dumps({"budget": 3, "holes_planned": 3, "strategy": "voi"}))
    out = tmp_path / "plan.html"
    assert main(["report", str(plan), "--out", str(out)]) == 0
    page, text = _parse(out)
    assert page.titles == ["Run", "Plan"]
    assert page.images.count("data:image/png;base64," + base64.b64encode(picture).decode()) == 1
    assert "Ranked sites (3)" in text
    ranks = re.findall(r"<tr><td class='num'>(\d+)</td><td class='num'>(\d+(?:\.\d+)?)</td>", text)
    assert [r for r, _ in ranks] == ["1", "2", "3"] and [x for _, x in ranks] == ["10", "30", "50"]


def test_default_output_is_beside_the_run_and_bad_runs_are_one_line_errors(tiny_run, tmp_path, capsys):
    run = tmp_path / "copy"
    shutil.copytree(tiny_run / "model", run / "model")
    assert main(["report", str(run / "model"), "--examples", "0", "--mistakes", "0"]) == 0
    assert (run / "report.html").stat().st_size > 1000  # RUN/model given: the report still goes to RUN
    assert "report written to" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such run folder" in err[0] and "nope" in err[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty)]) == 2
    assert "is not a geotune run" in capsys.readouterr().err


def test_gradcam_points_at_the_evidence_for_the_class_asked_about():
    """Class 0 reads channel 0, class 1 channel 1; each channel is bright in a different corner."""
    import torch

    from geotune.evaluate.explain import gradcam

    class TwoCorners(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(2, 2, 1, bias=False)
            with torch.no_grad():
                self.conv.weight.copy_(torch.eye(2).reshape(2, 2, 1, 1))

        def forward(self, x):
            return self.conv(x).mean(dim=(2, 3))

    x = np.zeros((1, 2, 16, 16), dtype=np.float32)
    x[0, 0, :8, :8] = 1.0  # evidence for class 0: top left
    x[0, 1, 8:, 8:] = 1.0  # evidence for class 1: bottom right
    model = TwoCorners()
    heat0, heat1 = gradcam(model, x, targets=[0])[0], gradcam(model, x, targets=[1])[0]
    assert heat0.shape == (16, 16) and 0 <= heat0.min() and heat0.max() <= 1
    assert heat0[:8, :8].mean() > 0.9 and heat0[8:, 8:].mean() < 0.1
    assert heat1[8:, 8:].mean() > 0.9 and heat1[:8, :8].mean() < 0.1


def test_prospect_report_remakes_the_map_from_the_layers_and_says_when_it_cannot(tmp_path):
    from geotune.prospect.synthetic import make_synthetic_area

    area = make_synthetic_area(tmp_path / "area", shape=(24, 30), n_deposits=12, seed=1)
    run = tmp_path / "wofe"
    assert main(["prospect", "fit", "--layers", str(area["fault_dist"]), str(area["anomaly"]),
                 "--deposits", str(area["deposits"]), "--cv-blocks", "0", "--out", str(run)]) == 0
    out = tmp_path / "p.html"
    assert main(["report", str(run), "--out", str(out)]) == 0
    page, text = _parse(out)
    assert page.titles == ["Run", "Scores", "Prospectivity"]
    section = text.split("<h2>Prospectivity</h2>", 1)[1]
    assert section.count("data:image/png;base64,") == 2 and "could not be remade" not in section
    area["anomaly"].unlink()
    assert main(["report", str(run), "--out", str(out)]) == 0
    section = out.read_text(encoding="utf-8").split("<h2>Prospectivity</h2>", 1)[1]
    assert "could not be remade" in section and "anomaly.tif" in section
    assert section.count("data:image/png;base64,") == 1  # the success-rate curves need only the model


def test_segment_report_draws_sections_beside_truth_and_prediction(tmp_path):
    from serve_helpers import untrained_segmenter_run

    rng = np.random.default_rng(0)
    np.save(tmp_path / "sections.npy", rng.normal(size=(5, 32, 40)).astype(np.float32))
    np.save(tmp_path / "labels.npy", rng.integers(0, 3, (5, 32, 40)).astype(np.uint8))
    run = untrained_segmenter_run(tmp_path / "seg", str(tmp_path / "sections.npy"), str(tmp_path / "labels.npy"))
    out = tmp_path / "s.html"
    assert main(["report", str(run), "--out", str(out)]) == 0
    page, text = _parse(out)
    assert page.titles == ["Run", "Scores", "Predicted sections"]
    assert "Sections 0, 2, 4 of the 5" in text
    assert text.split("<h2>Predicted sections</h2>", 1)[1].count("data:image/png;base64,") == 3


def test_training_saves_its_validation_split_and_the_report_reads_it_back(tiny_run, tiny_patches):
    from geotune.data.splits import train_val_split
    from geotune.report.sections.validation import saved_split

    config = json.loads((tiny_run / "model" / "config.json").read_text())
    saved = json.loads((tiny_run / "model" / "validation_split.json").read_text())
    labels = np.load(tiny_patches["train_labels"], allow_pickle=False)
    y = np.array([config["classes"].index(str(v)) for v in labels])
    _, val_idx = train_val_split(y, config["train"]["val_split"], config["train"]["seed"], None)
    assert saved["val_indices"] == val_idx.tolist() and len(saved["val_ids"]) == config["n_val"]
    assert saved_split(tiny_run / "model", len(y)).tolist() == val_idx.tolist()
    assert saved_split(tiny_run / "model", len(y) + 1) is None  # the data changed: rebuilt, with a note
