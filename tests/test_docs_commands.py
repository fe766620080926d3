"""The `geotune ...` commands shown in README.md and README.zh-CN.md work as written.

Every usage command in the READMEs' shell code blocks is run, in order, in a temporary folder holding tiny
synthetic stand-ins for the files the README names (train_data.npy, photos/, manifest.csv, ...). Train
commands get `--image-size 32 --epochs 2` to stay fast. A command that fails, or writes nothing where it
says it writes, fails this test.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from geotune.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
READMES = ("README.md", "README.zh-CN.md")
FAST = ["--image-size", "32", "--epochs", "2"]
# Commands that never return by themselves: checked by the parser only.
SERVING = {"serve", "label"}  # start servers: options checked, not run


def readme_commands(name: str) -> list[str]:
    """`geotune ...` lines of the README's shell code blocks, comments removed, in order."""
    text = (ROOT / name).read_text(encoding="utf-8")
    commands = []
    for language, block in re.findall(r"```([\w-]*)\n(.*?)```", text, flags=re.S):
        if language not in ("", "bash", "sh", "shell", "console"):
            continue
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("geotune "):
                commands.append(line.split(" #", 1)[0].strip())
    return commands


def test_readmes_show_the_same_commands():
    english, chinese = readme_commands("README.md"), readme_commands("README.zh-CN.md")
    assert {c.split()[1] for c in english} >= {"train", "evaluate", "predict", "models"}  # extraction works
    assert chinese == english  # the translation shows exactly the English usage


def _workspace(folder: Path) -> None:
    """Tiny inputs under the names the README uses."""
    from PIL import Image

    from geotune.data.synthetic import make_patches

    for split, n, seed in (("train", 3, 0), ("test", 2, 1)):
        x, y, classes = make_patches(n, 32, seed)
        np.save(folder / f"{split}_data.npy", x)
        np.save(folder / f"{split}_labels.npy", np.asarray(classes)[y])
        if split == "train":
            np.save(folder / "blocks.npy", np.array([f"block{i % 4}" for i in range(len(x))]))
    x, y, classes = make_patches(3, 32, 2)
    rows = ["path,label,well"]
    for i, (sample, label) in enumerate(zip(x, y)):
        picture = Image.fromarray((np.clip(sample, 0, 1) * 255).astype(np.uint8))
        (folder / "photos" / classes[label]).mkdir(parents=True, exist_ok=True)
        picture.save(folder / "photos" / classes[label] / f"{i}.png")
        rows.append(f"photos/{classes[label]}/{i}.png,{classes[label]},well_{i % 3}")
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    _decision_inputs(folder)


def _decision_inputs(folder: Path) -> None:
    """Seismic sections and a SEG-Y survey, well logs, evidence layers and deposits, all synthetic."""
    from geotune.data.seismic import write_volume_segy
    from geotune.data.synthetic import make_sections, make_volume
    from geotune.logs.synthetic import make_wells
    from geotune.prospect.synthetic import make_synthetic_area

    sections, masks = make_sections(4, 32, 32, seed=0)
    np.save(folder / "sections.npy", sections)
    np.save(folder / "masks.npy", masks)
    volume = make_volume(2, 32, 32, seed=1)["amplitude"]  # (inline, sample, crossline)
    write_volume_segy(folder / "survey.sgy", np.transpose(volume, (0, 2, 1)))
    make_wells(n_wells=3, n_samples=80, seed=0).to_csv(folder / "wells.csv", index=False)
    make_synthetic_area(folder, shape=(30, 40), n_deposits=25, seed=0)


def _check_outputs(argv: list[str], folder: Path) -> str | None:
    out = argv[argv.index("--out") + 1] if "--out" in argv else None
    if out is None:
        return None
    expected = {"train": Path(out) / "model" / "config.json", "evaluate": Path(out) / "metrics.json"}.get(argv[0],
                                                                                                        Path(out))
    if not (folder / expected).exists():
        return f"wrote no {expected}"
    return None


@pytest.mark.slow
def test_readme_commands_run_on_tiny_data(tmp_path, monkeypatch, capsys):
    commands = list(dict.fromkeys(readme_commands("README.md") + readme_commands("README.zh-CN.md")))
    _workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    failures = []
    for command in commands:
        argv = shlex.split(command)[1:]
        if argv[0] in SERVING:
            build_parser().parse_args(argv)  # exits (SystemExit) on an option that does not exist
            continue
        if argv[0] == "train":
            argv += FAST if "logs" not in argv and "fusion" not in argv else FAST[2:]  # tables have no image size
        try:
            code = main(argv)
        except Exception as exc:  # noqa: BLE001 - a crash is reported with the command that caused it
            code, crash = 1, f"{type(exc).__name__}: {str(exc)[:300]}"
        else:
            crash = ""
        captured = capsys.readouterr()
        problem = (f"exit code {code}: {crash or captured.err.strip()[-300:]}" if code != 0
                   else _check_outputs(argv, tmp_path))
        if problem:
            failures.append(f"{command}\n    {problem}")
    assert not failures, "README commands that no longer work:\n" + "\n".join(failures)
    predictions = (tmp_path / "predictions.csv").read_text().splitlines()
    assert len(predictions) == 1 + len(np.load(tmp_path / "test_data.npy"))
    # the report of a README run finds the README's relative data even when made from another folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["report", str(tmp_path / "runs" / "patches"), "--out", "r.html", "--examples", "1"]) == 0
    report = (elsewhere / "r.html").read_text(encoding="utf-8")
    assert "Training data not found" not in report
    # the data was found: examples and Grad-CAM, or (tiny data, --strategy auto cross-validates) the reason none
    assert "Where the model looked" in report or "trained on every labelled sample" in report
