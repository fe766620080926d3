"""Every ```python and ```bash block of the READMEs and docs/ runs as written, in an empty folder.

A page's blocks run in order in one fresh temporary folder, with `geotune` and `python` on PATH meaning this
checkout. Whatever data a block needs, an earlier block of the same page makes (synthetic), or the block says
`# needs: ...` and is skipped with that reason (a server that runs until stopped, GPUs, the user's own files).
A ```yaml block whose first line is `# NAME.yaml` is the file of that name. Running the pages trains models,
so it is `slow`; the fast tests check that every Python block compiles and names only things it defines or
imports, every shell block parses, and every `geotune` command has only options that exist.
"""

from __future__ import annotations

import ast
import builtins
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from geotune.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", "README.zh-CN.md"] + sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))
NEEDS = re.compile(r"^\s*#\s*needs:\s*(.+)$", re.M)
HEREDOC = re.compile(r"<<-?\s*'?(\w+)'?[^\n]*\n(.*?)\n\s*\1\s*(?:\n|$)", re.S)
PYTHON_HEREDOC = re.compile(r"\bpython3?\s+-\s*<<-?\s*'?(\w+)'?[^\n]*\n(.*?)\n\s*\1\s*(?:\n|$)", re.S)
PYTHON_C = re.compile(r"\bpython3?\s+-c\s+\"([^\"]*)\"")


@dataclass
class Block:
    page: str
    line: int
    language: str
    code: str

    @property
    def needs(self) -> str | None:
        found = NEEDS.search(self.code)
        return found.group(1).strip() if found else None

    def __str__(self) -> str:
        return f"{self.page}:{self.line} ({self.language})"


def blocks(page: str) -> list[Block]:
    text = (ROOT / page).read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"^```([\w-]*)\n(.*?)^```", text, flags=re.S | re.M):
        if match.group(1) in ("python", "bash", "yaml"):
            found.append(Block(page, text.count("\n", 0, match.start()) + 1, match.group(1), match.group(2)))
    return found


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks(page)]


def python_sources(block: Block) -> list[str]:
    """The Python a block runs: the block itself, or `python - <<EOF` / `python -c "..."` inside shell."""
    if block.language == "python":
        return [block.code]
    if block.language == "bash":
        return [m.group(2) for m in PYTHON_HEREDOC.finditer(block.code)] + PYTHON_C.findall(block.code)
    return []


def undefined_names(source: str) -> set[str]:
    """Names read but never bound in the snippet (imports, assignments, loops, functions, ...) nor built in."""
    tree = ast.parse(source)
    bound = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return read - bound


def shell_commands(code: str) -> list[str]:
    """Command lines of a shell block: continuations joined, here-document bodies left out."""
    code = HEREDOC.sub(lambda m: m.group(0).split("\n", 1)[0] + "\n", code)
    return [line.strip() for line in code.replace("\\\n", " ").splitlines() if line.strip()]


def test_every_page_has_blocks_and_the_pages_are_all_found():
    found = all_blocks()
    assert {"README.md", "docs/images.md", "docs/prospectivity.md", "docs/logs.md"} <= {b.page for b in found}
    assert sum(b.language == "python" for b in found) >= 8 and sum(b.language == "bash" for b in found) >= 20


@pytest.mark.parametrize("block", [b for b in all_blocks() if python_sources(b)], ids=str)
def test_python_compiles_and_names_only_what_it_defines(block):
    for source in python_sources(block):
        compile(source, str(block), "exec")
        assert not undefined_names(source), f"{block} uses names it never defines: {undefined_names(source)}"


def test_the_name_check_catches_an_undefined_name():
    assert undefined_names("import numpy as np\nx = np.zeros(3)\nmodel.predict(images)") == {"model", "images"}
    assert undefined_names("from a.b import c\nfor i, (j, k) in c: print(i, j, k, [m for m in j])") == set()


@pytest.mark.parametrize("block", [b for b in all_blocks() if b.language == "bash"], ids=str)
def test_shell_parses_and_uses_no_checkout_path(block):
    result = subprocess.run(["bash", "-n"], input=block.code, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"{block}: {result.stderr}"
    code = "\n".join(line.split("#", 1)[0] for line in block.code.splitlines())
    assert ".venv/" not in code, f"{block}: .venv/bin/... works only inside a checkout (and writes into it)"


@pytest.mark.parametrize("block", [b for b in all_blocks() if b.language == "bash"], ids=str)
def test_geotune_commands_have_only_existing_options(block, capsys):
    for command in shell_commands(block.code):
        if not command.startswith("geotune "):
            continue
        argv = shlex.split(command, comments=True)[1:]
        try:
            build_parser().parse_args(argv)
        except SystemExit as exc:
            pytest.fail(f"{block}: `{command}` does not parse (exit {exc.code}): {capsys.readouterr().err[-300:]}")


def _shims(folder: Path) -> dict:
    """`geotune` and `python` on PATH meaning this checkout and this interpreter."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    for name, target in (("geotune", f'"{sys.executable}" -m geotune'), ("python", f'"{sys.executable}"'),
                         ("python3", f'"{sys.executable}"')):
        (bin_dir / name).write_text(f'#!/bin/sh\nexec {target} "$@"\n')
        (bin_dir / name).chmod(0o755)
    path = os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])
    pythonpath = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PATH": path, "PYTHONPATH": pythonpath, "MPLBACKEND": "Agg"}


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p)])
def test_page_runs_as_written_in_an_empty_folder(page, tmp_path):
    env = _shims(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    skipped, failures = [], []
    for block in blocks(page):
        if block.needs:
            skipped.append(f"{block}: needs {block.needs}")
            continue
        if block.language == "yaml":
            named = re.match(r"#\s*(\S+\.ya?ml)\s*\n", block.code)
            if named:
                (work / named.group(1)).write_text(block.code, encoding="utf-8")
            continue
        command = ["bash", "-e", "-o", "pipefail", "-c", block.code] if block.language == "bash" else [
            sys.executable, "-c", block.code]
        result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            failures.append(f"{block} exited {result.returncode}:\n{result.stderr[-1500:]}")
    assert not failures, "\n\n".join(failures)
    if skipped:  # what the page asks the reader to bring: shown by -rs (make test-slow)
        pytest.skip("ran the rest; skipped " + "; ".join(skipped))
