"""``make install`` / ``make uninstall`` into a scratch root: idempotent, reversible, a valid unit.

The scripts run for real (a virtual environment, pip, the unit rendered from its template);
only the places are redirected into a temporary directory and systemctl is a no-op, so the
machine running the tests is not changed. The unit is checked with ``systemd-analyze verify``
here, and run under a real systemd in tests/e2e/test_systemd_service.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest

from tests.support.process import ROOT
from tests.support.waiting import poll

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the install scripts need root (they refuse otherwise)")


@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    return {"PREFIX": str(tmp_path / "opt"), "STATE": str(tmp_path / "state"), "CONF": str(tmp_path / "etc"),
            "UNIT_DIR": str(tmp_path / "unit"), "BIN_DIR": str(tmp_path / "bin"), "BEERPI_USER": "root",
            "SYSTEMCTL": "true"}


def script(name: str, places: dict[str, str], **extra: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, **places, **extra}
    environ.pop("PYTHONPATH", None)
    return subprocess.run([str(ROOT / "deploy" / name)], env=environ, capture_output=True, text=True,
                          timeout=300)


def test_install_twice_then_uninstall(places, tmp_path):
    first = script("install.sh", places)
    assert first.returncode == 0, first.stderr
    env_file = Path(places["CONF"]) / "beerpi.env"
    env_file.write_text(env_file.read_text() + "BEERPI_TARGET=18.5\n")  # the user's own setting
    # Installing again (an update) succeeds and keeps the user's configuration
    again = script("install.sh", places)
    assert again.returncode == 0, again.stderr
    assert "BEERPI_TARGET=18.5" in env_file.read_text()
    # The data directory is the service's alone
    assert Path(places["STATE"]).stat().st_mode & 0o777 == 0o700
    # The unit is valid for systemd, runs the installed command and releases the relays after it
    unit = Path(places["UNIT_DIR"]) / "beerpi.service"
    text = unit.read_text()
    assert f"ExecStopPost={places['PREFIX']}/venv/bin/beerpi release" in text and "WatchdogSec=" in text
    if shutil.which("systemd-analyze"):
        verified = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                                  timeout=60)
        assert verified.returncode == 0 and "beerpi.service" not in verified.stderr, verified.stderr
    # The installed command serves the dashboard from the installed tree (D3 included)
    command = Path(places["BIN_DIR"]) / "beerpi"
    server = subprocess.Popen([str(command), "serve", "--hardware", "sim", "--host", "127.0.0.1", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    try:
        port = poll(lambda: _port(server))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/vendor/d3.min.js", timeout=10) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(30)
    assert (Path(places["STATE"]) / "token").exists()  # the database and token are where beerpi.env says
    # Uninstalling removes the code, the unit and the command, and keeps data and configuration
    removed = script("uninstall.sh", places)
    assert removed.returncode == 0, removed.stderr
    assert not Path(places["PREFIX"]).exists() and not unit.exists() and not command.exists()
    assert env_file.exists() and (Path(places["STATE"]) / "token").exists()
    purged = script("uninstall.sh", places, PURGE="1")  # the user is root here: it must survive
    assert purged.returncode == 0 and not Path(places["STATE"]).exists() and not env_file.exists()
    assert subprocess.run(["id", "-u", "root"], capture_output=True).returncode == 0


def _port(server: subprocess.Popen) -> int | None:
    line = server.stdout.readline()
    assert line, "the installed server exited"
    if "listening on http://" in line:
        return int(line.split("listening on http://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    return None


@pytest.fixture
def readable_deploy():
    """A copy of deploy/ that the user nobody can read: the checkout (and pytest's temporary
    folders) may sit in folders closed to others (0700)."""
    folder = Path(tempfile.mkdtemp(prefix="beerpi-deploy-"))
    try:
        folder.chmod(0o755)
        shutil.copytree(ROOT / "deploy", folder / "deploy")
        yield folder / "deploy"
    finally:
        shutil.rmtree(folder)


def test_install_refuses_without_root_privileges(places, readable_deploy):
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                             str(readable_deploy / "install.sh")], env={**os.environ, **places},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "sudo make install" in result.stderr, result.stderr


def test_install_refuses_a_python_the_service_cannot_reach(places):
    """The unit's ProtectHome= hides /home and /root: a venv made from a Python there fails at start."""
    import sys
    import tempfile
    home = Path(tempfile.mkdtemp(prefix="beerpi-test-", dir="/home"))
    try:
        (home / "python3").symlink_to(sys.executable)
        result = script("install.sh", places, PYTHON=str(home / "python3"))
        assert result.returncode == 1
        assert "ProtectHome" in result.stderr and "PYTHON=/usr/bin/python3" in result.stderr
        assert not Path(places["PREFIX"]).exists() and not (Path(places["UNIT_DIR"]) / "beerpi.service").exists()
    finally:
        shutil.rmtree(home)
