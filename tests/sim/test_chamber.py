"""The simulated fermentation chamber: its clock, its probes, its outputs and switch log (its physics:
test_physics.py).

No sleeps: every clock here is set by the test.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable

import pytest

from beerpi.base.errors import ProbeError
from beerpi.hardware.heater import Heater
from beerpi.sim.chamber import SimulatedChamber, SwitchEvent, simulated_chamber
from beerpi.sim.fermenter import DS18B20_STEP, SimClock, quantise
from beerpi.sim.physics import (
    DAY_S,
    HOUR_S,
    ChamberModel,
    ChamberParams,
    FermentationHeat,
    RoomCycle,
)
from tests.support.fake_time import FakeTime
from tests.support.still_room import still


def chamber(params: ChamberParams | None = None, clock: Callable[[], float] | None = None,
            **model: float) -> SimulatedChamber:
    return SimulatedChamber(ChamberModel(params or still(), **model), clock or FakeTime(), seed=1,
                            wall=FakeTime(1.7e9))


# --- the chamber on its clock ------------------------------------------------------------

def _scheduled(sim_s: float) -> tuple[bool, bool]:
    """A fixed switching plan in blocks of 70 min (a multiple of both reading intervals below)."""
    block = int(sim_s // 4200.0)
    return block % 9 in (0, 1, 2), block % 11 in (5, 6)


def _run_week(speed: float, wall_step_s: float) -> SimulatedChamber:
    wall = FakeTime()
    sim = simulated_chamber(speed=speed, seed=3, clock=SimClock(speed, wall=wall), wall=wall)
    heater, cooler = sim.output("heater"), sim.output("cooler")
    beer = sim.probe("b", "beer")
    while sim.clock() < 7 * DAY_S:
        beer.read()
        heat, cool = _scheduled(sim.clock())
        heater.set(heat)
        cooler.set(cool)
        wall.advance(wall_step_s)
    return sim


def test_a_week_at_600x_reading_each_second_matches_fine_steps():
    # Given the same switching plan, run at ×600 read every wall second (10 simulated
    # minutes) and at ×1 read every 7 seconds
    fast, slow = _run_week(600.0, 1.0), _run_week(1.0, 7.0)
    # Then the two chambers end where each other is, and switched alike
    a, b = fast.state(), slow.state()
    assert a.sim_s == b.sim_s == 7 * DAY_S
    assert a.wort_c == pytest.approx(b.wort_c, abs=1e-6)
    assert a.air_c == pytest.approx(b.air_c, abs=1e-6)
    assert [(e.sim_s, e.output, e.on) for e in fast.switch_log()] == \
        [(e.sim_s, e.output, e.on) for e in slow.switch_log()]


def test_an_output_acts_from_the_moment_it_switches():
    clock = FakeTime()
    sim = chamber(clock=clock)
    model = ChamberModel(still())
    sim.output("heater").on()
    clock.advance(3600.0)
    sim.output("heater").off()
    sim.output("cooler").on()
    clock.advance(1800.0)
    model.advance(3600.0, True, False)
    model.advance(1800.0, False, True)
    state = sim.state()
    assert (state.wort_c, state.air_c) == (pytest.approx(model.wort_c), pytest.approx(model.air_c))
    assert (state.heater, state.cooler) == (False, True)


def test_simulated_time_starts_when_the_chamber_is_built():
    clock = FakeTime(5000.0)
    sim = chamber(clock=clock)
    clock.advance(60.0)
    state = sim.state()
    assert state.sim_s == 5060.0
    assert sim.model.t_s == 60.0


# --- probes ------------------------------------------------------------------------------

def test_probes_read_their_own_mass_quantised():
    # Given noiseless probes on beer, air and room, and the cooler on for an hour
    clock = FakeTime()
    sim = chamber(ChamberParams(room=RoomCycle(), fermentation=None), clock=clock)
    beer, air, room = (sim.probe(m, m, m, noise_c=0.0) for m in ("beer", "air", "room"))
    sim.output("cooler").on()
    clock.advance(3600.0)
    # Then each reads its mass, rounded to a DS18B20 step
    state = sim.state()
    assert beer.read() == quantise(state.wort_c)
    assert air.read() == quantise(state.air_c)
    assert room.read() == quantise(state.room_c) == quantise(RoomCycle().at(3600.0))
    assert air.read() < beer.read() - 3.0


def test_probe_values_are_sixteenths_with_small_seeded_noise():
    clock = FakeTime()
    first, second = chamber(clock=clock), chamber(clock=clock)
    reads = []
    for sim in (first, second):
        probe = sim.probe("b", "beer")
        reads.append([probe.read() for _ in range(300)])
    assert reads[0] == reads[1]  # same seed, same noise
    assert all((value / DS18B20_STEP).is_integer() for value in reads[0])
    assert all(abs(value - 18.0) <= 0.25 for value in reads[0])
    assert len(set(reads[0])) > 1


def test_a_probe_with_a_fault_raises_it_until_cleared():
    probe = chamber().probe("b", "beer")
    probe.fault = ProbeError("CRC check failed", code="probe_crc")
    with pytest.raises(ProbeError, match="CRC"):
        probe.read()
    probe.fault = None
    assert probe.read() == pytest.approx(18.0, abs=0.25)


def test_a_probe_must_measure_beer_air_or_room():
    with pytest.raises(ValueError, match="measures"):
        chamber().probe("x", "x", "wort")


# --- outputs and the switch log ----------------------------------------------------------

def test_the_switch_log_records_every_change_with_both_times():
    # Given a chamber whose clock and wall the test sets
    clock, wall = FakeTime(), FakeTime(1.7e9)
    sim = SimulatedChamber(ChamberModel(still()), clock, wall=wall)
    heater, cooler = sim.output("heater"), sim.output("cooler")
    # When the outputs are switched, some calls repeating the state
    for sim_step, on_heater, on_cooler in [(10, True, False), (20, True, False), (30, False, False),
                                           (40, False, True), (50, False, False), (60, False, False)]:
        clock.advance(sim_step)
        wall.advance(1.0)
        heater.set(on_heater)
        cooler.set(on_cooler)
    # Then each change, and only each change, is logged with both times
    assert sim.switch_log() == (
        SwitchEvent(10.0, 1.7e9 + 1, "heater", True),
        SwitchEvent(60.0, 1.7e9 + 3, "heater", False),
        SwitchEvent(100.0, 1.7e9 + 4, "cooler", True),
        SwitchEvent(150.0, 1.7e9 + 5, "cooler", False),
    )
    assert (heater.switch_count, cooler.switch_count) == (2, 2)
    assert sim.both_on_ever is False


def test_both_on_is_remembered():
    sim = chamber()
    sim.output("heater").on()
    sim.output("cooler").on()
    sim.output("cooler").off()
    assert sim.both_on_ever is True


def test_outputs_are_heaters_one_per_kind_and_close_off():
    sim = chamber()
    heater = sim.output("heater")
    assert isinstance(heater, Heater) and sim.output("heater") is heater
    assert heater.is_on is False and sim.output("cooler").is_on is False  # both start off
    heater.on()
    heater.close()
    assert heater.is_on is False
    with pytest.raises(ValueError, match="output"):
        sim.output("fan")


def test_probes_and_outputs_from_two_threads_keep_one_consistent_chamber():
    # Given a clock that moves on at every look, and threads switched very often
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    ticks = iter(range(10**9))
    sim = chamber(ChamberParams(), clock=lambda: float(next(ticks)))
    probes = [sim.probe(m, m, m) for m in ("beer", "air", "room")]
    errors: list[BaseException] = []
    values: list[float] = []

    def read() -> None:
        try:
            for i in range(3000):
                values.append(probes[i % 3].read())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def switch() -> None:
        try:
            for i in range(3000):
                sim.output("heater" if i % 2 else "cooler").set(i % 4 < 2)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    # When one thread reads while the other switches
    threads = [threading.Thread(target=read), threading.Thread(target=switch)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30.0)
    finally:
        sys.setswitchinterval(old_interval)
    # Then nothing failed, every value is a real DS18B20 reading and the log is consistent
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(values) == 3000 and all(math.isfinite(v) and (v / DS18B20_STEP).is_integer() for v in values)
    log = sim.switch_log()
    assert [e.sim_s for e in log] == sorted(e.sim_s for e in log)
    for kind in ("heater", "cooler"):
        states = [e.on for e in log if e.output == kind]
        assert states == [i % 2 == 0 for i in range(len(states))]  # on, off, on, … never twice alike
    assert len(log) == 3000


# --- the standard chamber ----------------------------------------------------------------

def test_the_default_chamber():
    sim = simulated_chamber(speed=600.0, seed=5)
    params = sim.model.params
    assert isinstance(sim.clock, SimClock) and sim.clock.speed == 600.0
    assert (params.volume_l, params.heater_w, params.heater_heats, params.cooler_w) == (20.0, 25.0, "wort", 80.0)
    assert (params.room.mean_c, params.room.swing_c, params.room.period_s) == (18.0, 3.0, DAY_S)
    assert params.fermentation == FermentationHeat(peak_w=8.0)
    assert sim.model.wort_c == sim.model.air_c == params.room.at(0.0)  # starts at room temperature
    assert simulated_chamber(wort_c=22.0, fermentation=False).model.params.fermentation is None
    assert simulated_chamber(wort_c=22.0).model.wort_c == 22.0
    late = FermentationHeat(pitched_s=-DAY_S)
    assert simulated_chamber(fermentation=late).model.params.fermentation is late


def test_holding_19_degrees_in_the_default_chamber_needs_both_heat_and_cold():
    # Given the default chamber, held at 19 ± 0.3 °C by a plain thermostat every minute
    clock = FakeTime()
    sim = simulated_chamber(seed=2, clock=clock, wall=clock)
    beer, heater, cooler = sim.probe("b", "beer"), sim.output("heater"), sim.output("cooler")
    temperatures = []
    for _ in range(4 * 24 * 60):
        value = beer.read()
        temperatures.append(value)
        if value <= 18.7 or value >= 19.3:
            heater.set(value <= 18.7)
            cooler.set(value >= 19.3)
        elif heater.is_on and value >= 19.0 or cooler.is_on and value <= 19.0:
            heater.off()
            cooler.off()
        clock.advance(60.0)
    # Then the heater ran in the first night (21:00 to 09:00), before the yeast woke, and the
    # cooler at the fermentation's peak
    log = sim.switch_log()
    assert any(e.output == "heater" and e.on and 12 * HOUR_S < e.sim_s < DAY_S for e in log)
    assert any(e.output == "cooler" and e.on and DAY_S < e.sim_s < 3 * DAY_S for e in log)
    assert sim.both_on_ever is False
    assert all(18.4 <= value <= 19.6 for value in temperatures[60:])  # from 18 °C, in band within the hour
