"""Issue 23, progress: every step over a few seconds says what it is doing on stderr when the command line
runs it (one line per stage when stderr is not a terminal, as under pytest's capture), and the Python API
stays quiet unless asked. The commands' own lines are checked beside their other checks, to train once:
prospect fit/map in test_prospect_cli.py, the demo in test_demo.py, segmentation in test_segment_names.py,
LAS batches in test_logs_skip_bad.py."""

from __future__ import annotations

import re

import pytest

from geotune import progress
from geotune.cli import main
from geotune.prospect.synthetic import make_synthetic_area

STAMP = re.compile(r"^\[\s*\d+ s\] ")


@pytest.fixture
def progress_on(monkeypatch):
    """The default a user gets: no $GEOTUNE_PROGRESS (the suite's conftest sets it to 0 for other tests)."""
    monkeypatch.delenv("GEOTUNE_PROGRESS", raising=False)
    progress.enable(None)
    yield
    progress.enable(None)


@pytest.fixture(scope="module")
def area(tmp_path_factory):
    return make_synthetic_area(tmp_path_factory.mktemp("area"), shape=(40, 50), n_deposits=30, seed=2)


def stage_lines(err: str) -> list[str]:
    return [STAMP.sub("", line) for line in err.splitlines() if STAMP.match(line)]


def test_the_command_line_turns_progress_on_and_the_api_stays_quiet(progress_on, capsys):
    progress.stage("from the api")
    assert capsys.readouterr().err == ""
    with progress.command_line():
        progress.stage("from a command")
    assert stage_lines(capsys.readouterr().err) == ["from a command"]
    progress.stage("after the command")
    assert capsys.readouterr().err == ""


def test_geotune_progress_0_silences_the_command_line(monkeypatch, capsys):
    monkeypatch.setenv("GEOTUNE_PROGRESS", "0")
    with progress.command_line():
        progress.stage("hidden")
    assert capsys.readouterr().err == ""


def test_logs_progress_is_the_shared_helper():
    from geotune.logs import progress as logs_progress

    assert logs_progress.stage is progress.stage and logs_progress.enable is progress.enable


def test_prospect_fit_through_python_prints_no_progress(progress_on, area, tmp_path, capsys):
    from geotune.prospect.run import fit_run

    fit_run([area["host"], area["anomaly"]], area["deposits"], "logistic", tmp_path / "run", cv_blocks=2)
    assert capsys.readouterr().err == ""


def test_lightning_epoch_lines_only_off_a_terminal_and_only_when_progress_is_on(progress_on, monkeypatch):
    import sys

    from geotune.training.epoch_lines import EpochLines, epoch_summary
    from geotune.training.trainer import progress_callbacks

    assert progress_callbacks() == []  # the Python API: quiet
    with progress.command_line():
        assert [type(c) for c in progress_callbacks()] == [EpochLines]
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
        assert progress_callbacks() == []  # a terminal keeps Lightning's bar
    assert epoch_summary({"val_mean_iou": 0.5, "train_loss": 1.25, "lr_step": 3.0, "zeta": float("nan")}) == \
        "train_loss 1.25, val_mean_iou 0.5"


def test_logs_leave_one_well_out_reports_each_fold(progress_on, tmp_path, capsys):
    from geotune.logs.synthetic import make_wells

    make_wells(3, 60, seed=4, missing_pe_wells=0).to_csv(tmp_path / "wells.csv", index=False)
    (tmp_path / "fast.yaml").write_text("extra: {gbm_params: {max_iter: 8}, forest_params: {n_estimators: 10}}\n")
    assert main(["train", "--task", "logs", "--data", str(tmp_path / "wells.csv"), "--label-column", "Facies",
                 "--group-by", "Well Name", "--cv", "logo", "--config", str(tmp_path / "fast.yaml"),
                 "--out", str(tmp_path / "run")]) == 0
    lines = stage_lines(capsys.readouterr().err)
    for i, well in enumerate(("WELL-1", "WELL-2", "WELL-3"), 1):
        assert f"fold {i}/3: holding out {well}" in lines
        assert any(line.startswith(f"fold {i}/3: {well} accuracy ") for line in lines)
    assert "final fit on every labelled row" in lines


def test_a_long_repeated_stage_is_not_silent_off_a_terminal(progress_on, capsys, monkeypatch):
    clock = iter([0.0, 1.0, 2.0, 40.0, 41.0, 42.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    with progress.command_line():  # takes the first reading
        for step in range(1, 6):
            progress.stage("predicting cells, chunk", step, 5)
    # steps 2 and 4 follow a printed line within 30 s; step 3 comes 39 s after step 1
    assert stage_lines(capsys.readouterr().err) == [f"predicting cells, chunk {i}/5" for i in (1, 3, 5)]
