"""run_server.py in a subprocess, as a user runs it, with its log collected."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
WAIT = 20.0
TEST_TOKEN = "test-control-token"  # every test server's control token unless the test says otherwise


def ws_url(port: int, token: str | None = TEST_TOKEN) -> str:
    """The WebSocket URL of a test server, presenting ``token`` (None: none)."""
    return f"ws://127.0.0.1:{port}/ws" + (f"?token={token}" if token else "")


class Server:
    """``python run_server.py`` in a subprocess; its log is collected by a reader thread."""

    def __init__(self, *args: str, cwd: Path = ROOT, preexec_fn: Callable[[], None] | None = None,
                 token: str | None = TEST_TOKEN) -> None:
        """``preexec_fn`` runs in the child before run_server.py, e.g. to lower a resource limit;
        ``token`` is passed as --token (None: the server's own, from its token file)."""
        token_args = ("--token", token) if token else ()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "run_server.py"), "--host", "127.0.0.1", *token_args, *args],
            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=preexec_fn)
        self.lines: list[str] = []
        self.port: int | None = None
        self._listening = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if match := re.search(r"listening on http://[^:]+:(\d+)/", line):
                self.port = int(match.group(1))
                self._listening.set()
        self._listening.set()

    def wait_listening(self) -> int:
        assert self._listening.wait(WAIT), "the server did not start in time"
        assert self.port is not None, "".join(self.lines)
        return self.port

    def log(self) -> str:
        return "".join(self.lines)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        return self.process.wait(WAIT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(WAIT)


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_server.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=WAIT)
