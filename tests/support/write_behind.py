"""The write-behind tests' parts: readings to hand over, a bounded poll, and ``Switchable``, a real
SQLite repository whose writes can be made to fail on demand (a fault-injection seam for the timing
and ordering tests, beside the real outages)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from beerpi.base.errors import StorageError
from beerpi.hardware.probe import Reading
from beerpi.repository.sqlite import SqliteRepository

T0 = 1_763_712_000.0
WAIT = 10.0


def readings(count: int, start: int = 0) -> list[Reading]:
    return [Reading(T0 + i / 10, "sim-wort", "wort", 18.0 + i / 1000) for i in range(start, start + count)]


def poll(condition, timeout: float = WAIT, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class Switchable(SqliteRepository):
    """A real SQLite repository whose writes fail while ``down`` is set, and which can be held."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.down = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.attempts: list[float] = []
        self.batches: list[int] = []

    def _check(self) -> None:
        self.attempts.append(time.monotonic())
        assert self.gate.wait(WAIT)
        if self.down.is_set():
            raise StorageError("the test switched the database off")

    def add_readings(self, readings):
        self._check()
        super().add_readings(readings)
        self.batches.append(len(readings))

    def add_event(self, event):
        self._check()
        super().add_event(event)

    def save_settings(self, settings):
        self._check()
        super().save_settings(settings)

    def load_settings(self):
        if self.down.is_set():
            raise StorageError("the test switched the database off")
        return super().load_settings()
