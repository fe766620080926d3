"""Issue 23, what the training summary and warnings tell a new user: how much stands behind a score, what
became of pseudo-labels and suspect labels, and hints that name options which exist."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from geotune.cli import build_parser
from geotune.cli.recognition import validation_caveats, validation_line
from geotune.logs.las import LogsWarning, apply_aliases


def test_caveats_say_what_stands_behind_the_score():
    metrics = {"accuracy": 0.75, "n_samples": 4, "evaluated_on": "validation split"}
    summary = {"unlabelled": {"n_used": 0}, "noisy_labels": {"file": "RUN/suspect_labels.csv"}}
    line = validation_line(metrics)
    notes = validation_caveats(summary, metrics)
    assert line == "validation: accuracy 0.750 on 4 validation samples"
    assert any(n.startswith("only 4 validation samples") and "0.25" in n for n in notes)
    assert any("random split" in n and "--groups" in n for n in notes)
    assert any("no pseudo-labels were used" in n for n in notes)
    assert any(n == "suspect labels written to RUN/suspect_labels.csv" for n in notes)
    grouped = validation_caveats({}, {"n_samples": 400, "evaluated_on": "grouped by well",
                                      "held_out_groups": [f"W{i}" for i in range(10)]})
    assert grouped == ["held out for validation: W0, W1, W2, W3, W4, W5, W6, W7 and 2 more"]


def test_segmentation_scores_name_sections_and_pixels():
    line = validation_line({"accuracy": 0.9, "mean_iou": 0.5, "n_val_sections": 3, "n_pixels": 3072})
    assert line == "validation: accuracy 0.900, mean_iou 0.500 on 3 validation sections (3072 pixels)"


def test_the_alias_hint_names_an_option_geotune_train_has():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        apply_aliases(pd.DataFrame({"WEIRDCURVE": [1.0]}), report_unknown=True)
    hint = next(str(w.message) for w in caught if issubclass(w.category, LogsWarning))
    assert "--aliases FILE.json" in hint
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    assert "--aliases" in train._option_string_actions
    with pytest.raises(SystemExit):
        train.parse_args(["--aliases"])  # takes a file


def test_every_command_on_the_first_hour_page_names_real_options():
    """The page's commands (code spans, `$ geotune` lines, shell blocks) use commands and options that exist;
    prose may leave out required ones (`geotune prospect fit --method gbm`)."""
    import re
    import shlex
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "first-hour.md").read_text(encoding="utf-8")
    commands = re.findall(r"`(geotune [^`]+)`", text)
    commands += [line.removeprefix("$ ").strip() for line in text.splitlines()
                 if line.startswith(("$ geotune ", "geotune "))]
    commands = [c for c in commands if not re.match(r"geotune( [\w-]+)*:", c)]  # printed lines, not commands
    assert len(commands) >= 8 and any("--skip-bad" in c for c in commands)
    for command in commands:
        parser, words = build_parser(), shlex.split(command)[1:]
        while words and parser._subparsers is not None and words[0] in parser._subparsers._group_actions[0].choices:
            parser = parser._subparsers._group_actions[0].choices[words.pop(0)]
        unknown = [w.split("=")[0] for w in words if w.startswith("--") and w.split("=")[0]
                   not in parser._option_string_actions]
        assert not unknown, f"docs/first-hour.md: `{command}` uses {unknown}"


@pytest.mark.parametrize("command", ["evaluate", "predict", "export", "suggest", "models", "demo"])
def test_recognition_commands_describe_every_option(command):
    """Beside `train` (generated from TrainConfig) and the commands test_cli_help.py walks: help for every
    option, its default stated when it has one, and its choices shown."""
    import argparse

    parser = build_parser()._subparsers._group_actions[0].choices[command]
    text = " ".join(parser.format_help().split())
    for action in parser._actions:
        if action.dest in ("help", "verbose") or not action.option_strings:
            continue
        name = action.option_strings[0]
        assert action.help and len(action.help) > 12, f"geotune {command} {name} has no help"
        if action.default not in (None, False, argparse.SUPPRESS):
            assert f"(default: {action.default})" in text or "default" in action.help, f"{command} {name}"
        if action.choices:
            assert "{" + ",".join(map(str, action.choices)) + "}" in text, f"{command} {name} hides its choices"
