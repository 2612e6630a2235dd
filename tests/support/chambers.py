"""Monitors of one chamber for tests: probes, a heater (and maybe a cooler), no minimum times."""

from __future__ import annotations

from collections.abc import Sequence

from beerpi.control.chamber import MAIN, Chamber
from beerpi.control.settings import ControlSettings
from beerpi.control.thermostat import COOLER, HEATER, ChamberLimits, OutputTimings
from beerpi.hardware.heater import Heater
from beerpi.hardware.probe import Probe
from beerpi.monitor.loop import Monitor

NO_TIMES = OutputTimings(min_on=0.0, min_off=0.0)
HEATER_ONLY = ChamberLimits(heater=NO_TIMES, cooler=None, max_beer=30.0)


def one_chamber(probes: Sequence[Probe], heater: Heater, settings: ControlSettings = ControlSettings(),
                limits: ChamberLimits = HEATER_ONLY, cooler: Heater | None = None, now: float = 0.0,
                beer_probe: str | None = None, air_probe: str | None = None) -> Chamber:
    """The main chamber: the first probe is the beer probe unless ``beer_probe`` says otherwise."""
    outputs = {HEATER: heater} if cooler is None else {HEATER: heater, COOLER: cooler}
    return Chamber(MAIN, "fermenter", beer_probe or probes[0].id, air_probe, outputs, limits, settings,
                   now=now, wall=0.0)


def one_chamber_monitor(probes: Sequence[Probe], heater: Heater, store, publish,
                        settings: ControlSettings = ControlSettings(), limits: ChamberLimits = HEATER_ONLY,
                        control_clock=None, **options) -> Monitor:
    now = control_clock() if control_clock else 0.0
    chamber = one_chamber(probes, heater, settings, limits, now=now)
    if control_clock is not None:
        options["control_clock"] = control_clock
    return Monitor(probes, [chamber], store, publish, **options)
