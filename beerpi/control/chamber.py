"""One fermentation chamber at run time: its probes (by id), its outputs, its thermostat and
its settings. Several chambers are several instances: nothing here knows of the others.

A chamber is driven by the monitor thread (and, to switch off, by the watchdog): it is told
each tick's samples, decides, switches its own outputs and returns its state. It does no
storage and no publishing; the monitor does both for every chamber.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from beerpi.base.errors import BeerPiError, ConfigError
from beerpi.control.chamber_profile import ChamberProfile, Position
from beerpi.control.profile import ProfileRun, Step
from beerpi.control.settings import NO_PROBES, ControlSettings, ControlState
from beerpi.control.thermostat import COOLER, HEATER, ChamberDecision, ChamberLimits, Thermostat
from beerpi.hardware.heater import Heater

log = logging.getLogger("beerpi.chamber")  # the log name users filter on (README, Layout)

MAIN = "main"  # the id of the chamber built from the command-line flags
WAIT_JITTER = 1.0  # s: the end of a wait worked out again each tick moves by less (two clocks' rounding)

Sample = tuple[float | None, str | None]  # (a valid value, or the fault code that replaced it)


@dataclass(frozen=True, slots=True)
class ChamberInfo:
    """What clients are told about a chamber in ``hello``; ``node``: the Pi it is on, as a hub tells it."""

    id: str
    name: str
    beer_probe: str | None
    air_probe: str | None
    outputs: tuple[str, ...]
    node: str | None = None


class Chamber:
    """A control loop: beer (and air) probe in, heater and/or cooler out."""

    def __init__(self, chamber_id: str, name: str, beer_probe: str | None, air_probe: str | None,
                 outputs: Mapping[str, Heater], limits: ChamberLimits, settings: ControlSettings,
                 now: float, wall: float, profile: ChamberProfile | None = None,
                 profile_now: float | None = None) -> None:
        if set(outputs) != set(limits.outputs):
            raise ValueError(f"chamber {chamber_id}: outputs {sorted(outputs)} do not match the limits")
        self.id = chamber_id
        self.name = name
        self.beer_probe = beer_probe  # None only while no probe has been found for it
        self.air_probe = air_probe
        self.outputs = dict(outputs)
        self.limits = limits
        self.settings = settings  # the user's own; a running profile's target overrides its target
        self.profile = profile or ChamberProfile(limits)
        self.thermostat = Thermostat(limits, now, air_probe=air_probe is not None)
        self._activity_since = wall
        self._profile_now = wall if profile_now is None else profile_now  # the profile clock when last asked
        self._position: Position | None = None  # the profile's, at _profile_now (profile_position)
        self.state = self._snapshot(wall, "idle", None, ())

    @property
    def info(self) -> ChamberInfo:
        return ChamberInfo(self.id, self.name, self.beer_probe, self.air_probe, tuple(self.outputs))

    # -- a tick -------------------------------------------------------------------------------

    def observe(self, samples: Mapping[str, Sample]) -> None:
        """Take this tick's samples of every probe (by id); the chamber picks its own."""
        beer, beer_fault = samples.get(self.beer_probe, (None, NO_PROBES)) if self.beer_probe else (None, NO_PROBES)
        air, air_fault = samples.get(self.air_probe, (None, None)) if self.air_probe else (None, None)
        self.thermostat.observe(beer, beer_fault, air, air_fault)

    def trip(self, code: str) -> None:
        """A fault from outside the samples (the watchdog): the beer reading is in doubt."""
        self.thermostat.observe(None, code)

    def decide(self, now: float, wall: float, profile_now: float | None = None) -> tuple[ControlState, str]:
        """Decide, switch the outputs, and return (the new state, why).

        ``profile_now`` is the profile clock (``wall`` unless simulated time runs faster).
        """
        self._profile_now = wall if profile_now is None else profile_now
        decision = self.thermostat.decide(now, self.in_force())
        wanted = {HEATER: decision.heater, COOLER: decision.cooler}
        for kind, output in self.outputs.items():
            if output.is_on != wanted[kind]:
                self._switch(kind, output, wanted[kind], decision.reason, now)
        activity = decision.activity
        if activity != self.state.activity:
            self._activity_since = wall
        state = self._snapshot(wall, activity, decision.waiting_for, decision.cutoffs, decision.waiting_output,
                               self._waiting_until(decision))
        self.state = state
        return state, decision.reason

    def _switch(self, kind: str, output: Heater, on: bool, reason: str, now: float) -> None:
        try:
            output.set(on)
            log.info("chamber %s: %s %s: %s", self.name, kind, "ON" if on else "OFF", reason)
        except BeerPiError as exc:
            log.error("chamber %s: could not switch the %s %s: %s", self.name, kind,
                      "ON" if on else "OFF", exc)
            self.switch_off(now)

    def switch_off(self, now: float) -> None:
        """Every output off, whatever happens; ``now`` (control clock) starts their minimum off times."""
        for kind, output in self.outputs.items():
            try:
                output.off()
            except Exception:
                log.exception("chamber %s: could not switch the %s off: cut its power by hand", self.name, kind)
        self.thermostat.switched_off(now)

    # -- settings -----------------------------------------------------------------------------

    def checked(self, changes: Mapping[str, Any]) -> ControlSettings:
        """The settings with ``changes`` applied; ConfigError (and nothing changed) if invalid here."""
        settings = self.settings.changed(**changes)
        if settings.mode == "cool" and COOLER not in self.outputs:
            raise ConfigError(f"chamber {self.name} has no cooler: its modes are auto, heat (or on) and off")
        if settings.mode in ("heat", "on") and HEATER not in self.outputs:
            raise ConfigError(f"chamber {self.name} has no heater: its modes are auto, cool and off")
        if settings.target >= self.limits.max_beer:
            raise ConfigError(f"target must be below the over-temperature cutoff ({self.limits.max_beer:g} °C)")
        if settings.target <= self.limits.min_beer:
            raise ConfigError(f"target must be above the under-temperature cutoff ({self.limits.min_beer:g} °C)")
        return settings

    def apply(self, settings: ControlSettings) -> None:
        self.settings = settings
        self.thermostat.clear_latches()

    def in_force(self) -> ControlSettings:
        """The settings the thermostat follows: the user's, with a running profile's target."""
        target = self.profile.target_at(self.profile_position())
        return self.settings if target is None else replace(self.settings, target=target)

    def profile_position(self) -> Position | None:
        """Where the profile stands at this tick's profile time: worked out once a tick (again only
        when the run changed), then handed to the target, the view and the gravity check."""
        position = self._position
        if position is None or position.run is not self.profile.run or position.now != self._profile_now:
            self._position = position = self.profile.position(self._profile_now)
        return position

    # -- the profile ----------------------------------------------------------------------------

    def planned_profile(self, action: str, now: float, steps: Sequence[Step] | None = None,
                        at_step: int | None = None,
                        elapsed: float | None = None) -> tuple[ProfileRun | None, ControlSettings]:
        """(the run, the user's settings) after ``action`` at profile time ``now``; ConfigError, nothing changed.

        Pause and stop leave the chamber holding the target the profile had reached: it
        becomes the user's own, so nothing jumps back to a target set before the profile.
        """
        self._profile_now = now
        in_force = self.in_force()
        run = self.profile.planned(action, now, in_force.target, steps, at_step, elapsed)
        holding = action in ("pause", "stop") and self.profile.active
        return run, in_force if holding else self.settings

    def apply_profile(self, run: ProfileRun | None, settings: ControlSettings) -> None:
        """Put a planned profile action in force (after storing it)."""
        self.profile.set_run(run)
        self.apply(settings)

    # -- what clients see ---------------------------------------------------------------------

    @property
    def fault(self) -> str | None:
        """What holds every output of the chamber off: a fault, or cutoffs on all its outputs.

        A heater-only chamber over its temperature limit reports ``overtemp`` here, as before
        chambers; a chamber that can still cool reports it only in ``cutoffs``.
        """
        fault = self.thermostat.fault
        if fault is not None:
            return fault
        held = {HEATER: self.thermostat.heat_cutoff, COOLER: self.thermostat.cool_cutoff}
        cuts = [held[kind] for kind in self.outputs]
        return cuts[0] if all(cuts) else None

    def _waiting_until(self, decision: ChamberDecision) -> float | None:
        """When the wait ends on the profile clock (what clients count down with): the time it
        was first given while the same wait goes on, so a state is not new at every tick."""
        if decision.waiting_left is None:
            return None
        until = self._profile_now + decision.waiting_left
        previous = self.state
        if (previous.waiting_until is not None and previous.waiting_for == decision.waiting_for
                and previous.waiting_output == decision.waiting_output
                and abs(previous.waiting_until - until) < WAIT_JITTER):
            return previous.waiting_until
        return until

    def _snapshot(self, wall: float, activity: str, waiting_for: str | None, cutoffs: tuple[str, ...],
                  waiting_output: str | None = None, waiting_until: float | None = None) -> ControlState:
        heater = self.outputs.get(HEATER)
        cooler = self.outputs.get(COOLER)
        return ControlState(
            ts=wall, heater=heater is not None and heater.is_on, fault=self.fault,
            chamber=self.id, cooler=None if cooler is None else cooler.is_on, activity=activity,
            waiting_for=waiting_for, waiting_output=waiting_output, waiting_until=waiting_until,
            since=self._activity_since, cutoffs=cutoffs,
            profile=self.profile.view_at(self.profile_position()), **self.in_force().as_dict())

    def snapshot(self, wall: float) -> ControlState:
        """The state now, without deciding (after a switch-off from outside the tick)."""
        state = self._snapshot(wall, "idle" if not any(o.is_on for o in self.outputs.values()) else self.state.activity,
                               None, self.state.cutoffs)
        self.state = state
        return state


# -- how a chamber's settings are stored ---------------------------------------------------------
# The main chamber keeps today's top-level keys (mode, target, hysteresis), so a database of an
# earlier BeerPi keeps its settings; every other chamber has one key holding its settings.

def settings_key(chamber_id: str) -> str | None:
    return None if chamber_id == MAIN else f"chamber.{chamber_id}"


def profile_key(chamber_id: str) -> str:
    """The settings key of a chamber's profile run (``run.as_dict()``, or null when none runs)."""
    return "profile" if chamber_id == MAIN else f"profile.{chamber_id}"


def settings_record(chamber_id: str, settings: ControlSettings) -> dict[str, Any]:
    """What ``Repository.save_settings`` is given for a chamber's settings."""
    key = settings_key(chamber_id)
    return settings.as_dict() if key is None else {key: settings.as_dict()}


def stored_settings(stored: Mapping[str, Any], chamber_id: str, default: ControlSettings) -> ControlSettings:
    """A chamber's stored settings over ``default``; a bad stored value is logged and ignored."""
    key = settings_key(chamber_id)
    values = stored if key is None else stored.get(key, {})
    settings = default
    if not isinstance(values, Mapping):
        log.warning("ignoring the stored settings of chamber %s: %r is not a table", chamber_id, values)
        return settings
    for name in ("mode", "target", "hysteresis"):
        if name in values:
            try:
                settings = settings.changed(**{name: values[name]})
            except ConfigError as exc:
                log.warning("ignoring the stored setting %s=%r of chamber %s: %s", name, values[name],
                            chamber_id, exc)
    return settings


def stored_run(stored: Mapping[str, Any], chamber_id: str, limits: ChamberLimits) -> ProfileRun | None:
    """A chamber's stored profile run, or None; a bad one is logged and ignored."""
    raw = stored.get(profile_key(chamber_id))
    if raw is None:
        return None
    try:
        run = ProfileRun.from_dict(raw)
        ChamberProfile(limits, run)  # its targets within this chamber's limits
    except ConfigError as exc:
        log.warning("ignoring the stored profile of chamber %s: %s", chamber_id, exc)
        return None
    return run
