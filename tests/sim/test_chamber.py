"""The simulated fermentation chamber: its physics, its probes, its outputs and switch log.

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

STILL_ROOM = RoomCycle(mean_c=18.0, swing_c=0.0)


def still(**changes: object) -> ChamberParams:
    """Default parameters in a room without a day cycle and without fermentation."""
    return ChamberParams(**{"room": STILL_ROOM, "fermentation": None, **changes})


def chamber(params: ChamberParams | None = None, clock: Callable[[], float] | None = None,
            **model: float) -> SimulatedChamber:
    return SimulatedChamber(ChamberModel(params or still(), **model), clock or FakeTime(), seed=1,
                            wall=FakeTime(1.7e9))


# --- the physics -------------------------------------------------------------------------

@pytest.mark.parametrize("heater, cooler, heats", [
    pytest.param(False, False, "wort", id="outputs-off-settle-at-the-room"),
    pytest.param(True, False, "wort", id="heat-belt"),
    pytest.param(True, False, "air", id="heater-in-the-air"),
    pytest.param(False, True, "wort", id="cooler-runs-without-stopping"),
])
def test_both_masses_settle_at_the_equilibrium(heater, cooler, heats):
    # Given a chamber far from equilibrium in a room held at 18 °C
    params = still(heater_heats=heats)
    model = ChamberModel(params, air_c=30.0, wort_c=5.0)
    # When the outputs are held for eight days
    model.advance(8 * DAY_S, heater, cooler)
    # Then air and wort are where the heat balance puts them
    air, wort = params.equilibrium(heater, cooler)
    assert (model.air_c, model.wort_c) == (pytest.approx(air, abs=0.01), pytest.approx(wort, abs=0.01))


def test_equilibria_are_the_room_or_power_over_conductance():
    params = still()
    assert params.equilibrium(False, False) == (18.0, 18.0)
    assert params.equilibrium(True, False) == pytest.approx((18.0 + 25 / 2.0, 18.0 + 25 / 2.0 + 25 / 2.5))
    assert params.equilibrium(False, True) == pytest.approx((18.0 - 80 / 2.0, 18.0 - 80 / 2.0))


def test_with_a_day_cycle_the_wort_swings_less_than_the_air_around_the_room_mean():
    # Given a chamber settled for a week in a room of 18 ± 3 °C
    model = ChamberModel(still(room=RoomCycle()))
    model.advance(7 * DAY_S, False, False)
    # When a day is sampled every ten minutes
    airs, worts = [], []
    for _ in range(144):
        model.advance(600.0, False, False)
        airs.append(model.air_c)
        worts.append(model.wort_c)
    # Then both average the room mean, the air swings most of the room's 6 °C, the wort little
    assert sum(airs) / len(airs) == pytest.approx(18.0, abs=0.05)
    assert sum(worts) / len(worts) == pytest.approx(18.0, abs=0.05)
    assert 2.0 < max(airs) - min(airs) < 6.0
    assert 0.3 < max(worts) - min(worts) < 1.5


def test_the_cooler_chills_the_air_fast_and_the_wort_slowly():
    # Given 20 L at 20 °C in a chamber in a room at 20 °C
    model = ChamberModel(still(room=RoomCycle(20.0, 0.0)))
    # When the cooler runs for half an hour
    model.advance(1800.0, False, True)
    # Then the air is already well below the room, the wort hardly moved
    assert model.air_c < 12.0
    assert model.wort_c > 19.5
    # And the wort reaches 12 °C within a plausible number of hours
    hours = 0.5
    while model.wort_c > 12.0:
        model.advance(0.25 * HOUR_S, False, True)
        hours += 0.25
    assert 3.0 <= hours <= 10.0
    assert model.air_c < model.wort_c - 5.0


@pytest.mark.parametrize("heats", ["wort", "air"])
def test_the_heater_warms_the_wort_in_a_cold_room(heats):
    # Given 20 L in a chamber in a room at 8 °C
    model = ChamberModel(still(room=RoomCycle(8.0, 0.0), heater_heats=heats))
    # When the heater runs for four hours
    model.advance(4 * HOUR_S, True, False)
    # Then the wort is warmer; a heat belt warms it about a degree an hour
    rise = model.wort_c - 8.0
    if heats == "wort":
        assert 2.5 < rise < 4.5
        assert model.air_c < model.wort_c
    else:
        assert 0.5 < rise < 2.5
        assert model.air_c > model.wort_c


def test_the_room_cycle_has_its_period_and_swing():
    room = RoomCycle(mean_c=18.0, swing_c=3.0)
    day = [room.at(minute * 60.0) for minute in range(24 * 60)]
    assert max(day) == pytest.approx(21.0, abs=1e-6) and min(day) == pytest.approx(15.0, abs=1e-6)
    assert room.at(room.warmest_s) == pytest.approx(21.0)
    assert room.at(room.warmest_s + DAY_S / 2) == pytest.approx(15.0)
    assert all(room.at(t) == pytest.approx(room.at(t + DAY_S)) for t in range(0, 86400, 3700))
    # Simulated time starts at the mean with the room warming (read it as 09:00)
    assert room.at(0.0) == pytest.approx(18.0) and room.at(HOUR_S) > 18.0


def test_fermentation_heat_waits_for_its_lag_rises_to_its_peak_and_declines():
    heat = FermentationHeat()
    hours = [heat.power(h * HOUR_S) for h in range(24 * 10)]
    peak_hour = 12 + 36
    assert all(p == 0.0 for p in hours[:13])
    assert all(a < b for a, b in zip(hours[12:peak_hour], hours[13:peak_hour + 1]))
    assert hours[peak_hour] == pytest.approx(8.0)
    assert all(a > b for a, b in zip(hours[peak_hour:], hours[peak_hour + 1:]))
    assert 3.0 < heat.power(3.6 * DAY_S) < 5.0  # about half, 1.6 days after the peak
    assert heat.power(7 * DAY_S) < 0.05 * heat.peak_w
    # The released energy is the curve's integral
    released = sum(heat.power((minute + 0.5) * 60.0) * 60.0 for minute in range(30 * 24 * 60))
    assert released == pytest.approx(heat.total_j, rel=1e-6)
    assert 1.5e6 < heat.total_j < 2.5e6


def test_fermentation_heat_scales_with_volume_and_follows_the_pitch():
    assert FermentationHeat.for_volume(20.0).peak_w == pytest.approx(8.0)
    assert FermentationHeat.for_volume(10.0).peak_w == pytest.approx(4.0)
    late = FermentationHeat(pitched_s=DAY_S)
    assert late.power(DAY_S + 48 * HOUR_S) == pytest.approx(8.0)


def test_fermentation_warms_an_uncontrolled_wort_by_several_degrees():
    model = ChamberModel(ChamberParams(room=STILL_ROOM))
    model.advance(2.5 * DAY_S, False, False)
    assert model.wort_c > 18.0 + 4.0
    assert model.air_c < model.wort_c


def test_energy_is_conserved_over_any_history():
    # Given the default chamber with a day cycle and fermentation
    model = ChamberModel(ChamberParams(), air_c=14.0, wort_c=21.0)
    stored_before = model.stored_j
    # When the outputs switch in an irregular pattern over three days
    on_s = {"heater": 0.0, "cooler": 0.0}
    for i in range(300):
        seconds = 137.0 + (i * 7919) % 1700
        heater, cooler = i % 5 == 0, i % 7 == 3
        model.advance(seconds, heater, cooler)
        on_s["heater"] += seconds * heater
        on_s["cooler"] += seconds * cooler
    # Then the heat stored changed by what came in minus what went out
    assert model.stored_j - stored_before == pytest.approx(model.ledger.net_j, rel=1e-9, abs=1e-3)
    assert model.ledger.heater_j == pytest.approx(25.0 * on_s["heater"])
    assert model.ledger.cooler_j == pytest.approx(80.0 * on_s["cooler"])
    expected_fermentation = sum(model.params.fermentation.power(t + 30.0) * 60.0
                                for t in range(0, int(model.t_s) // 60 * 60, 60))
    assert model.ledger.fermentation_j == pytest.approx(expected_fermentation, rel=1e-3)


def test_a_long_interval_is_integrated_as_accurately_as_tiny_internal_steps():
    params = ChamberParams()
    coarse, fine = ChamberModel(params, wort_c=24.0), ChamberModel(params, wort_c=24.0, max_step_s=0.5)
    for model in (coarse, fine):
        model.advance(6 * HOUR_S, False, True)
        model.advance(5 * HOUR_S, True, False)
    assert coarse.step_s == 10.0
    assert coarse.wort_c == pytest.approx(fine.wort_c, abs=1e-6)
    assert coarse.air_c == pytest.approx(fine.air_c, abs=1e-6)


def test_a_fast_chamber_gets_steps_short_enough_for_its_time_constant():
    model = ChamberModel(ChamberParams(air_j_per_k=50.0))
    assert model.step_s == pytest.approx(50.0 / 4.5 / 20)
    model.advance(3600.0, False, True)
    assert math.isfinite(model.air_c) and model.air_c > -40.0


def test_a_step_that_is_not_forward_changes_nothing():
    model = ChamberModel(wort_c=20.0)
    model.advance(-100.0, True, False)
    model.advance(0.0, True, False)
    assert (model.t_s, model.wort_c) == (0.0, 20.0)


@pytest.mark.parametrize("changes, match", [
    ({"heater_heats": "fermenter"}, "heater_heats"),
    ({"volume_l": 0.0}, "volume_l"),
    ({"insulation_w_per_k": -1.0}, "insulation"),
    ({"cooler_w": -80.0}, "cooler_w"),
])
def test_parameters_that_make_no_chamber_are_refused(changes, match):
    with pytest.raises(ValueError, match=match):
        ChamberParams(**changes)


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
