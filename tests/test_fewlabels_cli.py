"""`geotune train --fewshot/--noisy-labels/--unlabelled` and `geotune suggest` on tiny synthetic patches."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from geotune.cli import main


@pytest.fixture(scope="module")
def few_label_run(tiny_patches, tmp_path_factory):
    out = tmp_path_factory.mktemp("fewlabels") / "run"
    code = main(["train", "--data", str(tiny_patches["train_data"]), "--out", str(out), "--image-size", "32",
                 "--epochs", "2", "--fewshot", "on", "--noisy-labels", "downweight",
                 "--unlabelled", str(tiny_patches["test_data"])])
    assert code == 0
    return out


def test_train_records_fewshot_unlabelled_and_suspects(few_label_run, tiny_patches):
    metrics = json.loads((few_label_run / "model" / "metrics.json").read_text())
    n_pool = len(np.load(tiny_patches["test_data"]))
    assert metrics["fewshot"]["method"] in ("prototype", "logistic")
    assert 0 <= metrics["unlabelled"]["n_used"] <= n_pool == metrics["unlabelled"]["n_unlabelled"]
    assert sum(metrics["unlabelled"]["used_per_class"]) == metrics["unlabelled"]["n_used"]
    with open(few_label_run / "suspect_labels.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == ["rank", "id", "given_label", "suggested_label", "score"]
    for row in rows:
        assert row["given_label"] != row["suggested_label"]
        assert row["given_label"] in tiny_patches["classes"]
    assert [float(r["score"]) for r in rows] == sorted((float(r["score"]) for r in rows), reverse=True)


def test_suggest_writes_ranked_csv(few_label_run, tiny_patches, tmp_path, capsys):
    out = tmp_path / "next.csv"
    assert main(["suggest", str(few_label_run), "--pool", str(tiny_patches["test_data"]), "--n", "5",
                 "--out", str(out), "--method", "diverse"]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["rank"]) for r in rows] == [1, 2, 3, 4, 5]
    assert len({r["index"] for r in rows}) == 5
    assert all(r["predicted"] in tiny_patches["classes"] for r in rows)
    assert not list(tmp_path.glob(".*tmp"))  # written atomically


def test_suggest_bad_pool_is_one_line_error(few_label_run, tmp_path, capsys):
    code = main(["suggest", str(few_label_run), "--pool", str(tmp_path / "missing.npy"), "--out",
                 str(tmp_path / "s.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert "missing.npy" in err and "Traceback" not in err
    assert not (tmp_path / "s.csv").exists()
