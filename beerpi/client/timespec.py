"""Times and durations as a user types them: ``30m``, ``24h``, ``7d``, ISO times, Unix seconds."""

from __future__ import annotations

import re
from datetime import datetime

from .numbers import parse_decimal

UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([smhdw])")


def parse_duration(text: str) -> float:
    """Seconds in ``90s``, ``30m``, ``24h``, ``7d``, ``2w`` or ``1d12h``; ValueError otherwise."""
    compact = text.strip().lower()
    pieces = list(DURATION.finditer(compact))
    if not pieces or "".join(piece.group(0) for piece in pieces) != compact.replace(" ", ""):
        raise ValueError(f"{text!r} is not a duration: write it like 90s, 30m, 24h, 7d or 1d12h")
    return sum(float(number) * UNITS[unit] for number, unit in (piece.groups() for piece in pieces))


def parse_time(text: str, now: float) -> float:
    """Unix seconds for ``now``, a duration ago (``24h``), an ISO time (local time unless it
    names its offset) or plain Unix seconds; ValueError otherwise."""
    text = text.strip()
    if text.lower() == "now":
        return now
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_decimal(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a time: write a duration ago (30m, 24h, 7d), an ISO time "
                         "(2025-11-21T18:00), Unix seconds or now") from None
    return moment.timestamp()  # a naive time is taken as local time, as the user reads a clock
