"""The daily summary alert: each chamber's day in a few lines, without I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from beerpi.alerts.rules import Alert
from beerpi.control.chamber import ChamberInfo
from beerpi.control.settings import ControlState
from beerpi.hardware.probe import Reading


@dataclass
class _Day:
    low: float | None = None
    high: float | None = None
    last: float | None = None
    faults: int = 0


@dataclass
class DailySummary:
    """Collects the day; ``due(now)`` says whether the summary time has come (once a day)."""

    chambers: Sequence[ChamberInfo]
    at: dt.time  # local time of day
    _days: dict[str, _Day] = field(default_factory=dict)
    _states: dict[str, ControlState] = field(default_factory=dict)
    _sent_on: dt.date | None = None

    def reading(self, reading: Reading) -> None:
        for chamber in self.chambers:
            if chamber.beer_probe == reading.probe:
                day = self._days.setdefault(chamber.id, _Day())
                value = reading.temperature
                day.low = value if day.low is None else min(day.low, value)
                day.high = value if day.high is None else max(day.high, value)
                day.last = value

    def state(self, state: ControlState) -> None:
        previous = self._states.get(state.chamber)
        if state.fault and (previous is None or previous.fault != state.fault):
            self._days.setdefault(state.chamber, _Day()).faults += 1
        self._states[state.chamber] = state

    def due(self, now: dt.datetime) -> Alert | None:
        """The summary if ``now`` (local) is past today's summary time and none was sent today."""
        if now.time() < self.at or self._sent_on == now.date():
            return None
        first = self._sent_on is None
        self._sent_on = now.date()
        if first and (now - dt.timedelta(minutes=5)).time() > self.at:
            return None  # started after today's time: the first summary is tomorrow's
        lines = [self._line(chamber) for chamber in self.chambers]
        self._days.clear()
        return Alert("summary", "info", "daily summary", "\n".join(lines))

    def _line(self, chamber: ChamberInfo) -> str:
        day, state = self._days.get(chamber.id, _Day()), self._states.get(chamber.id)
        parts = [f"{chamber.name}:"]
        if day.last is None:
            parts.append("no beer reading today")
        else:
            parts.append(f"beer {day.last:.1f} °C (today {day.low:.1f}–{day.high:.1f})")
        if state is not None:
            parts.append(f"target {state.target:.1f} °C, {state.mode}")
            if state.profile and not state.profile.get("finished"):
                parts.append(f"profile step {state.profile.get('step', 0) + 1}")
            if state.fault:
                parts.append(f"FAULT {state.fault}")
        parts.append(f"{day.faults} fault(s) today" if day.faults else "no fault today")
        return " ".join(parts[:1]) + " " + ", ".join(parts[1:])
