"""Markers tell the truth: tests that read ../shared/data are marked shared_data, and `-m slow` selects tests.

The shared-data check reads the test modules' source (fast, nothing imported): a test *reads* the team's data
when it takes the ``shared_data``/``shared_dataset`` fixtures (directly or through a fixture of its module),
or when its body or decorators use ``SHARED_DATA``, a ``"shared"`` path part, a ``.shared`` attribute, or a
module-level name or helper built from those. Such a test must take the fixtures (the conftest hook then marks
it) or carry ``pytest.mark.shared_data`` itself or through ``pytestmark``.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FIXTURES = {"shared_data", "shared_dataset"}
SEED_NAMES = {"SHARED_DATA", "SHARED", "shared", "shared_dataset"}


def _identifiers(node: ast.AST) -> set[str]:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and (
                sub.value == "shared" or "shared/data" in sub.value):
            names.add("shared")
    return names


def _is_fixture(func: ast.FunctionDef) -> bool:
    return any("fixture" in _identifiers(d) for d in func.decorator_list)


def _params(func: ast.FunctionDef) -> set[str]:
    return {a.arg for a in func.args.args + func.args.kwonlyargs}


def _module_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found.append(node)
        elif isinstance(node, ast.ClassDef):
            found.extend(n for n in node.body if isinstance(n, ast.FunctionDef))
    return found


def readers_and_marks(tree: ast.Module) -> dict[str, tuple[bool, bool]]:
    """test name -> (reads shared data, is marked shared_data) for one module's source."""
    tainted = set(SEED_NAMES)
    taking = set(FIXTURES)  # fixtures whose users the hook marks (they take shared_data transitively)
    functions = _module_functions(tree)
    changed = True
    while changed:  # names and helpers built from shared paths taint what uses them
        changed = False
        for node in tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if _identifiers(node.value) & tainted:
                    new = {t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)}
                    changed |= not new <= tainted
                    tainted |= new
        for func in functions:
            if func.name.startswith("test"):
                continue
            if _is_fixture(func) and _params(func) & taking and func.name not in taking:
                taking.add(func.name)
                changed = True
            uses = set().union(*(_identifiers(n) for n in func.body)) if func.body else set()
            if uses & tainted and func.name not in tainted and not _is_fixture(func):
                tainted.add(func.name)
                changed = True
    module_marked = any(isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in n.targets)
                        and "shared_data" in _identifiers(n.value) for n in tree.body)
    result = {}
    for func in functions:
        if not func.name.startswith("test"):
            continue
        takes = bool(_params(func) & taking)
        used = set().union(*(_identifiers(n) for n in func.body + func.decorator_list))
        decorated = any("shared_data" in _identifiers(d) for d in func.decorator_list)
        result[func.name] = (takes or bool(used & tainted), takes or decorated or module_marked)
    return result


def test_every_test_reading_shared_data_is_marked():
    unmarked, readers = [], 0
    for path in sorted(TESTS.glob("test_*.py")):
        if path == Path(__file__):  # this file names the shared data only to describe the check
            continue
        for name, (reads, marked) in readers_and_marks(ast.parse(path.read_text(encoding="utf-8"))).items():
            readers += reads
            if reads and not marked:
                unmarked.append(f"{path.name}::{name}")
    assert readers >= 10  # the detection finds the known readers (LAS, SEG-Y corpus, LANDMASS, Cloncurry)
    assert not unmarked, ("tests that read ../shared/data without the shared_data mark (take the "
                          "`shared_dataset` fixture instead of building the path): " + ", ".join(unmarked))


def test_the_checker_catches_a_test_that_builds_the_path_itself():
    source = '''
import pytest
from conftest import SHARED_DATA
LAS = SHARED_DATA / "las_samples"
ROOT_COPY = Path("..") / "shared" / "data"
def _first():
    return sorted(LAS.iterdir())[0]
@pytest.fixture
def corpus(shared_dataset):
    return shared_dataset("segy_samples")
def test_helper(): _first()
def test_literal(): ROOT_COPY.exists()
def test_fixture(corpus): pass
@pytest.mark.shared_data
def test_marked(): LAS.exists()
def test_local(tmp_path): tmp_path.exists()
'''
    found = readers_and_marks(ast.parse(source))
    assert found == {"test_helper": (True, False), "test_literal": (True, False), "test_fixture": (True, True),
                     "test_marked": (True, True), "test_local": (False, False)}


def test_the_hook_marks_tests_that_take_the_fixture():
    """A real collection: in test_logs_las.py, `-m shared_data` selects a test that only takes the fixture."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                             "-p", "no:xdist", "-m", "shared_data", "tests/test_logs_las.py"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert "test_canonical_sample_maps_mnemonics_and_sorts_depth" in result.stdout, result.stdout[-2000:]
    assert "test_feet_converted_to_metres" not in result.stdout  # no fixture, no mark


def test_slow_tests_exist_and_make_shows_skip_reasons():
    slow = [path.name for path in TESTS.glob("test_*.py")
            if path != Path(__file__) and "pytest.mark.slow" in path.read_text(encoding="utf-8")]
    assert len(slow) >= 3, slow  # `make test-slow` selects something
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = {block.split(":", 1)[0]: block for block in makefile.split("\n\n") if block[:1].isalpha()}
    assert "-rs" in targets["test"] and "-rs" in targets["test-slow"] and "-m slow" in targets["test-slow"]
