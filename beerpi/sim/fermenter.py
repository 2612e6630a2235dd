"""Simulated hardware: a fermenter thermal model behind the Probe and Heater interfaces.

The model is a single thermal mass (the wort) losing heat to the ambient air in
proportion to the temperature difference (Newton's law of cooling), warmed by a heater of
fixed power. Simulated time runs ``speed`` times faster than wall time, so a day of
fermentation can be watched in minutes.
"""

from __future__ import annotations

import math
import random
import threading
import time
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from beerpi.base.errors import ProbeError
from beerpi.hardware.heater import Heater
from beerpi.hardware.probe import Probe

WATER_HEAT_CAPACITY = 4186.0  # J/(kg·K); wort is close enough to water
DS18B20_STEP = 1 / 16  # °C per count at 12-bit resolution


class SimClock:
    """Seconds of simulated time, advancing ``speed`` times faster than wall time."""

    def __init__(self, speed: float = 1.0, wall: Callable[[], float] = time.monotonic) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._wall = wall
        self._wall_start = wall()

    def __call__(self) -> float:
        return (self._wall() - self._wall_start) * self.speed


@dataclass
class ThermalModel:
    """A wort volume that exchanges heat with the ambient air and a heater."""

    volume_l: float = 20.0
    ambient_c: float = 16.0
    heater_w: float = 25.0
    loss_w_per_k: float = 2.0
    temperature_c: float | None = None

    def __post_init__(self) -> None:
        if self.temperature_c is None:
            self.temperature_c = self.ambient_c

    @property
    def heat_capacity(self) -> float:
        return self.volume_l * WATER_HEAT_CAPACITY

    def equilibrium(self, heater_on: bool) -> float:
        return self.ambient_c + (self.heater_w / self.loss_w_per_k if heater_on else 0.0)

    def advance(self, seconds: float, heater_on: bool) -> float:
        """Advance by ``seconds`` with the heater fixed; exact for any step length."""
        target = self.equilibrium(heater_on)
        decay = math.exp(-self.loss_w_per_k * max(seconds, 0.0) / self.heat_capacity)
        self.temperature_c = target + (self.temperature_c - target) * decay
        return self.temperature_c


class SimulatedFermenter:
    """The model, its clock and the heater state, safe to use from several threads."""

    def __init__(self, model: ThermalModel | None = None, clock: Callable[[], float] | None = None,
                 seed: int | None = None) -> None:
        self.model = model or ThermalModel()
        self.clock = clock or SimClock()
        self.random = random.Random(seed)
        self._heater_on = False
        self._last = self.clock()
        self._lock = threading.Lock()

    def _advance(self) -> None:
        now = self.clock()
        self.model.advance(now - self._last, self._heater_on)
        self._last = now

    def temperature(self) -> float:
        with self._lock:
            self._advance()
            return self.model.temperature_c

    @property
    def heater_on(self) -> bool:
        return self._heater_on

    def set_heater(self, on: bool) -> None:
        with self._lock:
            self._advance()
            self._heater_on = on


def quantise(value: float, step: float = DS18B20_STEP) -> float:
    return round(value / step) * step


class QuantisedProbe(Probe):
    """A DS18B20-like simulated probe: a noisy sample rounded to 1/16 °C.

    Set ``fault`` to a ProbeError to make every read fail with it, as a real probe would.
    """

    def __init__(self, probe_id: str, name: str, noise_c: float = 0.02) -> None:
        super().__init__(probe_id, name)
        self.noise_c = noise_c
        self.fault: ProbeError | None = None

    @abstractmethod
    def sample(self) -> float:
        """The temperature the probe sees now, noise included, before quantisation."""

    def read(self) -> float:
        if self.fault is not None:
            raise self.fault
        return quantise(self.sample())


class SimulatedProbe(QuantisedProbe):
    """A probe on the simulated wort or ambient air."""

    def __init__(self, fermenter: SimulatedFermenter, probe_id: str, name: str,
                 measures: str = "wort", noise_c: float = 0.02) -> None:
        super().__init__(probe_id, name, noise_c)
        if measures not in ("wort", "ambient"):
            raise ValueError("measures must be 'wort' or 'ambient'")
        self.fermenter = fermenter
        self.measures = measures

    def sample(self) -> float:
        if self.measures == "wort":
            true_value = self.fermenter.temperature()
        else:
            true_value = self.fermenter.model.ambient_c
        return true_value + self.fermenter.random.gauss(0.0, self.noise_c)


class SimulatedHeater(Heater):
    """A heater that warms the simulated wort."""

    def __init__(self, fermenter: SimulatedFermenter) -> None:
        self.fermenter = fermenter
        self.switch_count = 0

    def on(self) -> None:
        if not self.fermenter.heater_on:
            self.switch_count += 1
        self.fermenter.set_heater(True)

    def off(self) -> None:
        if self.fermenter.heater_on:
            self.switch_count += 1
        self.fermenter.set_heater(False)

    @property
    def is_on(self) -> bool:
        return self.fermenter.heater_on


def simulated_hardware(speed: float = 1.0, ambient_c: float = 16.0, volume_l: float = 20.0,
                       heater_w: float = 25.0, seed: int | None = None
                       ) -> tuple[list[SimulatedProbe], SimulatedHeater, SimulatedFermenter]:
    """The standard simulated rig: a wort probe (controls), a chamber probe, a heat belt."""
    model = ThermalModel(volume_l=volume_l, ambient_c=ambient_c, heater_w=heater_w)
    fermenter = SimulatedFermenter(model, SimClock(speed), seed=seed)
    probes = [SimulatedProbe(fermenter, "sim-wort", "wort", "wort"),
              SimulatedProbe(fermenter, "sim-chamber", "chamber", "ambient")]
    return probes, SimulatedHeater(fermenter), fermenter
