"""When to tell the brewer: conditions from readings, states and storage, without I/O.

Each condition is sent once when it starts and once when it clears, never more: a condition
that comes back within ``repeat_gap`` of its last alert (a flapping probe) is not sent again
until that much time has passed. Everything is driven by the times passed in, so the rules
are tested without waiting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from beerpi.control.chamber import ChamberInfo
from beerpi.control.faults import describe, label, outputs_off
from beerpi.control.settings import NO_READING, ControlState
from beerpi.hardware.probe import Reading

DEFAULT_MARGIN = 1.0  # °C beyond target ± hysteresis
DEFAULT_AFTER = 60 * 60.0  # s outside that band, without getting closer, before an alert
DEFAULT_REPEAT_GAP = 6 * 3600.0  # s before the same condition is sent again
STORAGE_GRACE = 10 * 60.0  # s of failing writes before an alert (a blip is not news)
# What each cutoff holds off, in the dashboard's words (static/js/faults.js).
CUTOFF_HOLDS = {"overtemp": "no heating", "air_too_hot": "no heating", "undertemp": "no cooling",
                "air_too_cold": "no cooling"}
OFF_FOR = 10 * 60.0  # s without readings before the next start says how long BeerPi was off
NODE_SILENT_AFTER = 5 * 60.0  # s a hub's Pi may say nothing (while online) before an alert…
NODE_SILENT_INTERVALS = 10  # …or this many of its sample intervals, if longer


@dataclass(frozen=True)
class Alert:
    """A message: ``key`` names the condition; ``level`` is problem, cleared or info."""

    key: str
    level: str
    title: str
    body: str


@dataclass
class _Condition:
    active: bool = False
    sent: bool = False  # the problem was sent (so its clearing is news)
    last_sent: float | None = None


@dataclass
class _Band:
    since: float  # when the beer left the band (or last got closer / the target changed)
    distance: float  # how far outside it was then


@dataclass
class AlertRules:
    chambers: Sequence[ChamberInfo]
    margin: float = DEFAULT_MARGIN
    after: float = DEFAULT_AFTER
    repeat_gap: float = DEFAULT_REPEAT_GAP
    _conditions: dict[str, _Condition] = field(default_factory=dict)
    _states: dict[str, ControlState] = field(default_factory=dict)
    _bands: dict[str, _Band] = field(default_factory=dict)
    _storage_failing_since: float | None = None

    def started(self, now: float, last_reading: float | None) -> list[Alert]:
        """At start: how long BeerPi was off, if it was (a power cut nobody heard of)."""
        if last_reading is None or now - last_reading < OFF_FOR:
            return []
        return [Alert("restart", "info", "BeerPi is running again",
                      f"No reading was taken for {_duration(now - last_reading)}: BeerPi was off "
                      f"(a power cut, a restart or a crash). Every output was off meanwhile.")]

    def state(self, state: ControlState, now: float) -> list[Alert]:
        """A chamber's new state: faults, cutoffs and the profile's progress."""
        chamber = self._name(state.chamber)
        previous = self._states.get(state.chamber)
        self._states[state.chamber] = state
        alerts: list[Alert] = []
        fault = state.fault if state.fault != NO_READING else None
        off = outputs_off(self._outputs(state.chamber))
        alerts += self._condition(f"fault:{state.chamber}", fault is not None, now,
                                  f"{chamber}: {off}: {label(fault) if fault else ''} ({fault})",
                                  f"{_sentence(describe(fault)) if fault else ''} {chamber} is neither heated nor cooled "
                                  "until it clears.",
                                  f"{chamber}: fault cleared", f"{chamber} is controlled again.")
        for cutoff in sorted(set(state.cutoffs) | set(previous.cutoffs if previous else ())):
            alerts += self._condition(f"cutoff:{state.chamber}:{cutoff}", cutoff in state.cutoffs, now,
                                      f"{chamber}: {label(cutoff)}: {CUTOFF_HOLDS.get(cutoff, 'one output off')}",
                                      f"{chamber} reached a temperature limit ({cutoff}): "
                                      f"{CUTOFF_HOLDS.get(cutoff, 'one output off')} until it is back.",
                                      f"{chamber}: back within its limits ({cutoff} cleared)",
                                      f"{chamber} is back within its limits.")
        alerts += self._profile(chamber, previous, state)
        if previous is None or previous.target != state.target or state.mode == "off":
            self._bands.pop(state.chamber, None)  # a new target starts a new wait
        return alerts

    def reading(self, reading: Reading) -> list[Alert]:
        """A reading of a chamber's beer probe: the beer outside its band for too long."""
        for chamber in self.chambers:
            if chamber.beer_probe == reading.probe and chamber.id in self._states:
                return self._band(chamber, self._states[chamber.id], reading)
        return []

    def storage(self, status: Mapping[str, Any], now: float) -> list[Alert]:
        """The storage status: failing for longer than ``STORAGE_GRACE``."""
        failing = not status.get("ok", True) or bool(status.get("error"))
        if not failing:
            self._storage_failing_since = None
        elif self._storage_failing_since is None:
            self._storage_failing_since = now
        long_failing = failing and now - self._storage_failing_since >= STORAGE_GRACE
        reason = status.get("error") or f"{status.get('backlog', 0)} readings wait to be stored"
        return self._condition("storage", long_failing, now, "BeerPi cannot store readings",
                               f"{reason}. Control carries on; readings wait in the spool.",
                               "BeerPi stores readings again", "The backlog is being written.")

    def node(self, node: str, online: bool | None, last_heard: float | None, interval: float,
             now: float) -> list[Alert]:
        """A hub's Pi: offline (the broker published its last will), or online but silent too long."""
        silent_after = max(NODE_SILENT_AFTER, NODE_SILENT_INTERVALS * interval)
        silent = online is True and last_heard is not None and now - last_heard >= silent_after
        return self._condition(
            f"node:{node}:offline", online is False, now, f"Pi {node} is offline",
            f"The broker lost the Pi {node}: its power, its network, or BeerPi on it stopped. If it still runs, "
            "it keeps controlling its chambers and sends the hub what it stored meanwhile when it is back.",
            f"Pi {node} is back online", "The hub is catching up on what it missed.",
        ) + self._condition(
            f"node:{node}:silent", silent, now, f"Pi {node} stopped sending",
            f"The hub has heard nothing from the Pi {node} for {_duration(now - (last_heard or now))}, though the "
            "broker says it is connected: BeerPi on it may be stuck. Check its page or its log.",
            f"Pi {node} is sending again", "The hub hears from it again.")

    # -- the pieces ---------------------------------------------------------------------

    def _band(self, chamber: ChamberInfo, state: ControlState, reading: Reading) -> list[Alert]:
        now = reading.ts
        distance = abs(reading.temperature - state.target) - state.hysteresis - self.margin
        outside = distance > 0 and state.mode != "off" and state.fault is None
        band = self._bands.get(chamber.id)
        if not outside:
            self._bands.pop(chamber.id, None)
        elif band is None or distance <= band.distance - self.margin / 2:
            self._bands[chamber.id] = _Band(now, distance)  # just left the band, or getting closer
        band = self._bands.get(chamber.id)
        too_long = band is not None and now - band.since >= self.after
        key = f"band:{chamber.id}"
        already = key in self._conditions and self._conditions[key].active  # stays until back in the band
        name = chamber.name
        return self._condition(
            key, outside and (already or too_long), now,
            f"{name}: beer at {reading.temperature:.1f} °C",
            f"The beer has been more than {self.margin:g} °C outside {state.target:.1f} ± {state.hysteresis:g} °C "
            f"for {_duration(self.after)} without getting closer. Check the heater, the cooler and the probe.",
            f"{name}: beer back near its target", f"The beer is at {reading.temperature:.1f} °C, target "
                                                  f"{state.target:.1f} °C.")

    def _profile(self, chamber: str, previous: ControlState | None, state: ControlState) -> list[Alert]:
        old, new = (previous.profile if previous else None) or {}, state.profile or {}
        if not new or not previous:
            return []
        if new.get("finished") and not old.get("finished"):
            return [Alert(f"profile:{state.chamber}", "info", f"{chamber}: profile finished",
                          f"The last step is done; {chamber} holds {state.target:.1f} °C.")]
        if old and new.get("step") != old.get("step") and not new.get("finished"):
            return [Alert(f"profile:{state.chamber}", "info",
                          f"{chamber}: profile step {new.get('step', 0) + 1} ({new.get('kind')})",
                          f"Target {state.target:.1f} °C.")]
        return []

    def _condition(self, key: str, active: bool, now: float, title: str, body: str,
                   cleared_title: str, cleared_body: str) -> list[Alert]:
        condition = self._conditions.setdefault(key, _Condition())
        if active == condition.active:
            return []
        condition.active = active
        if active:
            if condition.last_sent is not None and now - condition.last_sent < self.repeat_gap:
                condition.sent = False  # flapping: not again so soon (and so no clearing either)
                return []
            condition.sent, condition.last_sent = True, now
            return [Alert(key, "problem", title, body.strip())]
        if condition.sent:
            condition.sent = False
            return [Alert(key, "cleared", cleared_title, cleared_body)]
        return []

    def _name(self, chamber_id: str) -> str:
        return next((chamber.name for chamber in self.chambers if chamber.id == chamber_id), chamber_id)

    def _outputs(self, chamber_id: str) -> tuple[str, ...]:
        return next((chamber.outputs for chamber in self.chambers if chamber.id == chamber_id), ())


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _duration(seconds: float) -> str:
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"
