"""A second thread that switches the heater off when the monitor stops completing samples."""

from __future__ import annotations

import logging
import threading

from beerpi.monitor.loop import Monitor
from beerpi.monitor.sampler import worst_tick

log = logging.getLogger("beerpi.watchdog")  # the log name users filter on (README, Layout)

STALE_AFTER_INTERVALS = 3


def limit_for(interval: float, read_timeout: float) -> float:
    """The watchdog limit for a sampler: never less than the longest gap between two healthy ticks."""
    return max(STALE_AFTER_INTERVALS * interval, interval + worst_tick(read_timeout))


class Watchdog:
    """Trips the monitor's fail-safe when no sample completed for ``limit`` seconds."""

    def __init__(self, monitor: Monitor, limit: float | None = None, check_every: float | None = None) -> None:
        self.monitor = monitor
        self.limit = limit if limit is not None else STALE_AFTER_INTERVALS * monitor.interval
        self.check_every = check_every if check_every is not None else min(self.limit / 4, 1.0)
        self.tripped = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self, now: float | None = None) -> bool:
        """One look at the monitor; returns whether it is (now) considered stalled."""
        silent = self.monitor.silent_for(now)
        if silent > self.limit:
            if not self.tripped:
                self.tripped = True
                log.error("no sample completed for %.1f s (limit %.1f s): heater OFF", silent, self.limit)
                self.monitor.trip_watchdog()
        elif self.tripped:
            self.tripped = False
            log.warning("samples are completing again")
        return self.tripped

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="beerpi-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.check_every):
            try:
                self.check()
            except Exception:
                log.exception("watchdog check failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
