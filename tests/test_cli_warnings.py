"""The command line shows geotune's own warnings without -v, hides third-party ones, and takes -v anywhere."""

from __future__ import annotations

import os
import warnings

import pytest
import yaml

from geotune.cli import build_parser, main
from geotune.errors import GeotuneError, GeotuneWarning
from geotune.logs.synthetic import make_wells


def test_a_geotune_warning_reaches_stderr_without_verbose(tmp_path, monkeypatch, capsys):
    make_wells(3, 60, seed=3, missing_pe_wells=0).drop(columns=["Well Name"]).to_csv(tmp_path / "wells.csv",
                                                                                      index=False)
    (tmp_path / "fast.yaml").write_text(yaml.safe_dump({"extra": {"gbm_params": {"max_iter": 5}}}))
    monkeypatch.chdir(tmp_path)
    before = os.environ.get("PYTHONWARNINGS")
    code = main(["train", "--task", "logs", "--data", "wells.csv", "--label-column", "Facies",
                 "--config", "fast.yaml", "--out", "run"])
    assert code == 0
    err = capsys.readouterr().err.splitlines()
    shown = [line for line in err if "no well column found" in line]
    assert len(shown) == 1 and shown[0].startswith("geotune: warning: wells.csv: ")
    assert not any("warn(" in line or "LogsWarning" in line for line in err)  # no source line, no class name
    assert os.environ.get("PYTHONWARNINGS") == before  # subprocesses keep their own warning settings


def _noisy_command(args) -> int:
    warnings.warn_explicit("noise from a library", UserWarning, "torch/nn/modules/module.py", 1, module="torch.nn")
    warnings.warn("an input was repaired", GeotuneWarning)
    return 0


@pytest.mark.parametrize("verbose", [False, True])
def test_third_party_warnings_need_verbose_and_filters_are_restored(verbose, monkeypatch, capsys):
    monkeypatch.setattr("geotune.cli.recognition._models", _noisy_command)
    filters = list(warnings.filters)
    assert main(["models"] + (["-v"] if verbose else [])) == 0
    err = capsys.readouterr().err
    assert "geotune: warning: an input was repaired" in err
    assert ("noise from a library" in err) == verbose
    assert warnings.filters == filters  # main() leaves the caller's (a notebook's, a test's) filters alone


@pytest.mark.parametrize("argv", [
    ["-v", "models"],
    ["models", "-v"],
    ["models", "--verbose"],
    ["plan", "simulate", "--map", "m.tif", "--out", "o", "-v"],
    ["prospect", "map", "-v", "run"],
    ["train", "--data", "d.npy", "--verbose"],
])
def test_verbose_is_accepted_before_or_after_the_subcommand(argv):
    assert build_parser().parse_args(argv).verbose is True


def test_verbose_defaults_to_false_and_after_the_subcommand_shows_the_traceback(tmp_path, capsys):
    assert build_parser().parse_args(["plan", "run", "--map", "m", "--budget", "2", "--out", "o"]).verbose is False
    missing = str(tmp_path / "no_such_run")
    assert main(["report", missing]) == 2
    assert missing in capsys.readouterr().err
    with pytest.raises(GeotuneError):
        main(["report", missing, "-v"])


def test_geotune_code_warns_with_a_geotune_warning():
    """The CLI shows warnings by category: a plain UserWarning from geotune would be hidden without -v."""
    import ast
    import importlib
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "src" / "geotune"
    calls = []
    for path in package.rglob("*.py"):
        module = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "warnings.warn":
                category = node.args[1] if len(node.args) > 1 else next(
                    (k.value for k in node.keywords if k.arg == "category"), None)
                calls.append((module, category))
    assert calls  # the scan finds geotune's warnings (logs/las.py)
    for module, category in calls:
        assert category is not None, f"{module}: warnings.warn without a category (UserWarning is hidden)"
        found = getattr(importlib.import_module(module), ast.unparse(category))
        assert issubclass(found, GeotuneWarning), f"{module}: {ast.unparse(category)} is not a GeotuneWarning"
