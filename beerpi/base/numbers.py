"""Numbers as a person writes them: plain decimals, the one reading of a number given as text.

Every number that comes in as text (a client's option, an HTTP query argument, an MQTT
payload) is read here. Python's ``float`` also reads ``1_9`` (as 19), ``١٩`` (other
scripts' digits), ``nan`` and ``infinity``: nobody means those as a temperature, so a typo
is refused, never taken as another value.
"""

from __future__ import annotations

import math
import re
from typing import Any

# Optional sign, ASCII digits with an optional fraction, an optional exponent (JSON's 1e3).
PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
PLAIN_WHOLE = re.compile(r"[+-]?[0-9]+")


def parse_decimal(text: str) -> float:
    """The finite number ``text`` writes as a plain decimal (spaces around it allowed; -0 is 0.0);
    ValueError otherwise."""
    stripped = text.strip()
    value = float(stripped) if PLAIN_DECIMAL.fullmatch(stripped) else math.nan
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a number: write a plain decimal such as 19 or 19.5")
    return value + 0.0  # -0.0 + 0.0 is 0.0: nobody means minus zero


def parse_whole(text: str) -> int:
    """The whole number ``text`` writes in plain digits (spaces around it allowed); ValueError otherwise."""
    stripped = text.strip()
    if not PLAIN_WHOLE.fullmatch(stripped):
        raise ValueError(f"{text!r} is not a whole number: write plain digits such as 8888")
    return int(stripped)


def is_number(value: Any) -> bool:
    """A finite number a float can hold, as JSON gives it (a bool is not one, nor a 400-digit integer)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
