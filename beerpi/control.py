"""Heater control decisions: hysteresis, manual modes and the fail-safe rules.

Everything here is pure: no I/O, no threads, no wall clock. The controller is fed the
time, the latest validated temperature (or the fault that replaced it) and the settings,
and says whether the heater should be on. Any doubt about the temperature decides OFF.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from .errors import ConfigError

MODES = ("auto", "on", "off", "heat", "cool")  # "on" is the first name of "heat"
TARGET_RANGE = (0.0, 40.0)
HYSTERESIS_RANGE = (0.05, 5.0)
RECOVERY_SAMPLES = 3  # consecutive valid samples that clear a probe fault

# Fault codes that are not probe faults (probe fault codes come from validation.py).
NO_READING = "no_reading"
NO_PROBES = "no_probes"
OVERTEMP = "overtemp"
MAX_ON = "max_on"


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
class Limits:
    """Safety limits, set at start-up. Times are in seconds of the control clock."""

    max_temp: float = 30.0
    max_on: float = 240 * 60.0  # 0 disables
    max_on_rest: float = 15 * 60.0  # how long a heater that hit max_on rests before control resumes
    min_on: float = 60.0
    min_off: float = 120.0


@dataclass(frozen=True, slots=True)
class Decision:
    heater: bool
    fault: str | None
    reason: str


class Controller:
    """Decides the heater state from observations; remembers only what the rules need."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.heater_on = False
        self.switched_at: float | None = None
        self.temperature: float | None = None
        self.probe_fault: str | None = None
        self.valid_streak = 0
        self.overtemp = False
        self.max_on_tripped_at: float | None = None

    @property
    def max_on_tripped(self) -> bool:
        return self.max_on_tripped_at is not None

    def observe(self, temperature: float | None, fault: str | None = None) -> None:
        """Take one sample of the control probe: a temperature, or the fault that replaced it."""
        if temperature is None or fault is not None or not math.isfinite(temperature):
            self.temperature = None
            self.probe_fault = fault or self.probe_fault or NO_READING
            self.valid_streak = 0
            return
        self.temperature = temperature
        self.valid_streak += 1
        if self.probe_fault is not None and self.valid_streak >= RECOVERY_SAMPLES:
            self.probe_fault = None

    def clear_latches(self) -> None:
        """A user changed the settings: forget a tripped maximum on-time."""
        self.max_on_tripped_at = None

    @property
    def fault(self) -> str | None:
        if self.probe_fault is not None:
            return self.probe_fault
        if self.temperature is None:
            return NO_READING
        if self.overtemp:
            return OVERTEMP
        if self.max_on_tripped:
            return MAX_ON
        return None

    def decide(self, now: float, settings: ControlSettings) -> Decision:
        """Return (and adopt) the heater state for time ``now``."""
        self._update_overtemp(settings)
        self._update_max_on(now)
        fault = self.fault
        if fault is not None:
            return self._adopt(now, False, fault, f"fault: {fault}")
        wanted, reason = self._wanted(settings)
        # The minimum times protect the relay from automatic short-cycling; a user who
        # switches the heater off is obeyed at once, like a fault.
        if wanted != self.heater_on and settings.mode != "off":
            held = self._held_by_minimum_time(now)
            if held:
                return Decision(self.heater_on, None, held)
        return self._adopt(now, wanted, None, reason)

    def _update_max_on(self, now: float) -> None:
        # A heater on for too long is rested, then trusted again: a cold start with a small
        # heater can legitimately take hours, and a latch would leave the wort unheated.
        if self.max_on_tripped_at is not None and now - self.max_on_tripped_at >= self.limits.max_on_rest:
            self.max_on_tripped_at = None
        if self.heater_on and self.limits.max_on > 0 and self.switched_at is not None \
                and now - self.switched_at >= self.limits.max_on:
            self.max_on_tripped_at = now

    def _update_overtemp(self, settings: ControlSettings) -> None:
        if self.temperature is None:
            return
        if self.temperature >= self.limits.max_temp:
            self.overtemp = True
        elif self.overtemp and self.temperature < settings.target:
            self.overtemp = False

    def _wanted(self, settings: ControlSettings) -> tuple[bool, str]:
        if settings.mode in ("on", "heat"):
            return True, "manual on"
        if settings.mode in ("off", "cool"):
            return False, f"manual {settings.mode}"
        low = settings.target - settings.hysteresis
        high = settings.target + settings.hysteresis
        if self.temperature <= low:
            return True, f"{self.temperature:.2f} °C at or below {low:.2f} °C"
        if self.temperature >= high:
            return False, f"{self.temperature:.2f} °C at or above {high:.2f} °C"
        return self.heater_on, "inside the band"

    def _held_by_minimum_time(self, now: float) -> str | None:
        if self.switched_at is None:
            return None
        elapsed = now - self.switched_at
        if self.heater_on and elapsed < self.limits.min_on:
            return f"minimum on-time: {self.limits.min_on - elapsed:.0f} s left"
        if not self.heater_on and elapsed < self.limits.min_off:
            return f"minimum off-time: {self.limits.min_off - elapsed:.0f} s left"
        return None

    def _adopt(self, now: float, heater: bool, fault: str | None, reason: str) -> Decision:
        if heater != self.heater_on:
            self.heater_on = heater
            self.switched_at = now
        return Decision(heater, fault, reason)


@dataclass(frozen=True, slots=True)
class ControlState:
    """What clients see of control: sent as a ``state`` frame."""

    ts: float
    heater: bool
    mode: str
    target: float
    hysteresis: float
    fault: str | None

    def same_as(self, other: ControlState | None) -> bool:
        """Equal in everything but the time stamp."""
        return other is not None and replace(other, ts=self.ts) == self
