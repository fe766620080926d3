"""The package layers hold: an import-linter contract (pyproject.toml) and no private names across packages."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "geotune"


def _package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def private_imports_across_packages() -> list[str]:
    found = []
    for module, path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported_modules = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _absolute(module, path, node)
                if not source.startswith("geotune"):
                    continue
                for alias in node.names:
                    target = f"{source}.{alias.name}"
                    imported_modules[alias.asname or alias.name] = target
                    if (alias.name.startswith("_") and not alias.name.startswith("__")
                            and _package_of(source) != _package_of(module)):
                        found.append(f"{module}: from {source} import {alias.name}")
        for node in ast.walk(tree):  # module._name, where module came from another package
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.attr.startswith("_") and not node.attr.startswith("__")
                    and node.value.id in imported_modules
                    and _package_of(imported_modules[node.value.id]) != _package_of(module)):
                found.append(f"{module}: {node.value.id}.{node.attr}")
    return found


def test_no_private_names_imported_across_packages():
    assert private_imports_across_packages() == []


def test_the_private_name_check_would_catch_one(tmp_path, monkeypatch):
    fake = tmp_path / "geotune"
    (fake / "a").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "a" / "__init__.py").write_text("from ..b import _hidden\nfrom .. import modeldir\nmodeldir._x\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", fake)
    assert private_imports_across_packages() == ["geotune.a: from geotune.b import _hidden",
                                                 "geotune.a: modeldir._x"]


def test_import_layers_contract_is_kept():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    result = subprocess.run([lint], capture_output=True, text=True, cwd=SRC.parents[1], timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 kept, 0 broken" in result.stdout
