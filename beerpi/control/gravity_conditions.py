"""When a profile step may end on gravity (BrewPiLess's "time or gravity"), without I/O.

A hold step may carry ``until``, one condition on the gravity its chamber's hydrometer reports:

* ``{"gravity": 1.012}``: the latest gravity at or below 1.012;
* ``{"attenuation": 75}``: the apparent attenuation ``(OG − SG) / (OG − 1)`` at least 75 %,
  OG given as ``"og"`` or else the highest gravity seen since the profile started;
* ``{"stable": 2, "hours": 48}``: gravity changed by no more than 2 points (0.002) over the
  last 48 hours, with readings that cover those hours, once the fermentation has started
  (gravity ``STARTED_POINTS`` below the highest seen since the profile started): a wort
  in its lag phase is stable too, and must not end the step.

and ``end``: ``"first"`` (the default: the duration or the condition, whichever comes first),
or ``"both"`` (the duration has passed and the condition holds). A hold without a duration
ends on its condition only. Gravity older than ``FRESH`` says nothing: no reading, no end.

A verdict says where the condition stands in words and in figures (``Verdict.figures``, sent to
clients as the profile's ``gravity_progress``); both change with the readings, not every tick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from beerpi.base.errors import ConfigError

ENDS = ("first", "both")
FRESH = 6 * 3600.0  # s: the latest reading must be this recent to end a step
POINT = 0.001  # one gravity point
COVERAGE = 0.9  # share of a stability window the readings must span
STARTED_POINTS = 5  # gravity points below the highest seen: the fermentation has started
GRAVITY_RANGE = (0.98, 1.2)

Points = Sequence[tuple[float, float]]  # (wall time, specific gravity), oldest first


@dataclass(frozen=True, slots=True)
class Condition:
    kind: str  # gravity, attenuation or stable
    value: float  # SG; percent; points
    hours: float | None = None  # stable only
    og: float | None = None  # attenuation only: the original gravity, if known

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {self.kind: self.value}
        if self.hours is not None:
            found["hours"] = self.hours
        if self.og is not None:
            found["og"] = self.og
        return found


def parse_condition(raw: Any, where: str) -> Condition:
    """A step's ``until``; ConfigError saying what to write otherwise."""
    shapes = ('{"gravity": 1.012}, {"attenuation": 75} (with "og": 1.050 if known) or '
              '{"stable": 2, "hours": 48}')
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: until must be one of {shapes}, not {raw!r}")
    kinds = [kind for kind in ("gravity", "attenuation", "stable") if kind in raw]
    if len(kinds) != 1:
        raise ConfigError(f"{where}: until needs exactly one of gravity, attenuation, stable: {shapes}")
    kind = kinds[0]
    allowed = {kind, "hours"} if kind == "stable" else {kind, "og"} if kind == "attenuation" else {kind}
    extra = sorted(set(raw) - allowed)
    if extra:
        raise ConfigError(f"{where}: until has no field {extra[0]!r} with {kind}: {shapes}")
    value = _number(raw[kind], f"{where}: until.{kind}")
    if kind == "gravity" and not GRAVITY_RANGE[0] <= value <= GRAVITY_RANGE[1]:
        raise ConfigError(f"{where}: until.gravity must be a specific gravity such as 1.012, not {value:g}")
    if kind == "attenuation" and not 1 <= value <= 100:
        raise ConfigError(f"{where}: until.attenuation must be a percentage from 1 to 100, not {value:g}")
    if kind == "stable":
        if not 0 < value <= 20:
            raise ConfigError(f"{where}: until.stable must be gravity points (0.001 each), from 0 to 20")
        hours = _number(raw.get("hours"), f"{where}: until.hours (how long gravity must hold still)")
        if not 1 <= hours <= 14 * 24:
            raise ConfigError(f"{where}: until.hours must be from 1 to 336, not {hours:g}")
        return Condition(kind, value, hours)
    og = raw.get("og")
    if og is not None:
        og = _number(og, f"{where}: until.og")
        if not 1.0 < og <= GRAVITY_RANGE[1]:
            raise ConfigError(f"{where}: until.og must be an original gravity such as 1.050, not {og:g}")
    return Condition(kind, value, None, og)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ConfigError(f"{what} must be a number, not {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Verdict:
    met: bool
    text: str  # where it stands, in words (shown on the dashboard)
    # where it stands in figures: met (the condition, whatever the time), latest (SG or None),
    # latest_at; attenuation: og, attenuation; stable: started, stable_since, moved
    # (docs/protocol.md, gravity_progress)
    figures: dict[str, Any] = field(default_factory=dict)


def evaluate(condition: Condition, points: Points, now: float, since: float) -> Verdict:
    """Whether ``condition`` holds at ``now``; ``since`` is when the profile started (for OG)."""
    verdict = _evaluate(condition, points, now, since)
    return Verdict(verdict.met, verdict.text, {**verdict.figures, "met": verdict.met})


def _evaluate(condition: Condition, points: Points, now: float, since: float) -> Verdict:
    recent = [(ts, sg) for ts, sg in points if ts <= now]
    if not recent or now - recent[-1][0] > FRESH:
        return Verdict(False, "waiting for a gravity reading", {"latest": None, "latest_at": None})
    latest_at, latest = recent[-1]
    figures: dict[str, Any] = {"latest": round(latest, 4), "latest_at": round(latest_at, 3)}
    if condition.kind == "gravity":
        return Verdict(latest <= condition.value + 1e-9,
                       f"gravity {latest:.4f}, ends at {condition.value:.4f}", figures)
    seen = [sg for ts, sg in recent if ts >= since]
    if condition.kind == "attenuation":
        og = condition.og or (max(seen) if seen else None)
        if og is None or og <= 1.0:
            return Verdict(False, "waiting for the original gravity", {**figures, "og": None, "attenuation": None})
        attenuation = max(0.0, (og - latest) / (og - 1.0) * 100.0)
        figures.update(og=round(og, 4), attenuation=round(attenuation, 1))
        return Verdict(attenuation >= condition.value - 1e-9,
                       f"attenuation {attenuation:.0f} % of {condition.value:.0f} % (OG {og:.4f})", figures)
    started = bool(seen) and max(seen) - latest >= STARTED_POINTS * POINT - 1e-9
    figures.update(started=started, stable_since=round(stable_since(recent, condition.value), 3) if started else None,
                   moved=None)
    if not started:
        return Verdict(False, f"gravity {latest:.4f}: waiting for the fermentation to start", figures)
    window = condition.hours * 3600.0
    inside = [sg for ts, sg in recent if ts >= now - window]
    covered = recent[0][0] <= now - window * COVERAGE and len(inside) >= 2
    spread = (max(inside) - min(inside)) / POINT if inside else 0.0
    if not covered:
        return Verdict(False, f"gravity {latest:.4f}: watching for {condition.hours:g} h of readings", figures)
    figures["moved"] = round(spread, 1)
    return Verdict(spread <= condition.value + 1e-9,
                   f"gravity {latest:.4f}, moved {spread:.1f} points in {condition.hours:g} h "
                   f"(stable at {condition.value:g})", figures)


def stable_since(points: Points, allowed: float) -> float:
    """When the run of latest readings that stay within ``allowed`` points of each other began."""
    low = high = points[-1][1]
    since = points[-1][0]
    for ts, sg in reversed(points):
        low, high = min(low, sg), max(high, sg)
        if (high - low) / POINT > allowed + 1e-9:
            break
        since = ts
    return since


def step_may_end(condition: Condition, end: str, duration: float | None, step_started_at: float,
                 now: float, points: Points, since: float) -> Verdict:
    """Whether a step with ``until`` ends now on its condition (time alone ends it in the schedule)."""
    verdict = evaluate(condition, points, now, since)
    if end == "both" and duration is not None and now - step_started_at < duration:
        return Verdict(False, verdict.text + " · and the time is not up yet", verdict.figures)
    return verdict
