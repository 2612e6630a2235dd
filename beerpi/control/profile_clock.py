"""The clock fermentation profiles run on, and the clock jumps it notices.

On real hardware profile time is the wall clock (``time.time``), watched against the
monotonic clock for jumps (``beerpi.control.clock_jump``). Under ``--hardware sim --speed N`` the
thermal model runs N times faster, so profile time must too: the simulated wall clock is
``simulated + speed × (time.time() − real)``, from an epoch stored once under the settings
key ``simulation_clock`` and reused after a restart, so a restart (even after ``kill -9``)
carries on where simulated time says and downtime counts ×speed. A restart with another
``--speed`` rebases the epoch at the simulated time reached. Only profiles use it: readings
stay stamped with real time.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from beerpi.control.clock_jump import ClockJump, ClockJumpDetector

log = logging.getLogger("beerpi.profile_clock")  # the log name users filter on (README, Layout)

SIMULATION_CLOCK = "simulation_clock"  # settings key of the simulated clock's epoch


class ProfileClock:
    """Profile time now (``now``), with any jump of it since the last call.

    ``synchronised`` is the kernel's view of the wall clock (``beerpi.base.wall_clock.kernel_says_synchronised``
    on real hardware; None where it cannot be asked, as for simulated time): it tells the clock
    being set after boot from a jump (``beerpi.control.clock_jump``).
    """

    def __init__(self, wall: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic, speed: float = 1.0,
                 synchronised: Callable[[], bool | None] = lambda: None) -> None:
        self.wall = wall
        self.speed = speed  # profile seconds per real second (simulation runs faster)
        self.monotonic = monotonic
        self.synchronised = synchronised
        self.detector = ClockJumpDetector()

    def now(self) -> tuple[float, ClockJump | None]:
        """(profile time, the jump since the last call or None); feeds the jump detector."""
        wall = self.wall()
        synchronised = self.synchronised() if self.detector.awaiting_sync else None
        return wall, self.detector.observe(wall, self.monotonic(), synchronised)


def simulated_clock(speed: float, stored: Any, real_wall: Callable[[], float] = time.time,
                    real_monotonic: Callable[[], float] = time.monotonic,
                    offset: Callable[[], float] | None = None
                    ) -> tuple[ProfileClock, dict[str, float] | None]:
    """The simulated profile clock at ``speed`` from the stored epoch, and a new epoch to store (or None).

    ``offset`` (soak testing only, ``--soak-dir``) is added to it: a step of it is a clock jump.
    """
    now = real_wall()
    epoch = _epoch(stored)
    if epoch is not None and epoch["speed"] == speed:
        record = None
    else:
        simulated = now if epoch is None else epoch["simulated"] + epoch["speed"] * (now - epoch["real"])
        record = epoch = {"simulated": simulated, "real": now, "speed": speed}
        log.info("simulation: profile time runs ×%g from %s", speed, time.strftime(
            "%Y-%m-%d %H:%M:%S UTC", time.gmtime(simulated)))
    simulated, real = epoch["simulated"], epoch["real"]
    shift = offset or (lambda: 0.0)
    clock = ProfileClock(lambda: simulated + speed * (real_wall() - real) + shift(),
                         lambda: speed * real_monotonic(), speed)
    return clock, record


def _epoch(stored: Any) -> dict[str, float] | None:
    if stored is None:
        return None
    names = ("simulated", "real", "speed")
    if (not isinstance(stored, Mapping) or set(stored) != set(names)
            or not all(_number(stored[name]) for name in names) or not stored["speed"] > 0):
        log.warning("ignoring the stored simulation clock %r: it is damaged; simulated time starts again now",
                    stored)
        return None
    return {name: float(stored[name]) for name in names}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
