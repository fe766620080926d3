"""Every bad input in the catalogue, through the command line: exit 2, one line naming the file and the
problem, the exact error class, nothing written, no pickle executed. Valid-but-awkward inputs must work."""

from __future__ import annotations

import csv
import shutil

import pytest

import reliability_catalogue as catalogue
from geotune.cli import main
from geotune.errors import GeotuneError


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """A saved (untrained) grey 32 px classifier: enough for `predict` to load and run."""
    from geotune import modeldir
    from geotune.models.classifier import build_classifier

    config = {"task": "classify", "backbone": "tf_efficientnet_lite0", "in_chans": 1, "classes": ["a", "b"],
              "head": "linear", "image_size": 32, "scaling": "range"}
    model, _ = build_classifier(config, pretrained=False)
    config["mean"] = model.normalize.mean.flatten().tolist()
    config["std"] = model.normalize.std.flatten().tolist()
    return modeldir.save(tmp_path_factory.mktemp("model") / "model", config, model.state_dict(), {"accuracy": 0.5})


def _leftovers(folder):
    """Temporary files or folders that atomic writes leave only when they fail to clean up."""
    return [p for p in folder.rglob(".*") if ".tmp" in p.name or ".old-" in p.name]


def _params(cases):
    for case in cases:
        marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", _params(catalogue.LOCAL_CASES))
def test_catalogue_case(case, tmp_path, capsys, small_model):
    _check_case(case, tmp_path, capsys, small_model)


@pytest.mark.parametrize("case", _params(catalogue.SHARED_CASES))
def test_catalogue_case_on_shared_data(case, tmp_path, capsys, small_model, shared_data):
    """Cases built from the team's files; taking ``shared_data`` marks them (and skips without the folder)."""
    if not case.shared.exists():
        pytest.skip(f"{case.shared} not found (the team's ../shared/data)")
    _check_case(case, tmp_path, capsys, small_model)


def _check_case(case, tmp_path, capsys, small_model):
    if case.needs_model:
        shutil.copytree(small_model, tmp_path / "model")
    argv = [a.replace("{d}", str(tmp_path)) for a in case.build(tmp_path)]
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    assert not (tmp_path / "EXECUTED").exists(), "a pickle payload ran"
    assert _leftovers(tmp_path) == []
    if case.error is None:
        assert code == 0, err
        rows = list(csv.DictReader(open(tmp_path / "pred.csv")))
        assert len(rows) == 3 and {r["predicted"] for r in rows} <= {"a", "b"}
        return
    assert code == 2, (out, err)
    # one error line, last; before it only geotune's own one-line warnings about what it read
    lines = err.strip().splitlines()
    assert "Traceback" not in err and lines[-1].startswith(f"geotune {argv[0]}: error: "), err
    assert all(line.startswith("geotune: warning: ") for line in lines[:-1]), err
    assert case.names in err
    assert pytest.importorskip("re").search(case.message, err), err
    assert not (tmp_path / "run").exists() and not (tmp_path / "pred.csv").exists()
    with pytest.raises(GeotuneError) as info:  # -v re-raises: the exact class
        main(["-v", *argv])
    assert type(info.value).__name__ == case.error
    assert not (tmp_path / "EXECUTED").exists()


def test_doc_table_matches_catalogue():
    assert catalogue.DOC.read_text(encoding="utf-8") == catalogue.render_doc(), (
        "docs/reliability.md is out of date: run .venv/bin/python tests/reliability_catalogue.py")


def test_catalogue_ids_are_unique_and_each_case_names_a_file():
    ids = [case.id for case in catalogue.CASES]
    assert len(ids) == len(set(ids))
    assert all(case.names and case.message for case in catalogue.CASES)
