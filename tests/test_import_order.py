"""The import order of the packages (setup.cfg, README's Layout) is checked, and a wrong way fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=tree, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tree)}, timeout=120)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package and its contracts, to plant imports in."""
    if not LINT_IMPORTS.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    shutil.copytree(ROOT / "beerpi", tmp_path / "beerpi", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    return tmp_path


def plant(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}\n")


def test_the_package_keeps_its_import_order(tree):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_way_import_fails_naming_both_modules(tree):
    plant(tree / "beerpi" / "control" / "thermostat.py", "from beerpi.web import hub  # noqa: E402,F401")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "beerpi.control.thermostat -> beerpi.web.hub" in result.stdout


def test_a_cycle_through_type_checking_fails(tree):
    plant(tree / "beerpi" / "web" / "hub.py",
          "from typing import TYPE_CHECKING  # noqa: E402\nif TYPE_CHECKING:\n    from beerpi.web import server  # noqa: F401")
    result = lint_imports(tree)
    assert result.returncode == 1 and "No cycles are allowed in beerpi.web" in result.stdout


def test_the_server_never_imports_the_client(tree):
    plant(tree / "beerpi" / "web" / "api" / "translate.py", "from beerpi.client import lines  # noqa: E402,F401")
    result = lint_imports(tree)
    assert result.returncode == 1 and "beerpi.web.api.translate -> beerpi.client.lines" in result.stdout
