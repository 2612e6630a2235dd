"""The wall clock's trustworthiness.

A Raspberry Pi has no real-time clock: until it reaches a time server (and it may never
have internet) it may start in 1970, or at the time it was last shut down. Control does not
care (its timings run on the monotonic clock), but a reading stored with a 1970 date lands
in the wrong place in the history for ever. A clock before this release was made is
plainly unset: readings and events taken then are kept out of storage, and the log says so.

The kernel's "synchronised" flag is only reported, not obeyed: a Pi that never has
internet never synchronises, and must still keep its history. Profiles use it to tell the
clock being set after boot from a jump (``beerpi.control.clock_jump``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import threading
import time
from datetime import datetime, timezone

log = logging.getLogger("beerpi.clock")  # the log name users filter on (README, Layout)

# This release was made after this moment: a clock reading earlier is not set.
EARLIEST_PLAUSIBLE = datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()
TIME_ERROR = 5  # adjtimex(2): the clock is not synchronised


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


@functools.cache
def _libc() -> ctypes.CDLL:
    # Found once: find_library runs ldconfig, and the profile clock asks every sample until synchronised.
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def kernel_says_synchronised() -> bool | None:
    """The kernel's view (adjtimex): True, False, or None where it cannot be asked."""
    try:
        timex = ctypes.create_string_buffer(512)  # struct timex with modes 0: read only
        state = _libc().adjtimex(timex)
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != TIME_ERROR


class WallClockGuard:
    """Says whether a time stamp may be stored, and logs when the clock is unset and set again."""

    def __init__(self, earliest: float = EARLIEST_PLAUSIBLE) -> None:
        self.earliest = earliest
        self.unset = False
        self.withheld = 0  # readings not stored while the clock was unset
        self._lock = threading.Lock()  # the monitor and the watchdog both record events

    def storable(self, ts: float, readings: int = 0) -> bool:
        with self._lock:
            if ts >= self.earliest:
                if self.unset:
                    self.unset = False
                    log.warning("the clock is set now (%s): storing readings again; %d readings taken "
                                "while it was unset were kept out of the history", iso(ts), self.withheld)
                    self.withheld = 0
                return True
            if not self.unset:
                self.unset = True
                log.error("the system clock reads %s, before this version of BeerPi was made: it is not "
                          "set (a Pi without a real-time clock does this until it reaches a time server). "
                          "Control carries on; readings are not stored until the clock is set", iso(ts))
            self.withheld += readings
            return False
