"""Profile steps: what a client may send, checked, and the schedule they make.

A step holds a target (°C) for a duration, or ramps linearly to it over a duration or at a
rate (°C per day). The schedule works a rate out into a duration from the target before the
step; see ``beerpi.control.profile`` for why. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from beerpi.base.errors import ConfigError
from beerpi.control.gravity_conditions import ENDS, Condition, parse_condition
from beerpi.control.settings import TARGET_RANGE

HOLD = "hold"
RAMP = "ramp"
KINDS = (HOLD, RAMP)
DAY = 86400.0
MAX_STEPS = 50
MAX_STEP_DURATION = 365 * DAY
RATE_RANGE = (0.1, 50.0)  # °C per day; the slowest full-range ramp takes 400 days
STEP_FIELDS = frozenset({"kind", "target", "duration", "rate", "until", "end"})
# A step that ends on gravity alone (no duration, or "both") is planned this long: it is
# ended early by its condition (see gravity_conditions.py), never by this.
OPEN_DURATION = MAX_STEP_DURATION


def check_number(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: {name} must be a number, not {value!r}")
    return float(value)


def check_range(where: str, name: str, value: Any, low: float, high: float, unit: str) -> float:
    number = check_number(where, name, value)
    if not low <= number <= high:
        raise ConfigError(f"{where}: {name} must be between {low:g} and {high:g} {unit}, not {number:g}")
    return number


def _check_step(where: str, kind: Any, target: Any, duration: Any, rate: Any,
                until: Condition | None = None, end: Any = None) -> None:
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind must be {' or '.join(KINDS)}, not {kind!r}")
    check_range(where, "target", target, *TARGET_RANGE, "°C")
    if kind == HOLD and rate is not None:
        raise ConfigError(f"{where}: rate is for a ramp; a hold needs a duration")
    if until is not None and kind != HOLD:
        raise ConfigError(f"{where}: until (a gravity condition) is for a hold step, not a {kind}")
    if end is not None and (until is None or duration is None or end not in ENDS):
        raise ConfigError(f"{where}: end is \"first\" or \"both\", for a hold with a duration and until")
    if until is not None and duration is None:
        return  # a hold that ends on gravity only
    if (duration is None) == (rate is None):
        wanted = "a duration" if kind == HOLD else "either a duration or a rate"
        raise ConfigError(f"{where}: a {kind} needs {wanted}" + ("" if duration is None else ", not both"))
    if duration is not None:
        number = check_number(where, "duration", duration)
        if not 0 < number <= MAX_STEP_DURATION:
            raise ConfigError(f"{where}: duration must be more than 0 and at most {MAX_STEP_DURATION:g} s "
                              f"(365 days), not {number:g}")
    if rate is not None:
        check_range(where, "rate", rate, *RATE_RANGE, "°C per day")


@dataclass(frozen=True, slots=True)
class Step:
    """One step: ``hold`` ``target`` °C for ``duration`` s, or ``ramp`` linearly to it over a duration or at a rate."""

    kind: str
    target: float
    duration: float | None = None  # seconds
    rate: float | None = None  # °C per day, a ramp only, instead of a duration
    until: Condition | None = None  # a hold may also end on gravity
    end: str | None = None  # with until and a duration: "first" (the default) or "both"

    def __post_init__(self) -> None:
        _check_step("step", self.kind, self.target, self.duration, self.rate, self.until, self.end)

    @property
    def open(self) -> bool:
        """Ends on gravity, not at a time the schedule knows (no duration, or "both")."""
        return self.until is not None and (self.duration is None or self.end == "both")

    def duration_from(self, start_target: float) -> float:
        """Seconds this step lasts when the target before it is ``start_target``."""
        if self.open:
            return OPEN_DURATION
        if self.duration is not None:
            return self.duration
        return abs(self.target - start_target) / self.rate * DAY

    def as_dict(self) -> dict[str, Any]:
        length = {"duration": self.duration} if self.duration is not None else \
            {"rate": self.rate} if self.rate is not None else {}
        gravity = {} if self.until is None else {"until": self.until.as_dict(), **({"end": self.end} if self.end else {})}
        return {"kind": self.kind, "target": self.target, **length, **gravity}


def parse_step(raw: Any, index: int = 0) -> Step:
    """A step from a plain dict as a client sends it; ConfigError names ``steps[index]`` and the field."""
    where = f"steps[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be an object with kind, target and duration or rate, not {raw!r}")
    unknown = sorted(str(key) for key in set(raw) - STEP_FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown field {unknown[0]!r}")
    for name in ("kind", "target"):
        if name not in raw:
            raise ConfigError(f"{where}: {name} is missing")
    kind, target, duration, rate = raw["kind"], raw["target"], raw.get("duration"), raw.get("rate")
    until = None if raw.get("until") is None else parse_condition(raw["until"], where)
    end = raw.get("end")
    _check_step(where, kind, target, duration, rate, until, end)
    return Step(kind, float(target) + 0.0, None if duration is None else float(duration), None if rate is None else float(rate),
                until, end)


def parse_steps(raw: Any) -> tuple[Step, ...]:
    """Steps from a list of plain dicts; ConfigError says which step and field is wrong."""
    if not isinstance(raw, (list, tuple)):
        raise ConfigError(f"steps must be a list, not {raw!r}")
    steps = tuple(parse_step(item, index) for index, item in enumerate(raw))
    check_count(steps)
    return steps


def check_count(steps: Sequence[Step]) -> None:
    if not 1 <= len(steps) <= MAX_STEPS:
        raise ConfigError(f"a profile needs between 1 and {MAX_STEPS} steps, not {len(steps)}")


class Segment(NamedTuple):
    start: float  # elapsed seconds at which the step starts
    duration: float
    begin: float  # the target when the step starts (the one before it)
    end: float  # the step's own target

    def target_at(self, elapsed: float, kind: str) -> float:
        if kind == HOLD or self.duration <= 0:
            return self.end
        value = self.begin + (self.end - self.begin) * (elapsed - self.start) / self.duration
        return min(max(value, min(self.begin, self.end)), max(self.begin, self.end))


def schedule(steps: Sequence[Step], start_target: float) -> tuple[Segment, ...]:
    segments, start, before = [], 0.0, start_target
    for step in steps:
        duration = step.duration_from(before)
        segments.append(Segment(start, duration, before, step.target))
        start, before = start + duration, step.target
    return tuple(segments)
