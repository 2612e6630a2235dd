"""Gravity from the hydrometers to the chambers' profiles, and the simulated iSpindels.

A hydrometer assigned to a chamber (``[hydrometer.NAME] chamber = …``) feeds every gravity it
reports to that chamber's profile on the monitor thread, where a step's gravity condition is
checked at each tick (control/gravity_conditions.py). At start the last two weeks of stored gravity are
fed first, so a "stable for 48 h" watch survives a restart. Under simulation each chamber has
an iSpindel of its own, reporting the simulated beer's gravity every 15 simulated minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tornado.ioloop import PeriodicCallback

from beerpi.base.errors import BeerPiError, Closed
from beerpi.control.chamber import Chamber
from beerpi.control.chamber_profile import GRAVITY_KEPT
from beerpi.hydrometers.config import HydrometerSpec
from beerpi.hydrometers.ispindel import HydrometerError, HydrometerReading, series_id
from beerpi.hydrometers.registry import Hydrometers
from beerpi.monitor.loop import Monitor
from beerpi.repository import Repository
from beerpi.sim.chamber import SimulatedChamber

log = logging.getLogger("beerpi.gravity_feed")  # the log name users filter on (README, Layout)

SIM_HYDROMETER_EVERY_S = 15 * 60.0  # simulated seconds between two readings of a simulated iSpindel


def sim_hydrometer_name(chamber_id: str) -> str:
    return f"sim-ispindel-{chamber_id}"[:64]


def preload(store: Repository, specs: Sequence[HydrometerSpec], chambers: Sequence[Chamber], now: float) -> None:
    """Feed the stored gravity of the last weeks to the chambers' profiles (blocking: off the IOLoop)."""
    by_id = {chamber.id: chamber for chamber in chambers}
    for spec in specs:
        chamber = by_id.get(spec.chamber or "")
        if chamber is None:
            continue
        try:
            readings = store.readings_between(now - GRAVITY_KEPT, now + 1, series_id(spec.name, "gravity"))
        except BeerPiError as exc:
            log.warning("cannot read the stored gravity of %s (%s): its watch starts again", spec.name, exc)
            continue
        for reading in readings:
            chamber.profile.observe_gravity(reading.ts, reading.temperature)  # the series' value


def feed_profiles(hydrometers: Hydrometers, monitor: Monitor) -> None:
    """Every gravity reported by a hydrometer in a chamber goes to that chamber's profile."""
    def feed(reading: HydrometerReading, frame: str) -> None:
        spec = hydrometers.specs.get(reading.name)
        if spec is None or spec.chamber is None or reading.gravity is None:
            return
        try:
            monitor.submit_gravity(spec.chamber, reading.gravity)
        except Closed:
            pass  # shutting down
    hydrometers.listeners.append(feed)


class SimulatedHydrometers:
    """An iSpindel per simulated chamber (unless the chamber file gives it one), reporting through
    the same door as a real one (IOLoop)."""

    def __init__(self, hydrometers: Hydrometers, chambers: Sequence[tuple[str, SimulatedChamber]],
                 speed: float) -> None:
        self.hydrometers = hydrometers
        assigned = {spec.chamber for spec in hydrometers.specs.values()}
        self.chambers = [(chamber_id, sim) for chamber_id, sim in chambers if chamber_id not in assigned]
        for chamber_id, _ in self.chambers:
            name = sim_hydrometer_name(chamber_id)
            hydrometers.specs.setdefault(name, HydrometerSpec(name, chamber_id))
        self._timer = PeriodicCallback(self.report, SIM_HYDROMETER_EVERY_S / max(speed, 1e-3) * 1000)

    def start(self) -> None:
        self.report()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def report(self) -> None:
        for chamber_id, simulated in self.chambers:
            gravity = simulated.gravity()
            if gravity is None:
                continue
            state = simulated.state()
            body = {"name": sim_hydrometer_name(chamber_id), "gravity": round(gravity, 4),
                    "angle": round(25.0 + (gravity - 1.0) * 800.0, 2), "temperature": round(state.wort_c, 3),
                    "temp_units": "C", "battery": 4.1, "interval": SIM_HYDROMETER_EVERY_S, "RSSI": -60}
            try:
                self.hydrometers.accept(body, "simulation", authorised=True)
            except HydrometerError as exc:
                log.error("simulated hydrometer: %s", exc)

