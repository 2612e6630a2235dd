"""A server the benchmarks start in a subprocess: its output drained by a thread, its port read
from the line ``listening on http://HOST:PORT/`` that BeerPi and the peers print once they serve."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

LISTENING = re.compile(r"listening on http://[^:]+:(\d+)/")
KEPT_LINES = 2000  # of its output; a connection burst logs a line per client


class ServerProcess:
    """``python COMMAND…`` in ``cwd``; ``wait_listening`` gives its port, ``stop`` ends it."""

    def __init__(self, command: Sequence[str], cwd: Path, preexec_fn: Callable[[], None] | None = None) -> None:
        self.process = subprocess.Popen([sys.executable, *command], cwd=cwd, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, preexec_fn=preexec_fn)
        self.lines: list[str] = []
        self.port: int | None = None
        self._listening = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            if len(self.lines) < KEPT_LINES:
                self.lines.append(line)
            if self.port is None and (match := LISTENING.search(line)):
                self.port = int(match.group(1))
                self._listening.set()
        self._listening.set()  # it ended: nobody waits in vain

    def wait_listening(self, timeout: float) -> int:
        if not self._listening.wait(timeout) or self.port is None:
            raise RuntimeError("the server did not start:\n" + "".join(self.lines[-30:]))
        return self.port

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
