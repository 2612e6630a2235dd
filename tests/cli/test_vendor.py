"""Fetching the pinned front-end files: a registry in a directory, read through file:// URLs."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from beerpi.cli.vendor import VendorError, fetch_all


def publish(registry: Path, name: str, version: str, member: str, text: str) -> str:
    """Put a package's tarball where the registry serves it; its npm integrity hash."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        data = text.encode()
        info = tarfile.TarInfo(member)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    tarball = registry / name / "-" / f"{name}-{version}.tgz"
    tarball.parent.mkdir(parents=True)
    tarball.write_bytes(buffer.getvalue())
    return "sha512-" + base64.b64encode(hashlib.sha512(buffer.getvalue()).digest()).decode()


@pytest.fixture
def lock(tmp_path, monkeypatch) -> Path:
    """A lock with a page's package and one for the tests only, both in a local registry."""
    registry = tmp_path / "registry"
    monkeypatch.setenv("npm_config_registry", f"file://{registry}")
    packages = {
        "chartlib": {"version": "1.0.0", "files": {"package/chart.js": "static/vendor/chart.js"},
                     "integrity": publish(registry, "chartlib", "1.0.0", "package/chart.js", "chart")},
        "auditlib": {"version": "2.0.0", "for": "tests", "files": {"package/audit.js": "tests/vendor/audit.js"},
                     "integrity": publish(registry, "auditlib", "2.0.0", "package/audit.js", "audit")},
    }
    path = tmp_path / "frontend-lock.json"
    path.write_text(json.dumps({"packages": packages}))
    return path


def test_make_fetches_the_pages_files_and_make_test_also_the_tests_ones(lock, tmp_path):
    root = tmp_path / "project"
    assert fetch_all(lock, root) == ["chartlib@1.0.0"]
    assert (root / "static/vendor/chart.js").read_text() == "chart"
    assert not (root / "tests/vendor/audit.js").exists()
    assert fetch_all(lock, root, tests=True) == ["auditlib@2.0.0"]
    assert (root / "tests/vendor/audit.js").read_text() == "audit"


def test_a_tarball_that_does_not_match_its_hash_is_refused(lock, tmp_path):
    entry = json.loads(lock.read_text())
    entry["packages"]["chartlib"]["integrity"] = "sha512-" + base64.b64encode(b"0" * 64).decode()
    lock.write_text(json.dumps(entry))
    with pytest.raises(VendorError, match="integrity check failed"):
        fetch_all(lock, tmp_path / "project")
    assert not (tmp_path / "project/static/vendor/chart.js").exists()


def test_the_projects_lock_pins_axe_core_for_the_tests_only():
    packages = json.loads((Path(__file__).resolve().parents[2] / "frontend-lock.json").read_text())["packages"]
    assert packages["axe-core"]["for"] == "tests"
    assert all(dest.startswith("tests/") for dest in packages["axe-core"]["files"].values())
    assert "for" not in packages["d3"]
