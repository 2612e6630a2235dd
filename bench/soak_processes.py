"""The soak's processes: the server under test (``run_server.py``, its RSS and open files) and a
restartable MongoDB wire server, with polls that always have a deadline."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WAIT = 30.0  # seconds any start, stop or poll may take


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """``run_server.py`` with the soak's options; its log goes to a file."""

    args: list[str]
    log_path: Path
    port: int
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen([sys.executable, str(ROOT / "run_server.py"), *self.args],
                                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        poll(lambda: self._answers() or self._died(), "the server to listen")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def _died(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"the server exited with {self.process.returncode}: see {self.log_path}")
        return False

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def rss(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def stop(self, signum: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        return self.process.wait(WAIT)


def poll(condition: Any, what: str, timeout: float = WAIT) -> Any:
    """Poll ``condition`` until truthy, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)  # polling with a deadline
    raise TimeoutError(f"waited {timeout:g} s for {what}")


async def apoll(condition: Any, what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await condition():
            return result
        await asyncio.sleep(0.05)  # polling with a deadline
    raise TimeoutError(f"waited {timeout:g} s for {what}")


class Mongo:
    """An in-process MongoDB wire server (secantusdb) on one port and one data directory, restartable."""

    def __init__(self, directory: Path) -> None:
        import secantus
        self._server_class = secantus.SecantusDBServer
        self.directory = directory
        self.port = free_port()
        self.server: Any = None

    def start(self) -> None:
        self.server = self._server_class(host="127.0.0.1", port=self.port, storage_path=str(self.directory),
                                         replica_set_name=None)
        self.server.start()
        from pymongo import MongoClient
        with MongoClient(self.url, serverSelectionTimeoutMS=WAIT * 1000) as client:
            client.admin.command("ping")  # answers: up

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/beerpi_soak?serverSelectionTimeoutMS=2000"
