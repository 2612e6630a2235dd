"""A chamber's safety invariants, stated once.

``SafetyCheck`` is told what a chamber's outputs did and under what conditions, and returns
the rules that were broken. The property tests run it after every decision of the
thermostat; a soak run can feed it the simulated hardware's own switch log. The rules:

1. heater and cooler are never on together;
2. nothing is on while the chamber has a fault or its beer (or air) probe has no valid
   value, nor in mode ``off``;
3. the heater is never on at or above ``max_beer`` or above ``max_air``; the cooler never
   at or below ``min_beer`` or below ``min_air``;
4. no output starts within its minimum off time of its last stop (start counts as a stop),
   nor within the dead time of the other output's stop;
5. no output stops within its minimum on time, unless a fault, a cutoff or mode ``off``
   stopped it;
6. no output stays on for longer than the runaway watch period without moving the beer its
   way by the runaway progress (with two ``tick``s of grace: the rule is seen at samples).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from beerpi.control.thermostat import COOLER, HEATER, ChamberLimits

TOLERANCE = 1e-9  # seconds and °C: floating-point noise is not a violation


@dataclass(slots=True)
class _Track:
    on: bool = False
    since: float = 0.0
    watch: tuple[float, float] | None = None  # (since, beer then) while on


@dataclass(slots=True)
class SafetyCheck:
    limits: ChamberLimits
    start: float
    tick: float = 0.0  # longest gap between two samples: the runaway rule may trip up to 2 ticks late
    air_probe: bool = False
    beer: float | None = None
    air: float | None = None
    _tracks: dict[str, _Track] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._tracks = {name: _Track(False, self.start) for name in self.limits.outputs}

    def observe(self, beer: float | None, air: float | None = None) -> None:
        """The latest valid temperatures (None: no valid value)."""
        self.beer, self.air = beer, air

    def outputs(self, now: float, heater: bool, cooler: bool, fault: str | None = None,
                mode: str = "auto", cutoffs: tuple[str, ...] = ()) -> list[str]:
        """Record the outputs at ``now``; return a description of every rule they break."""
        states = {HEATER: heater, COOLER: cooler}
        broken: list[str] = []
        if heater and cooler:
            broken.append("heater and cooler on together")
        for name, on in states.items():
            if on and name not in self._tracks:
                broken.append(f"{name} on, but the chamber has none")
        for name, track in self._tracks.items():
            on = states[name]
            if on:
                broken += self._while_on(name, now, fault, mode)
            if on != track.on:
                broken += self._on_switch(name, on, now, fault, mode, cutoffs)
                track.on, track.since = on, now
                track.watch = None  # the watch starts at the first sample with the output on
        return broken

    def _while_on(self, name: str, now: float, fault: str | None, mode: str) -> list[str]:
        limits, beer, air = self.limits, self.beer, self.air
        broken = []
        if fault is not None:
            broken.append(f"{name} on with fault {fault}")
        if beer is None:
            broken.append(f"{name} on without a valid beer temperature")
        if self.air_probe and air is None:
            broken.append(f"{name} on without a valid air temperature")
        if mode == "off":
            broken.append(f"{name} on in mode off")
        if name == HEATER:
            if beer is not None and beer >= limits.max_beer:
                broken.append(f"heater on with the beer at {beer:.3f} °C >= max_beer {limits.max_beer:g}")
            if air is not None and limits.max_air is not None and air > limits.max_air:
                broken.append(f"heater on with the air at {air:.3f} °C > max_air {limits.max_air:g}")
        else:
            if beer is not None and beer <= limits.min_beer:
                broken.append(f"cooler on with the beer at {beer:.3f} °C <= min_beer {limits.min_beer:g}")
            if air is not None and limits.min_air is not None and air < limits.min_air:
                broken.append(f"cooler on with the air at {air:.3f} °C < min_air {limits.min_air:g}")
        broken += self._runaway(name, now)
        return broken

    def _runaway(self, name: str, now: float) -> list[str]:
        track, limits, beer = self._tracks[name], self.limits, self.beer
        if not track.on or limits.runaway_watch <= 0 or beer is None:
            return []
        if track.watch is None:
            track.watch = (now, beer)
            return []
        since, reference = track.watch
        progress = beer - reference if name == HEATER else reference - beer
        if progress >= limits.runaway_progress - TOLERANCE:
            track.watch = (now, beer)
            return []
        if now - since > limits.runaway_watch + 2 * self.tick + TOLERANCE:
            return [f"{name} on for {now - since:.3f} s without moving the beer "
                    f"{limits.runaway_progress:g} °C its way"]
        return []

    def _on_switch(self, name: str, on: bool, now: float, fault: str | None, mode: str,
                   cutoffs: tuple[str, ...]) -> list[str]:
        track, timings = self._tracks[name], self.limits.timings(name)
        elapsed = now - track.since
        if on:
            broken = []
            if elapsed < timings.min_off - TOLERANCE:
                broken.append(f"{name} switched ON after only {elapsed:.3f} s off (min_off {timings.min_off:g})")
            other = self._tracks.get(COOLER if name == HEATER else HEATER)
            if other is not None and not other.on and other.since > self.start:
                waited = now - other.since
                if waited < self.limits.dead_time - TOLERANCE:
                    broken.append(f"{name} switched ON {waited:.3f} s after the other output stopped "
                                  f"(dead time {self.limits.dead_time:g})")
            return broken
        forced = fault is not None or mode == "off" or bool(cutoffs)
        if not forced and elapsed < timings.min_on - TOLERANCE:
            return [f"{name} switched OFF after only {elapsed:.3f} s on (min_on {timings.min_on:g})"]
        return []
