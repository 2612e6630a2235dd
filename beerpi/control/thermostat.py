"""Heat and cool decisions for one chamber: the band, each output's timings, the cutoffs,
runaway protection and probe faults.

Pure, like ``control/settings.py``: no I/O, no threads, no wall clock. A ``Thermostat`` is fed the
control-clock time, the beer temperature (or the fault that replaced it), the air
temperature when the chamber has an air probe, and the settings; it says which output is
on. The rules, each a named limit:

- A fault of the beer or the air probe, or a runaway, switches every output off at once.
- Mode ``off`` switches every output off at once; ``heat`` and ``cool`` (``on`` is the old
  name of ``heat``) run one output by hand, still under every rule below.
- ``auto`` with one output uses the whole band, as a plain thermostat does: on at one edge,
  off at the other. With both, each stops at the target, so they never fight: heat at or
  below target − hysteresis until the target, cool at or above target + hysteresis until it.
- Cutoffs stop one output: heating at or above ``max_beer`` or above ``max_air`` (a probe
  that fell out of the wort must not drive the chamber to 60 °C), cooling at or below
  ``min_beer`` (beer freezes) or below ``min_air``. The beer cutoffs hold until the beer is
  back past the target, the air cutoffs until the air is ``AIR_CUTOFF_MARGIN`` inside.
- Heater and cooler are never on together; after one stops the other waits ``dead_time``.
- Each output keeps its own minimum on and off times; the minimum off time also holds from
  start, so a restart or a crash loop can never short-cycle a compressor. Faults, cutoffs
  and mode ``off`` switch off at once, inside the minimum on time.
- Runaway: an output on for ``runaway_watch`` without moving the beer by
  ``runaway_progress`` in its direction is a fault (the probe is out of the wort, frozen, or
  the output does nothing), as 3D-printer firmware guards its heaters. It holds until the
  user changes a setting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from beerpi.control.faults import AIR_PREFIX
from beerpi.control.settings import NO_READING, RECOVERY_SAMPLES, ControlSettings

HEATER, COOLER = "heater", "cooler"
RUNAWAY = "runaway"
OVERTEMP, UNDERTEMP = "overtemp", "undertemp"
AIR_TOO_HOT, AIR_TOO_COLD = "air_too_hot", "air_too_cold"
AIR_CUTOFF_MARGIN = 2.0  # °C inside an air limit before its cutoff clears
HEAT_MODES = ("heat", "on")
MIN_OFF, DEAD_TIME, OTHER_ON = "min_off", "dead_time", "other_on"
WAITS = (MIN_OFF, DEAD_TIME, OTHER_ON)  # what keeps a wanted output from starting


@dataclass(frozen=True, slots=True)
class OutputTimings:
    """Relay and compressor protection for one output, in seconds of the control clock."""

    min_on: float
    min_off: float


HEATER_TIMINGS = OutputTimings(min_on=60.0, min_off=120.0)
COMPRESSOR_TIMINGS = OutputTimings(min_on=180.0, min_off=300.0)


@dataclass(frozen=True, slots=True)
class ChamberLimits:
    """The safety limits and timings of one chamber; an output without timings is absent."""

    heater: OutputTimings | None = HEATER_TIMINGS
    cooler: OutputTimings | None = None
    max_beer: float = 30.0
    min_beer: float = -1.0
    max_air: float | None = 35.0  # only with an air probe
    min_air: float | None = -5.0
    dead_time: float = 600.0
    # 20 L warmed by a 25 W belt near its limit still gains two DS18B20 steps (0.125 °C) in
    # well under 55 min; a probe lying on the bench gains nothing, and trips within the hour.
    runaway_watch: float = 55 * 60.0  # 0 disables
    runaway_progress: float = 0.125

    def __post_init__(self) -> None:
        if self.heater is None and self.cooler is None:
            raise ValueError("a chamber needs a heater or a cooler")

    def timings(self, output: str) -> OutputTimings:
        timings = self.heater if output == HEATER else self.cooler
        assert timings is not None
        return timings

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(name for name, timings in ((HEATER, self.heater), (COOLER, self.cooler)) if timings)


@dataclass(frozen=True, slots=True)
class ChamberDecision:
    """What the chamber does now. ``fault`` switches every output off; ``cutoffs`` hold one off.

    ``activity`` is ``heating``, ``cooling``, ``waiting`` (an output is wanted but a minimum
    time or the dead time holds it: ``waiting_for`` says which, one of WAITS) or ``idle``.
    While waiting, ``waiting_output`` is the output that waits and ``waiting_left`` the seconds
    of the control clock before it may start (None while the other output is still on).
    """

    heater: bool
    cooler: bool
    fault: str | None
    cutoffs: tuple[str, ...]
    activity: str
    reason: str
    waiting_for: str | None = None
    waiting_output: str | None = None
    waiting_left: float | None = None


@dataclass(slots=True)
class _Output:
    on: bool
    since: float  # when it last switched (start counts as a switch off)


@dataclass(slots=True)
class _ProbeView:
    """The latest sample of one probe; a fault clears after RECOVERY_SAMPLES good samples."""

    value: float | None = None
    probe_fault: str | None = None
    streak: int = 0

    def observe(self, value: float | None, fault: str | None) -> None:
        if value is None or fault is not None or not math.isfinite(value):
            self.value = None
            self.probe_fault = fault or self.probe_fault or NO_READING
            self.streak = 0
            return
        self.value = value
        self.streak += 1
        if self.probe_fault is not None and self.streak >= RECOVERY_SAMPLES:
            self.probe_fault = None

    @property
    def fault(self) -> str | None:
        if self.probe_fault is not None:
            return self.probe_fault
        return NO_READING if self.value is None else None


class Thermostat:
    """Decides a chamber's outputs from its probes; remembers only what the rules need."""

    def __init__(self, limits: ChamberLimits, now: float, air_probe: bool = False) -> None:
        self.limits = limits
        self.air_probe = air_probe
        self.outputs = {name: _Output(False, now) for name in limits.outputs}
        self.beer = _ProbeView()
        self.air = _ProbeView()
        self.last_stop: tuple[str, float] | None = None  # (output, when), for the dead time
        self.heat_cutoff: str | None = None
        self.cool_cutoff: str | None = None
        self.runaway = False
        self._watch: tuple[str, float, float] | None = None  # (output, since, beer then)

    # -- what comes in ----------------------------------------------------------------------

    def observe(self, beer: float | None, beer_fault: str | None = None,
                air: float | None = None, air_fault: str | None = None) -> None:
        """One tick's samples: the beer probe, and the air probe if the chamber has one."""
        self.beer.observe(beer, beer_fault)
        if self.air_probe:
            self.air.observe(air, air_fault)

    def clear_latches(self) -> None:
        """A user changed the settings: forget a runaway that tripped (a watch under way goes on)."""
        if self.runaway:
            self.runaway = False
            self._watch = None

    def switched_off(self, now: float) -> None:
        """Every output was switched off from outside a decision (a failure, the watchdog, a stop):
        its minimum off time and the dead time count from ``now``."""
        for output, state in self.outputs.items():
            if state.on:
                self._switch(output, False, now)

    def is_on(self, output: str) -> bool:
        state = self.outputs.get(output)
        return state is not None and state.on

    @property
    def fault(self) -> str | None:
        """What switches every output off, or None."""
        if self.beer.fault is not None:
            return self.beer.fault
        if self.air_probe and self.air.fault is not None:
            return AIR_PREFIX + self.air.fault  # e.g. air_probe_missing
        if self.runaway:
            return RUNAWAY
        return None

    # -- the decision -------------------------------------------------------------------------

    def decide(self, now: float, settings: ControlSettings) -> ChamberDecision:
        """Return (and adopt) the outputs' states for time ``now``."""
        self._update_cutoffs(settings)
        self._update_runaway(now)
        cutoffs = tuple(c for c in (self.heat_cutoff, self.cool_cutoff) if c)
        fault = self.fault
        if fault is not None:
            return self._all_off(now, fault, cutoffs, f"fault: {fault}")
        if settings.mode == "off":
            return self._all_off(now, None, cutoffs, "manual off")
        heat, cool, reason = self._wanted(settings)
        if self.heat_cutoff:
            heat, reason = False, f"heating stopped: {self.heat_cutoff}"
        if self.cool_cutoff:
            cool, reason = False, f"cooling stopped: {self.cool_cutoff}"
        forced_off = {HEATER: bool(self.heat_cutoff), COOLER: bool(self.cool_cutoff)}
        held: list[str] = []
        waiting_for: str | None = None
        waiting_output: str | None = None
        waiting_left: float | None = None
        # Switch off first, so that the dead time of the other output starts from now.
        for output, wanted in ((HEATER, heat), (COOLER, cool)):
            if output in self.outputs and not wanted and self.outputs[output].on:
                hold = None if forced_off[output] else self._min_on_hold(output, now)
                if hold:
                    held.append(hold)
                else:
                    self._switch(output, False, now)
        for output, wanted in ((HEATER, heat), (COOLER, cool)):
            if output in self.outputs and wanted and not self.outputs[output].on:
                start_hold = self._start_hold(output, now)
                if start_hold:
                    waiting_for, words, waiting_left = start_hold
                    waiting_output = output
                    held.append(words)
                else:
                    self._switch(output, True, now)
        heater, cooler = self.is_on(HEATER), self.is_on(COOLER)
        activity = "heating" if heater else "cooling" if cooler else "waiting" if waiting_for else "idle"
        if held:
            reason = f"{reason} ({'; '.join(held)})"
        if activity != "waiting":
            waiting_for = waiting_output = waiting_left = None
        return ChamberDecision(heater, cooler, None, cutoffs, activity, reason, waiting_for, waiting_output,
                               waiting_left)

    def _wanted(self, settings: ControlSettings) -> tuple[bool, bool, str]:
        """(heat, cool, why) from the mode and the band; ``is_on`` keeps the state inside it."""
        if settings.mode in HEAT_MODES:
            return True, False, "manual heat"
        if settings.mode == "cool":
            return False, True, "manual cool"
        beer, target, band = self.beer.value, settings.target, settings.hysteresis
        assert beer is not None  # no fault, so a valid sample
        both = len(self.outputs) == 2
        heat_off_at = target if both else target + band
        cool_off_at = target if both else target - band
        heat = self.is_on(HEATER)
        if HEATER in self.outputs:
            if beer <= target - band:
                heat = True
            elif beer >= heat_off_at:
                heat = False
        cool = self.is_on(COOLER)
        if COOLER in self.outputs:
            if beer >= target + band:
                cool = True
            elif beer <= cool_off_at:
                cool = False
        if heat and cool:  # cannot happen with a positive band; never both, whatever happens
            heat = cool = False
        what = "heat" if heat else "cool" if cool else "rest"
        return heat, cool, f"{beer:.2f} °C, target {target:.2f} ± {band:.2f} °C: {what}"

    def _min_on_hold(self, output: str, now: float) -> str | None:
        elapsed = now - self.outputs[output].since
        min_on = self.limits.timings(output).min_on
        if elapsed < min_on:
            return f"{output} minimum on-time: {min_on - elapsed:.0f} s left"
        return None

    def _start_hold(self, output: str, now: float) -> tuple[str, str, float | None] | None:
        """Why ``output`` may not start now, as (one of WAITS, words, seconds left or None), or None."""
        state = self.outputs[output]
        min_off = self.limits.timings(output).min_off
        if now - state.since < min_off:
            left = min_off - (now - state.since)
            return MIN_OFF, f"{output} minimum off-time: {left:.0f} s left", left
        other = COOLER if output == HEATER else HEATER
        if self.is_on(other):
            return OTHER_ON, f"{other} still on", None
        if self.last_stop is not None and self.last_stop[0] == other:
            left = self.limits.dead_time - (now - self.last_stop[1])
            if left > 0:
                return DEAD_TIME, f"dead time after the {other}: {left:.0f} s left", left
        return None

    def _all_off(self, now: float, fault: str | None, cutoffs: tuple[str, ...], reason: str) -> ChamberDecision:
        for output, state in self.outputs.items():
            if state.on:
                self._switch(output, False, now)
        return ChamberDecision(False, False, fault, cutoffs, "idle", reason)

    def _switch(self, output: str, on: bool, now: float) -> None:
        state = self.outputs[output]
        state.on, state.since = on, now
        if not on:
            self.last_stop = (output, now)

    # -- latches ------------------------------------------------------------------------------

    def _update_cutoffs(self, settings: ControlSettings) -> None:
        beer, air, limits = self.beer.value, self.air.value, self.limits
        if beer is not None:
            if beer >= limits.max_beer:
                self.heat_cutoff = OVERTEMP
            elif self.heat_cutoff == OVERTEMP and beer < settings.target:
                self.heat_cutoff = None
            if beer <= limits.min_beer:
                self.cool_cutoff = UNDERTEMP
            elif self.cool_cutoff == UNDERTEMP and beer > settings.target:
                self.cool_cutoff = None
        if air is not None:
            if limits.max_air is not None and self.heat_cutoff is None and air > limits.max_air:
                self.heat_cutoff = AIR_TOO_HOT
            elif self.heat_cutoff == AIR_TOO_HOT and air <= limits.max_air - AIR_CUTOFF_MARGIN:
                self.heat_cutoff = None
            if limits.min_air is not None and self.cool_cutoff is None and air < limits.min_air:
                self.cool_cutoff = AIR_TOO_COLD
            elif self.cool_cutoff == AIR_TOO_COLD and air >= limits.min_air + AIR_CUTOFF_MARGIN:
                self.cool_cutoff = None

    def _update_runaway(self, now: float) -> None:
        """Trip when the running output has not moved the beer its way within the watch period."""
        running = next((name for name, state in self.outputs.items() if state.on), None)
        beer = self.beer.value
        if running is None or beer is None or self.limits.runaway_watch <= 0:
            self._watch = None
            return
        if self._watch is None or self._watch[0] != running:
            self._watch = (running, now, beer)
            return
        _, since, reference = self._watch
        progress = beer - reference if running == HEATER else reference - beer
        if progress >= self.limits.runaway_progress:
            self._watch = (running, now, beer)
        elif now - since >= self.limits.runaway_watch:
            self.runaway = True
