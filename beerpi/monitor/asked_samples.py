"""Clients waiting for a sample taken now (``get_temp``): one tick answers every one of them.

The monitor's thread asks ``due()`` when the next asked-for tick may run (at least ``GAP``
after the last tick, so clients cannot drive the probes harder than that) and hands that
tick's readings to ``answer()``. An asked-for tick is not stored: the database keeps the
schedule's ticks only, however often clients ask. Any thread may ``add()`` a waiter.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import Future
from typing import Any

GAP = 1.0  # s: the least time between a tick and one asked for by a client


class AskedSamples:
    def __init__(self) -> None:
        self._waiting: list[Future] = []
        self._lock = threading.Lock()

    def add(self) -> Future:
        """A future for the readings of the next tick."""
        future: Future = Future()
        with self._lock:
            self._waiting.append(future)
        return future

    def due(self, last_tick: float | None) -> float:
        """When an asked-for tick may run (monotonic), or infinity if nobody is waiting."""
        with self._lock:
            if not self._waiting:
                return math.inf
        return (last_tick if last_tick is not None else -math.inf) + GAP

    def answer(self, outcome: Any) -> None:
        """Give every waiter ``outcome``: the tick's readings, or an exception to raise."""
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for future in waiting:
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
