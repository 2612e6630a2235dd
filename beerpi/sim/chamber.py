"""A simulated fermentation chamber behind the Probe and Heater interfaces.

``SimulatedChamber`` holds the physics of ``sim_physics.ChamberModel``, a clock, the state of
its two outputs and its own switch log. It advances lazily: every probe read and every
switch first brings the model up to the clock's time, under one lock, so probes read and
outputs switched from different threads see one consistent chamber. Its probes
(``probe()``) are DS18B20-like: small noise, 1/16 °C steps, a ``fault`` hook. Its outputs
(``output()``) are ``Heater``s, a cooler relay being the same kind of switch.

The switch log is the hardware's own record, kept apart from what the server believes: a
soak test checks the safety rules (never both on, minimum times, dead time) against it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from beerpi.base.errors import ProbeError
from beerpi.control.thermostat import COOLER, HEATER
from beerpi.hardware.heater import Heater
from beerpi.sim.fault_plans import HUNG, hang
from beerpi.sim.fermenter import QuantisedProbe, SimClock
from beerpi.sim.physics import ChamberModel, ChamberParams, FermentationHeat, RoomCycle

if TYPE_CHECKING:
    from beerpi.sim.soak_hooks import SoakHooks

MEASURES = ("beer", "air", "room")  # what a probe can measure: the wort, the chamber air, the room
OUTPUTS = (HEATER, COOLER)
PROBE_NOISE_C = 0.02  # standard deviation of a probe's noise, °C (a few DS18B20 steps at most)


@dataclass(frozen=True, slots=True)
class SwitchEvent:
    """One change of one output: the clock's (simulated) time, the wall's, which, and to what."""

    sim_s: float
    wall_s: float  # Unix seconds, as the server stamps its records
    output: str
    on: bool


@dataclass(frozen=True, slots=True)
class ChamberState:
    """A snapshot of the true temperatures, the heat of fermentation and the outputs."""

    sim_s: float
    air_c: float
    wort_c: float
    room_c: float
    fermentation_w: float
    heater: bool
    cooler: bool


class SimulatedChamber:
    """A chamber model on a clock, with its outputs, its switch log and a seeded noise source.

    Simulated time is the clock's time; the model starts at the clock's reading when the
    chamber is built. Both outputs start OFF; only changes are logged.
    """

    def __init__(self, model: ChamberModel | None = None, clock: Callable[[], float] | None = None,
                 seed: int | None = None, wall: Callable[[], float] = time.time) -> None:
        self.model = model or ChamberModel()
        self.clock = clock or SimClock()
        self.random = random.Random(seed)
        self._wall = wall
        self._lock = threading.Lock()
        self._on = dict.fromkeys(OUTPUTS, False)
        self._log: list[SwitchEvent] = []
        self._both_on_ever = False
        self._outputs: dict[str, SimulatedOutput] = {}
        self._offset = self.clock() - self.model.t_s  # clock time minus model time
        self.label = ""  # the chamber's id in the soak trace
        self.hooks: SoakHooks | None = None  # soak testing only: fault plan and trace

    # -- the hardware -------------------------------------------------------------------------

    def probe(self, probe_id: str, name: str, measures: str = "beer",
              noise_c: float = PROBE_NOISE_C) -> ChamberProbe:
        """A new probe on the beer (the wort), the chamber air or the room."""
        return ChamberProbe(self, probe_id, name, measures, noise_c)

    def output(self, kind: str) -> SimulatedOutput:
        """The heater or the cooler relay (the same object for the same kind)."""
        if kind not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, not {kind!r}")
        with self._lock:
            return self._outputs.setdefault(kind, SimulatedOutput(self, kind))

    # -- what the hardware does -------------------------------------------------------------

    def sample(self, measures: str, noise_c: float) -> float:
        """The temperature of ``measures`` now plus the probe's noise, not yet quantised."""
        with self._lock:
            self._advance()
            true_c = {"beer": self.model.wort_c, "air": self.model.air_c,
                      "room": self.model.room_c}[measures]
            return true_c + self.random.gauss(0.0, noise_c)

    def switch(self, output: str, on: bool) -> bool:
        """Switch ``output``; log it and return True if that changed it."""
        with self._lock:
            now = self._advance()
            if self._on[output] == on:
                return False
            self._on[output] = on
            self._log.append(SwitchEvent(now, self._wall(), output, on))
            self._both_on_ever = self._both_on_ever or all(self._on.values())
            if self.hooks is not None:  # under the lock: the trace keeps the switches' order
                self.hooks.trace("switch", chamber=self.label, output=output, on=on, sim=now)
            return True

    def is_on(self, output: str) -> bool:
        return self._on[output]

    def _advance(self) -> float:
        """Bring the model up to the clock (never back); return the clock's time. Lock held."""
        now = self.clock()
        self.model.advance(now - self._offset - self.model.t_s, self._on[HEATER], self._on[COOLER])
        return now

    # -- what a test or a demo looks at -----------------------------------------------------

    def state(self) -> ChamberState:
        """The chamber now, without noise."""
        with self._lock:
            now = self._advance()
            m = self.model
            return ChamberState(now, m.air_c, m.wort_c, m.room_c, m.fermentation_w,
                                self._on[HEATER], self._on[COOLER])

    def gravity(self) -> float | None:
        """The beer's true specific gravity now (None without a fermentation)."""
        with self._lock:
            self._advance()
            fermentation = self.model.params.fermentation
            return None if fermentation is None else fermentation.gravity(self.model.t_s)

    def switch_log(self) -> tuple[SwitchEvent, ...]:
        """Every change of every output so far, oldest first."""
        with self._lock:
            return tuple(self._log)

    @property
    def both_on_ever(self) -> bool:
        """Whether heater and cooler were ever on at the same time."""
        return self._both_on_ever


class ChamberProbe(QuantisedProbe):
    """A DS18B20-like probe in a simulated chamber; set ``fault`` to make reads fail."""

    def __init__(self, chamber: SimulatedChamber, probe_id: str, name: str, measures: str = "beer",
                 noise_c: float = PROBE_NOISE_C) -> None:
        super().__init__(probe_id, name, noise_c)
        if measures not in MEASURES:
            raise ValueError(f"measures must be one of {', '.join(MEASURES)}, not {measures!r}")
        self.chamber = chamber
        self.measures = measures

    def sample(self) -> float:
        return self.chamber.sample(self.measures, self.noise_c)

    def read(self) -> float:
        hooks = self.chamber.hooks
        return super().read() if hooks is None else self._soak_read(hooks)

    def _soak_read(self, hooks: SoakHooks) -> float:
        """A read that follows the soak's fault plan and is written to its trace."""
        chamber, plan = self.chamber, hooks.plan
        sim = chamber.clock()
        heating, cooling = chamber.is_on(HEATER), chamber.is_on(COOLER)
        trace = dict(chamber=chamber.label, probe=self.id, sim=sim, heater=heating, cooler=cooling)
        wall = time.time()
        injected = plan.fault_for(self.id, plan.plan_time(wall), heating, cooling) if plan else None
        if injected is None:
            try:
                value = super().read()
            except ProbeError as exc:
                hooks.trace("read", fault=exc.code, **trace)
                raise
            hooks.trace("read", value=value, **trace)
            return value
        assert plan is not None
        value = plan.value_for(self.id, injected.kind)
        if value is not None:
            hooks.trace("read", value=value, injected=injected.kind, **trace)
            return value
        hooks.trace("read", fault=injected.kind, injected=injected.kind, **trace)
        if injected.kind == HUNG:
            hang(plan.start + injected.until_s / plan.speed, time.time, time.sleep)
        raise plan.error_for(self.id, injected.kind)


class SimulatedOutput(Heater):
    """The heater or the cooler relay of a simulated chamber."""

    def __init__(self, chamber: SimulatedChamber, kind: str) -> None:
        self.chamber = chamber
        self.kind = kind

    def on(self) -> None:
        self.chamber.switch(self.kind, True)

    def off(self) -> None:
        self.chamber.switch(self.kind, False)

    @property
    def is_on(self) -> bool:
        return self.chamber.is_on(self.kind)

    @property
    def switch_count(self) -> int:
        return sum(event.output == self.kind for event in self.chamber.switch_log())

    def __repr__(self) -> str:
        return f"SimulatedOutput({self.kind!r}, on={self.is_on})"


def simulated_chamber(speed: float = 1.0, seed: int | None = None, *, volume_l: float = 20.0,
                      wort_c: float | None = None, room: RoomCycle | None = None,
                      heater_w: float = 25.0, heater_heats: str = "wort", cooler_w: float = 80.0,
                      fermentation: bool | FermentationHeat = True, clock: Callable[[], float] | None = None,
                      wall: Callable[[], float] = time.time) -> SimulatedChamber:
    """A chamber worth watching: a fridge with a heat belt and a fermenting 20 L, in a room of 18 ± 3 °C.

    The wort starts at room temperature (``wort_c`` to start elsewhere) and is pitched at
    the start (``fermentation``: False for none, or a curve of one's own). Holding 18-20 °C
    takes the heater on cool nights and before the yeast wakes, and the cooler through the
    fermentation's peak and on warm afternoons. ``clock`` replaces ``SimClock(speed)``.
    """
    if fermentation is True:
        fermentation = FermentationHeat.for_volume(volume_l)
    params = ChamberParams(volume_l=volume_l, room=room or RoomCycle(), heater_w=heater_w,
                           heater_heats=heater_heats, cooler_w=cooler_w, fermentation=fermentation or None)
    return SimulatedChamber(ChamberModel(params, wort_c=wort_c), clock or SimClock(speed), seed, wall)
