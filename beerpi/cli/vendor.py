"""Fetch the pinned front-end packages from the npm registry, without npm.

The record in ``frontend-lock.json`` names each package, its version, the npm
``integrity`` hash of its tarball and the files to take from it; one marked
``"for": "tests"`` (the accessibility audit's axe-core) is fetched only with ``--tests``.
A tarball whose hash does not match is refused. Files already in place are left alone, so a Pi without
internet can still start once they have been fetched.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

DEFAULT_REGISTRY = "https://registry.npmjs.org"
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
LOCK_FILE = PROJECT_ROOT / "frontend-lock.json"


class VendorError(Exception):
    """A front-end package could not be fetched or failed its integrity check."""


def registry_url() -> str:
    return (os.environ.get("npm_config_registry") or os.environ.get("NPM_CONFIG_REGISTRY")
            or DEFAULT_REGISTRY).rstrip("/")


def tarball_url(registry: str, name: str, version: str) -> str:
    return f"{registry}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def check_integrity(data: bytes, integrity: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in ("sha512", "sha384", "sha256"):
        raise VendorError(f"unsupported integrity algorithm {algorithm!r}")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise VendorError(f"integrity check failed: expected {integrity}, got {algorithm}-{actual}")


def extract(data: bytes, files: dict[str, str], root: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member_name, destination in files.items():
            member = archive.getmember(member_name)
            source = archive.extractfile(member)
            if source is None:
                raise VendorError(f"{member_name} is not a file in the tarball")
            target = root / destination
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(source.read())
            partial.replace(target)


def fetch_all(lock_file: Path = LOCK_FILE, root: Path = PROJECT_ROOT, force: bool = False,
              tests: bool = False) -> list[str]:
    """Fetch every package whose files are missing (those for the tests too if ``tests``);
    return the names fetched."""
    packages = json.loads(lock_file.read_text())["packages"]
    fetched = []
    for name, entry in packages.items():
        if entry.get("for") == "tests" and not tests:
            continue
        if not force and all((root / dest).is_file() for dest in entry["files"].values()):
            continue
        url = tarball_url(registry_url(), name, entry["version"])
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                data = response.read()
        except OSError as exc:
            raise VendorError(f"cannot download {name}@{entry['version']} from {url}: {exc}") from exc
        check_integrity(data, entry["integrity"])
        extract(data, entry["files"], root)
        fetched.append(f"{name}@{entry['version']}")
    return fetched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m beerpi.cli.vendor",
        description="Fetch the pinned front-end files listed in frontend-lock.json.")
    parser.add_argument("--force", action="store_true", help="fetch again even if the files exist")
    parser.add_argument("--tests", action="store_true",
                        help="also fetch the files only the tests use (axe-core, for the accessibility audit)")
    args = parser.parse_args(argv)
    try:
        fetched = fetch_all(force=args.force, tests=args.tests)
    except VendorError as exc:
        print(f"beerpi.cli.vendor: {exc}", file=sys.stderr)
        return 1
    for item in fetched:
        print(f"fetched {item}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
