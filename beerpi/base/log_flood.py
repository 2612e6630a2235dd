"""Keep the log readable under a flood: identical records are let through a few at a time.

A stranger who can make the server log (refused connections, hostile frames) must not be
able to fill the SD card with tracebacks. ``RepeatFilter`` lets the first ``burst`` records
with the same logger, level and message template through per ``window`` seconds, drops the
rest (tracebacks included), and the first record of the next window says how many were
dropped. ``install`` puts one on each handler where logging is configured.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

BURST = 5  # identical records let through per window
WINDOW = 60.0  # seconds
MAX_KEYS = 1000  # distinct messages remembered; the oldest are forgotten beyond it

_Key = tuple[str, int, str]


@dataclass
class _Window:
    start: float
    passed: int = 1
    suppressed: int = 0


class RepeatFilter(logging.Filter):
    """Let at most ``burst`` records per (logger, level, message template) through per ``window``."""

    def __init__(self, burst: int = BURST, window: float = WINDOW,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._windows: dict[_Key, _Window] = {}
        self._lock = threading.Lock()  # records come from the IOLoop, the monitor and the writer

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        with self._lock:
            current = self._windows.get(key)
            if current is not None and now - current.start < self.window:
                if current.passed < self.burst:
                    current.passed += 1
                    return True
                current.suppressed += 1
                return False
            self._windows.pop(key, None)  # re-inserted last: the oldest are forgotten first
            self._windows[key] = _Window(start=now)
            while len(self._windows) > self.max_keys:
                del self._windows[next(iter(self._windows))]
        if current is not None and current.suppressed:
            record.msg = (f"{record.getMessage()} ({current.suppressed} more like this suppressed "
                          f"in the last {now - current.start:.0f} s)")
            record.args = None
        return True

    def remembered(self) -> int:
        """How many distinct messages are being counted."""
        with self._lock:
            return len(self._windows)


def install(logger: logging.Logger | None = None) -> None:
    """Put a RepeatFilter on each handler of ``logger`` (the root logger by default), once."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RepeatFilter) for f in handler.filters):
            handler.addFilter(RepeatFilter())
