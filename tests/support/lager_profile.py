"""A lager profile the profile tests share: its steps, a set wall clock to start it on, an unset one."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from beerpi.control.profile import HOLD, RAMP, ProfileRun, Step

HOUR = 3600.0
DAY = 24 * HOUR
# A set wall clock, with a fraction of a second as time.time() has.
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc).timestamp() + 0.123456
UNSET = 300.0  # five minutes after boot on a Pi that has not reached a time server

# 12 °C for 7 days, ramp to 18 °C over 2 days (diacetyl rest), hold 2 days, cold crash to 2 °C.
LAGER = (
    Step(HOLD, 12.0, 7 * DAY),
    Step(RAMP, 18.0, 2 * DAY),
    Step(HOLD, 18.0, 2 * DAY),
    Step(HOLD, 2.0, 3 * DAY),
)
START_TARGET = 20.0


def lager(now: float = T0, **where) -> ProfileRun:
    return ProfileRun.start(LAGER, now, START_TARGET, **where)


def stored(run: ProfileRun) -> ProfileRun:
    """The run through JSON and back, as storage does it."""
    return ProfileRun.from_dict(json.loads(json.dumps(run.as_dict())))
