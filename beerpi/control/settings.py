"""What a user asks of a chamber (its settings) and what clients see of it (its state).

The rules that turn readings and settings into switched outputs are in ``control/thermostat.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from beerpi.base.errors import ConfigError

MODES = ("auto", "on", "off", "heat", "cool")  # "on" is the first name of "heat"
TARGET_RANGE = (0.0, 40.0)
HYSTERESIS_RANGE = (0.05, 5.0)
RECOVERY_SAMPLES = 3  # consecutive valid samples that clear a probe fault

# Fault codes that are not probe faults (probe fault codes come from control/plausibility.py).
NO_READING = "no_reading"
NO_PROBES = "no_probes"


@dataclass(frozen=True, slots=True)
class ControlSettings:
    """What the user asks for; persisted, changed from any client."""

    mode: str = "auto"
    target: float = 20.0
    hysteresis: float = 0.3

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        _check_number("target", self.target, *TARGET_RANGE)
        _check_number("hysteresis", self.hysteresis, *HYSTERESIS_RANGE)

    def changed(self, **changes: Any) -> ControlSettings:
        """A copy with ``changes`` applied; raises ConfigError and changes nothing if invalid."""
        unknown = set(changes) - {"mode", "target", "hysteresis"}
        if unknown:
            raise ConfigError(f"unknown setting {sorted(unknown)[0]!r}")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "target": self.target, "hysteresis": self.hysteresis}


def _check_number(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
        raise ConfigError(f"{name} must be a number, not {_short(value)}")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g} °C")


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float, e.g. 10**400
        return False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"


@dataclass(frozen=True, slots=True)
class ControlState:
    """What clients see of one chamber's control: sent as a ``state`` frame.

    ``cooler`` is None for a chamber without one; ``activity`` is idle, heating, cooling or
    waiting (for ``waiting_for``: min_off, dead_time or other_on; ``waiting_output`` until
    ``waiting_until``), since the wall time
    ``since``; ``cutoffs`` are the limits that hold one output off (overtemp, undertemp,
    air_too_hot, air_too_cold). ``target`` is the target in force: a running profile's, if any.
    """

    ts: float
    heater: bool
    mode: str
    target: float
    hysteresis: float
    fault: str | None
    chamber: str = "main"
    cooler: bool | None = None
    activity: str = "idle"
    waiting_for: str | None = None
    waiting_output: str | None = None  # while waiting: the output that waits (heater or cooler)
    waiting_until: float | None = None  # while waiting: when it may start, on the profile clock (None: unknown)
    since: float | None = None
    cutoffs: tuple[str, ...] = ()
    profile: dict[str, Any] | None = None  # a running profile's steps and place (ChamberProfile.view)

    def same_as(self, other: ControlState | None) -> bool:
        """Equal in everything but the time stamp."""
        return other is not None and replace(other, ts=self.ts) == self
