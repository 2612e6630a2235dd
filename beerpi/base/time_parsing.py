"""Times and durations as a user types them: ``now``, ``30m`` ago, ISO times, Unix seconds.

One meaning everywhere (the HTTP API, ``beerpi export``, ``python -m beerpi.client``): an ISO
time without an offset is local time on the machine that reads it, as a user reads a clock;
``Z`` or ``+01:00`` names another.
"""

from __future__ import annotations

import re
from datetime import datetime

from beerpi.base.errors import ConfigError
from beerpi.base.numbers import parse_decimal

UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([smhdw])")
TIME_HELP = ("a duration ago (30m, 24h, 7d, 1d12h), an ISO 8601 date or time (2025-11-21, "
             "2025-11-21T18:00: local time unless it ends in Z or an offset such as +01:00), "
             "Unix seconds, or now")


def parse_duration(text: str) -> float:
    """Seconds in ``90s``, ``30m``, ``24h``, ``7d``, ``2w`` or ``1d12h``; ConfigError (a ValueError) otherwise."""
    compact = text.strip().lower()
    pieces = list(DURATION.finditer(compact))
    if not pieces or "".join(piece.group(0) for piece in pieces) != compact.replace(" ", ""):
        raise ConfigError(f"{text!r} is not a duration: write it like 90s, 30m, 24h, 7d or 1d12h")
    return sum(float(number) * UNITS[unit] for number, unit in (piece.groups() for piece in pieces))


def parse_time(text: str, now: float) -> float:
    """Unix seconds for ``text`` (see ``TIME_HELP``), durations counted back from ``now``.

    ConfigError (a ValueError) for anything else.
    """
    value = text.strip()
    if value.lower() == "now":
        return now
    try:
        return now - parse_duration(value)
    except ConfigError:
        pass
    try:
        return parse_decimal(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{text!r} is not a time: write {TIME_HELP}") from None
    return moment.timestamp()  # a naive time is local time, as the user reads a clock
