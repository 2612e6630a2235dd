"""``python -m beerpi hub`` in a subprocess, its page on a free loopback port, its log collected."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading

import pytest

from tests.support.process import ROOT, TEST_TOKEN
from tests.support.waiting import poll

WAIT = 20.0


class HubProcess:
    """A hub started as a brewer starts it; ``port`` once it serves its page."""

    def __init__(self, *args: str) -> None:
        # Its page on a free loopback port, with a token given (no token file written anywhere)
        web = ("--host", "127.0.0.1", "--port", "0", "--token", TEST_TOKEN)
        self.process = subprocess.Popen([sys.executable, "-m", "beerpi", "hub", *web, *args], cwd=ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.port: int | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if match := re.search(r"serving every Pi's chambers on http://[^:]+:(\d+)/", line):
                self.port = int(match.group(1))

    def log(self) -> str:
        return "".join(self.lines)

    def wait_connected(self) -> None:
        poll(lambda: "hub: connected to" in self.log() or self.process.poll() is not None, timeout=WAIT)
        assert self.process.poll() is None, self.log()

    def wait_serving(self) -> int:
        poll(lambda: self.port is not None or self.process.poll() is not None, timeout=WAIT)
        assert self.port is not None, self.log()
        return self.port

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(WAIT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(WAIT)

    def links_stored(self) -> int:
        """From the count line it logs when it stops."""
        [count] = re.findall(r"hub: (\d+) links stored since the start", self.log())[-1:]
        return int(count)


@pytest.fixture
def hubs():
    """Start hubs (``hubs("--mqtt", url, "--db", db)``); each is killed at the end of the test if still running."""
    started: list[HubProcess] = []

    def start(*args: str) -> HubProcess:
        started.append(HubProcess(*args))
        return started[-1]

    yield start
    for hub in started:
        hub.kill()
