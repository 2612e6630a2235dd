"""A chamber's state while an output waits: which output, and until when, steady across ticks."""

from __future__ import annotations

import pytest

from beerpi.control.chamber import Chamber
from beerpi.control.settings import ControlSettings
from beerpi.control.thermostat import COMPRESSOR_TIMINGS, COOLER, HEATER, ChamberLimits, OutputTimings
from beerpi.sim.fermenter import SimulatedFermenter, SimulatedHeater

T0 = 1_764_576_000.0  # wall time at the chamber's start
NO_TIMES = OutputTimings(min_on=0.0, min_off=0.0)


def relay() -> SimulatedHeater:
    return SimulatedHeater(SimulatedFermenter())


def fridge(limits: ChamberLimits) -> Chamber:
    outputs = {kind: relay() for kind in limits.outputs}
    return Chamber("main", "Fermenter", "beer", None, outputs, limits, ControlSettings(target=20.0),
                   now=0.0, wall=T0)


def tick(chamber: Chamber, beer: float, now: float, wall_drift: float = 0.0):
    chamber.observe({"beer": (beer, None)})
    return chamber.decide(now, T0 + now + wall_drift)[0]


def test_a_compressor_resting_from_start_says_it_is_the_cooler_and_when_it_may_start():
    # Given a fridge whose compressor must rest 300 s from start, and warm beer
    chamber = fridge(ChamberLimits(heater=None, cooler=COMPRESSOR_TIMINGS))
    # When it ticks 10 s in
    state = tick(chamber, 25.0, now=10.0)
    # Then the cooler waits for its minimum off time, which ends 300 s after start
    assert (state.activity, state.waiting_for, state.waiting_output) == ("waiting", "min_off", COOLER)
    assert state.waiting_until == pytest.approx(T0 + 300.0)


def test_the_end_of_a_wait_stays_put_across_ticks_so_the_state_is_not_new_each_tick():
    chamber = fridge(ChamberLimits(heater=None, cooler=COMPRESSOR_TIMINGS))
    first = tick(chamber, 25.0, now=10.0)
    # The wall clock and the control clock drift apart by a few milliseconds between ticks
    later = tick(chamber, 25.0, now=15.0, wall_drift=0.004)
    assert later.waiting_until == first.waiting_until and later.same_as(first)


def test_the_pause_between_cooling_and_heating_ends_the_dead_time_after_the_cooler_stopped():
    chamber = fridge(ChamberLimits(heater=NO_TIMES, cooler=NO_TIMES, dead_time=600.0))
    assert tick(chamber, 20.6, now=10.0).cooler is True
    assert tick(chamber, 20.0, now=100.0).cooler is False  # stops at the target
    state = tick(chamber, 19.6, now=160.0)  # overshoots to the cold edge a minute later
    assert (state.waiting_for, state.waiting_output) == ("dead_time", HEATER)
    assert state.waiting_until == pytest.approx(T0 + 700.0)
    # Once heating, nothing waits
    heating = tick(chamber, 19.6, now=700.0)
    assert (heating.activity, heating.waiting_for, heating.waiting_output, heating.waiting_until) == (
        "heating", None, None, None)
