"""The physics of a simulated fermentation chamber: two thermal masses in a room, a heater,
a cooler and the heat of fermentation. Pure: no clock, no threads, no I/O.

The chamber AIR (the air and the fridge's inner walls, ``air_j_per_k``) and the WORT
(``volume_l`` × 4186 J/K) exchange heat through the fermenter's wall (``wort_air_w_per_k``);
the air exchanges heat with the ROOM through the insulation (``insulation_w_per_k``)::

    C_air  dT_air/dt  = k_wa (T_wort − T_air) + k_ins (T_room(t) − T_air) + P_heat→air − P_cool
    C_wort dT_wort/dt = k_wa (T_air − T_wort) + P_heat→wort + P_fermentation(t)

The outputs are held constant within one ``advance`` (they switch between calls). The room
and the fermentation change over hours and the fastest time constant is the air's (~20 min
with the defaults), so classical Runge-Kutta steps of at most ``MAX_STEP_S`` (and at most a
20th of that time constant, whatever the parameters) keep the error far below a DS18B20
step however long the interval asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from beerpi.sim.fermenter import WATER_HEAT_CAPACITY

HOUR_S = 3600.0
DAY_S = 24 * HOUR_S
MAX_STEP_S = 10.0  # longest internal integration step, seconds of simulated time
STEPS_PER_TIME_CONSTANT = 20  # internal steps per fastest time constant, at least
HEAT_TARGETS = ("wort", "air")  # where the heater's heat goes: a heat belt, or a heater in the air
FERMENTATION_W_PER_L = 0.4  # peak heat of fermentation per litre of wort: 8 W for 20 L


@dataclass(frozen=True, slots=True)
class RoomCycle:
    """The room's day and night: a sine of ``swing_c`` either side of ``mean_c``."""

    mean_c: float = 18.0
    swing_c: float = 3.0  # °C either side of the mean
    period_s: float = DAY_S
    # Simulated time of a maximum. Read t = 0 as 09:00: the room starts at its mean and
    # warming, is warmest at 15:00 and coldest at 03:00.
    warmest_s: float = 6 * HOUR_S

    def at(self, t_s: float) -> float:
        """The room temperature in °C at simulated time ``t_s``."""
        return self.mean_c + self.swing_c * math.cos(2 * math.pi * (t_s - self.warmest_s) / self.period_s)


@dataclass(frozen=True, slots=True)
class FermentationHeat:
    """Heat released by the yeast into the wort, in W, against simulated time.

    Nothing until ``lag_s`` after pitching; then, with x the time since the lag ended and
    u = x / rise_s, a gamma-shaped curve P = peak_w · u² · exp(2 (1 − u)). It leaves zero
    with zero slope, peaks at ``peak_w`` ``rise_s`` after the lag (day 2 with the defaults),
    is down to half 1.6 days after the peak and to about 2 % a week after pitching. The heat
    released in all is e²/4 · peak_w · rise_s ≈ 1.85 · peak_w · rise_s: 1.9 MJ with the
    defaults, what fermenting some 3 kg of sugar releases (about 0.59 MJ/kg).
    """

    peak_w: float = 8.0
    lag_s: float = 12 * HOUR_S
    rise_s: float = 36 * HOUR_S  # from the end of the lag to the peak
    pitched_s: float = 0.0  # simulated time of pitching; negative starts mid-fermentation

    @classmethod
    def for_volume(cls, volume_l: float, pitched_s: float = 0.0) -> FermentationHeat:
        """The default curve, its peak scaled to ``volume_l`` litres of wort."""
        return cls(peak_w=FERMENTATION_W_PER_L * volume_l, pitched_s=pitched_s)

    def power(self, t_s: float) -> float:
        """The heat released in W at simulated time ``t_s``."""
        u = (t_s - self.pitched_s - self.lag_s) / self.rise_s
        if u <= 0.0:
            return 0.0
        return self.peak_w * u * u * math.exp(2.0 * (1.0 - u))

    @property
    def total_j(self) -> float:
        """The heat released over the whole fermentation, in J."""
        return math.e ** 2 / 4 * self.peak_w * self.rise_s

    def fraction_done(self, t_s: float) -> float:
        """The share of the fermentation's heat (so of its sugar) released by ``t_s``: 0 to 1.

        The integral of u² e^(2(1−u)) from 0 is e²/4 · (1 − e^(−2u) (2u² + 2u + 1)).
        """
        u = (t_s - self.pitched_s - self.lag_s) / self.rise_s
        if u <= 0.0:
            return 0.0
        return 1.0 - math.exp(-2.0 * u) * (2.0 * u * u + 2.0 * u + 1.0)

    def gravity(self, t_s: float, og: float = 1.050, fg: float = 1.010) -> float:
        """The beer's specific gravity at ``t_s``: from ``og`` to ``fg`` as the sugar is used."""
        return og - (og - fg) * self.fraction_done(t_s)


@dataclass(frozen=True, slots=True)
class ChamberParams:
    """A fridge or chest freezer with a heater and a fermenter in it, in a room."""

    volume_l: float = 20.0
    air_j_per_k: float = 5000.0  # air (~0.4 kJ/K) and the inner walls and shelves
    wort_air_w_per_k: float = 2.5  # a 20 L fermenter's wall, still air
    insulation_w_per_k: float = 2.0  # a fridge's walls and door seal
    heater_w: float = 25.0  # a heat belt
    heater_heats: str = "wort"  # one of HEAT_TARGETS
    cooler_w: float = 80.0  # heat the compressor removes from the air while running
    room: RoomCycle = field(default_factory=RoomCycle)
    fermentation: FermentationHeat | None = field(default_factory=FermentationHeat)

    def __post_init__(self) -> None:
        if self.heater_heats not in HEAT_TARGETS:
            raise ValueError(f"heater_heats must be one of {', '.join(HEAT_TARGETS)}, not {self.heater_heats!r}")
        if not (self.volume_l > 0 and self.air_j_per_k > 0):
            raise ValueError("volume_l and air_j_per_k must be positive")
        if not (self.wort_air_w_per_k >= 0 and self.insulation_w_per_k >= 0):
            raise ValueError("wort_air_w_per_k and insulation_w_per_k must not be negative")
        if not (self.heater_w >= 0 and self.cooler_w >= 0):
            raise ValueError("heater_w and cooler_w must not be negative")

    @property
    def wort_j_per_k(self) -> float:
        return self.volume_l * WATER_HEAT_CAPACITY

    @property
    def fastest_time_constant_s(self) -> float:
        """The shorter of the air's and the wort's time constants, in s (inf if isolated)."""
        air_loss = self.wort_air_w_per_k + self.insulation_w_per_k
        air = self.air_j_per_k / air_loss if air_loss > 0 else math.inf
        wort = self.wort_j_per_k / self.wort_air_w_per_k if self.wort_air_w_per_k > 0 else math.inf
        return min(air, wort)

    def equilibrium(self, heater: bool, cooler: bool, room_c: float | None = None,
                    fermentation_w: float = 0.0) -> tuple[float, float]:
        """(air, wort) in °C where they settle in a room held at ``room_c`` (its mean by default)."""
        room_c = self.room.mean_c if room_c is None else room_c
        heat = self.heater_w if heater else 0.0
        to_wort = fermentation_w + (heat if self.heater_heats == "wort" else 0.0)
        to_air = (heat if self.heater_heats == "air" else 0.0) - (self.cooler_w if cooler else 0.0)
        air = room_c + (to_air + to_wort) / self.insulation_w_per_k
        return air, air + to_wort / self.wort_air_w_per_k


@dataclass(slots=True)
class EnergyLedger:
    """Heat in J that each source has put into the chamber since the start (the cooler's removed)."""

    heater_j: float = 0.0
    cooler_j: float = 0.0
    fermentation_j: float = 0.0
    room_j: float = 0.0  # net, through the insulation

    @property
    def net_j(self) -> float:
        return self.heater_j + self.fermentation_j + self.room_j - self.cooler_j


class ChamberModel:
    """The chamber's state at simulated time ``t_s``, advanced with the outputs held."""

    def __init__(self, params: ChamberParams | None = None, t_s: float = 0.0,
                 air_c: float | None = None, wort_c: float | None = None,
                 max_step_s: float = MAX_STEP_S) -> None:
        self.params = params or ChamberParams()
        self.t_s = t_s
        room_c = self.params.room.at(t_s)
        self.air_c = room_c if air_c is None else air_c
        self.wort_c = room_c if wort_c is None else wort_c
        self.ledger = EnergyLedger()
        self.step_s = min(max_step_s, self.params.fastest_time_constant_s / STEPS_PER_TIME_CONSTANT)

    @property
    def stored_j(self) -> float:
        """Heat held by air and wort, in J above 0 °C."""
        return self.params.air_j_per_k * self.air_c + self.params.wort_j_per_k * self.wort_c

    @property
    def room_c(self) -> float:
        return self.params.room.at(self.t_s)

    @property
    def fermentation_w(self) -> float:
        fermentation = self.params.fermentation
        return fermentation.power(self.t_s) if fermentation is not None else 0.0

    def advance(self, seconds: float, heater: bool, cooler: bool) -> None:
        """Advance by ``seconds`` of simulated time with the outputs held; nothing if not positive."""
        if not seconds > 0:
            return
        p = self.params
        heat = p.heater_w if heater else 0.0
        to_air = (heat if p.heater_heats == "air" else 0.0) - (p.cooler_w if cooler else 0.0)
        to_wort = heat if p.heater_heats == "wort" else 0.0
        steps = math.ceil(seconds / self.step_s)
        h = seconds / steps
        start = self.t_s
        for i in range(steps):
            self._step(start + i * h, h, to_air, to_wort)
        self.t_s = start + seconds
        self.ledger.heater_j += heat * seconds
        self.ledger.cooler_j += (p.cooler_w if cooler else 0.0) * seconds

    def _step(self, t: float, h: float, to_air: float, to_wort: float) -> None:
        """One classical Runge-Kutta step of ``h`` seconds from time ``t``."""
        a, w = self.air_c, self.wort_c
        a1, w1, f1, r1 = self._rates(t, a, w, to_air, to_wort)
        a2, w2, f2, r2 = self._rates(t + h / 2, a + h / 2 * a1, w + h / 2 * w1, to_air, to_wort)
        a3, w3, f3, r3 = self._rates(t + h / 2, a + h / 2 * a2, w + h / 2 * w2, to_air, to_wort)
        a4, w4, f4, r4 = self._rates(t + h, a + h * a3, w + h * w3, to_air, to_wort)
        self.air_c = a + h / 6 * (a1 + 2 * a2 + 2 * a3 + a4)
        self.wort_c = w + h / 6 * (w1 + 2 * w2 + 2 * w3 + w4)
        self.ledger.fermentation_j += h / 6 * (f1 + 2 * f2 + 2 * f3 + f4)
        self.ledger.room_j += h / 6 * (r1 + 2 * r2 + 2 * r3 + r4)

    def _rates(self, t: float, air: float, wort: float, to_air: float, to_wort: float
               ) -> tuple[float, float, float, float]:
        """(dT_air/dt, dT_wort/dt, fermentation W, W in from the room) at time ``t``."""
        p = self.params
        fermentation = p.fermentation.power(t) if p.fermentation is not None else 0.0
        wall = p.wort_air_w_per_k * (wort - air)
        room = p.insulation_w_per_k * (p.room.at(t) - air)
        return ((wall + room + to_air) / p.air_j_per_k,
                (to_wort + fermentation - wall) / p.wort_j_per_k,
                fermentation, room)
