"""``python -m beerpi.client`` as a user runs it, and a simulated server for it to talk to."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.process import ROOT, TEST_TOKEN, WAIT, Server


def url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/ws"


def sim_args(db: Path, *extra: str, port: int = 0) -> tuple[str, ...]:
    return ("--port", str(port), "--hardware", "sim", "--interval", "0.05", "--speed", "60",
            "--db", f"sqlite:///{db}", *extra)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(*sim_args(tmp_path / "b.sqlite3"))
    running.wait_listening()
    yield running
    running.kill()


def client_env(**variables: str) -> dict[str, str]:
    """The environment without a token or URL of the user's own, plus ``variables``."""
    env = {key: value for key, value in os.environ.items() if key not in ("BEERPI_TOKEN", "BEERPI_URL")}
    return env | variables


def client(*args: str, **variables: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "beerpi.client", *args], cwd=ROOT, env=client_env(**variables),
                            capture_output=True, text=True, timeout=WAIT)
    assert TEST_TOKEN not in result.stdout + result.stderr, "the client printed the token"
    assert "Traceback" not in result.stderr, result.stderr
    return result
