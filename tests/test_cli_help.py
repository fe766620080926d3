"""`--help` of the decision commands states every option's default and choices, and the defaults are real."""

from __future__ import annotations

import argparse

import pytest

from geotune.cli import build_parser
from geotune.cli.help_format import DefaultsHelpFormatter

COMMANDS = ("plan", "prospect", "volumetrics", "report", "serve")
UNSTATED = (None, False, argparse.SUPPRESS)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    # argparse keeps subcommands as an action whose choices map names to parsers
    for action in parser._actions:
        if isinstance(action.choices, dict):
            return action.choices
    return {}


def _leaves() -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for name, parser in _subparsers(build_parser()).items():
        if name not in COMMANDS:
            continue
        inner = _subparsers(parser)
        found += [(f"{name} {sub}", p) for sub, p in inner.items()] if inner else [(name, parser)]
    return found


@pytest.mark.parametrize("command,parser", _leaves(), ids=[name for name, _ in _leaves()])
def test_every_option_has_help_with_its_default(command, parser):
    assert issubclass(parser.formatter_class, DefaultsHelpFormatter)
    text = " ".join(parser.format_help().split())
    for action in parser._actions:
        if action.dest in ("help", "version") or not action.option_strings:
            continue
        assert action.help, f"geotune {command} {action.option_strings[0]} has no help"
        if action.default not in UNSTATED:
            assert f"(default: {action.default})" in text, f"geotune {command} {action.option_strings[0]}"
        if action.choices and action.metavar:
            assert all(str(c) in action.help for c in action.choices), f"choices of {action.option_strings[0]}"


def test_plan_simulate_help_and_behaviour_agree_on_max_cells(capsys):
    parser = build_parser()
    simulate = parser.parse_args(["plan", "simulate", "--map", "m.tif", "--out", "o"])
    run = parser.parse_args(["plan", "run", "--map", "m.tif", "--budget", "3", "--out", "o"])
    assert (simulate.max_cells, run.max_cells) == (2500, 20000)
    with pytest.raises(SystemExit):
        parser.parse_args(["plan", "simulate", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "planning cells (default: 2500)" in shown
