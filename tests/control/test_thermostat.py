"""The heat/cool rules of one chamber, table by table, with time driven explicitly."""

from __future__ import annotations

import math

import pytest

from beerpi.control.settings import NO_READING, RECOVERY_SAMPLES, ControlSettings
from beerpi.control.thermostat import (
    COMPRESSOR_TIMINGS,
    COOLER,
    HEATER,
    HEATER_TIMINGS,
    ChamberLimits,
    OutputTimings,
    Thermostat,
)
from beerpi.sim.fermenter import ThermalModel

NO_TIMES = OutputTimings(min_on=0.0, min_off=0.0)
BOTH = ChamberLimits(heater=NO_TIMES, cooler=NO_TIMES, dead_time=0.0)
HEAT_ONLY = ChamberLimits(heater=NO_TIMES, cooler=None)
COOL_ONLY = ChamberLimits(heater=None, cooler=NO_TIMES)
AUTO = ControlSettings(mode="auto", target=20.0, hysteresis=0.5)
LATER = 10_000.0  # far past every minimum time measured from start


def thermostat(limits: ChamberLimits = BOTH, heater: bool = False, cooler: bool = False,
               beer: float = 20.0, air_probe: bool = False, air: float | None = None) -> Thermostat:
    """A thermostat that has seen a valid sample and is in the given output states at LATER."""
    t = Thermostat(limits, now=0.0, air_probe=air_probe)
    t.observe(beer, air=air)
    for output, on in ((HEATER, heater), (COOLER, cooler)):
        if on:
            t.outputs[output].on = True
            t.outputs[output].since = LATER
    return t


def step(t: Thermostat, beer: float | None, now: float = LATER, settings: ControlSettings = AUTO,
         fault: str | None = None, air: float | None = None, air_fault: str | None = None):
    t.observe(beer, fault, air=air, air_fault=air_fault)
    return t.decide(now, settings)


# --- the band -------------------------------------------------------------------------------

@pytest.mark.parametrize("limits, before, beer, after", [
    # both outputs: each stops at the target
    pytest.param(BOTH, (False, False), 19.5, (True, False), id="both-cold-edge-heats"),
    pytest.param(BOTH, (True, False), 19.9, (True, False), id="both-heats-until-target"),
    pytest.param(BOTH, (True, False), 20.0, (False, False), id="both-heating-stops-at-target"),
    pytest.param(BOTH, (False, False), 20.4, (False, False), id="both-inside-band-rests"),
    pytest.param(BOTH, (False, False), 20.5, (False, True), id="both-warm-edge-cools"),
    pytest.param(BOTH, (False, True), 20.1, (False, True), id="both-cools-until-target"),
    pytest.param(BOTH, (False, True), 20.0, (False, False), id="both-cooling-stops-at-target"),
    pytest.param(BOTH, (False, False), 19.6, (False, False), id="both-just-inside-low-rests"),
    # one output: the whole band, as a plain thermostat
    pytest.param(HEAT_ONLY, (True, False), 20.2, (True, False), id="heater-only-heats-past-target"),
    pytest.param(HEAT_ONLY, (True, False), 20.5, (False, False), id="heater-only-stops-at-far-edge"),
    pytest.param(HEAT_ONLY, (False, False), 19.5, (True, False), id="heater-only-starts-at-low-edge"),
    pytest.param(COOL_ONLY, (False, True), 19.8, (False, True), id="cooler-only-cools-past-target"),
    pytest.param(COOL_ONLY, (False, True), 19.5, (False, False), id="cooler-only-stops-at-far-edge"),
    pytest.param(COOL_ONLY, (False, False), 20.5, (False, True), id="cooler-only-starts-at-high-edge"),
])
def test_auto_band(limits, before, beer, after):
    # Given a chamber in a known state, no minimum times
    t = thermostat(limits, *before, beer=beer)
    # When a sample arrives
    decision = step(t, beer)
    # Then the outputs follow the band, never both on, without a fault
    assert (decision.heater, decision.cooler) == after
    assert decision.fault is None
    assert decision.activity == ("heating" if after[0] else "cooling" if after[1] else "idle")


# --- timings ----------------------------------------------------------------------------------

def test_after_cooling_the_heater_waits_for_the_dead_time():
    limits = ChamberLimits(heater=NO_TIMES, cooler=NO_TIMES, dead_time=600.0)
    t = thermostat(limits, cooler=True, beer=20.6)
    # Given the cooler stops at the target
    assert step(t, 20.0, now=LATER).cooler is False
    # When the beer overshoots to the cold edge 100 s later
    waiting = step(t, 19.4, now=LATER + 100)
    # Then the heater waits for the dead time, and says so
    assert (waiting.heater, waiting.cooler, waiting.activity) == (False, False, "waiting")
    assert (waiting.waiting_for, waiting.waiting_output, waiting.waiting_left) == ("dead_time", "heater", 500.0)
    assert "dead time after the cooler: 500 s left" in waiting.reason
    assert step(t, 19.4, now=LATER + 599).heater is False
    assert step(t, 19.4, now=LATER + 600).heater is True


def test_the_compressor_minimum_off_time_holds_from_start():
    """A restart (or a crash loop) must never short-cycle a compressor."""
    limits = ChamberLimits(heater=None, cooler=COMPRESSOR_TIMINGS)
    t = Thermostat(limits, now=1000.0)
    decision = step(t, 25.0, now=1010.0)
    assert (decision.cooler, decision.activity, decision.waiting_for) == (False, "waiting", "min_off")
    assert (decision.waiting_output, decision.waiting_left) == ("cooler", 290.0)
    assert "cooler minimum off-time: 290 s left" in decision.reason
    assert step(t, 25.0, now=1299.0).cooler is False
    assert step(t, 25.0, now=1300.0).cooler is True


def test_each_output_keeps_its_own_minimum_on_time():
    limits = ChamberLimits(heater=HEATER_TIMINGS, cooler=COMPRESSOR_TIMINGS, dead_time=0.0)
    t = thermostat(limits, cooler=True, beer=21.0)
    t.outputs[COOLER].since = LATER
    # The target is reached 100 s after the compressor started: it runs on to 180 s
    held = step(t, 20.0, now=LATER + 100)
    assert (held.cooler, held.activity) == (True, "cooling")
    assert "cooler minimum on-time: 80 s left" in held.reason
    assert step(t, 20.0, now=LATER + 180).cooler is False


@pytest.mark.parametrize("cause", ["fault", "off", "cutoff"])
def test_faults_cutoffs_and_off_stop_an_output_inside_its_minimum_on_time(cause):
    limits = ChamberLimits(heater=HEATER_TIMINGS, cooler=COMPRESSOR_TIMINGS, dead_time=0.0, max_beer=30.0)
    t = thermostat(limits, heater=True, beer=15.0)
    if cause == "fault":
        decision = step(t, None, now=LATER + 1, fault="probe_crc")
    elif cause == "off":
        decision = step(t, 15.0, now=LATER + 1, settings=ControlSettings(mode="off"))
    else:
        decision = step(t, 30.0, now=LATER + 1)
    assert decision.heater is False


# --- faults and cutoffs -----------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["auto", "heat"])
@pytest.mark.parametrize("reading", [None, math.nan, math.inf, -math.inf], ids=["none", "nan", "inf", "-inf"])
def test_a_missing_or_non_finite_reading_switches_off_with_a_fault(reading, mode):
    t = thermostat(HEAT_ONLY, heater=True, beer=15.0)
    decision = step(t, reading, settings=ControlSettings(mode=mode, target=25.0))
    assert (decision.heater, decision.fault) == (False, NO_READING)


def test_a_new_thermostat_has_no_reading_and_switches_nothing_on():
    t = Thermostat(BOTH, now=0.0)
    decision = t.decide(LATER, ControlSettings(mode="heat"))
    assert (decision.heater, decision.cooler, decision.fault) == (False, False, NO_READING)


def test_a_probe_fault_clears_only_after_recovery_samples_valid_samples():
    t = thermostat(HEAT_ONLY, heater=True, beer=15.0)
    assert step(t, None, fault="probe_out_of_range").heater is False
    for i in range(1, RECOVERY_SAMPLES):
        decision = step(t, 15.0, now=LATER + i)
        assert (decision.heater, decision.fault) == (False, "probe_out_of_range"), f"sample {i}"
    decision = step(t, 15.0, now=LATER + RECOVERY_SAMPLES)
    assert (decision.heater, decision.fault) == (True, None)


def test_a_fault_during_recovery_restarts_the_count():
    t = thermostat(HEAT_ONLY, beer=15.0)
    step(t, None, fault="probe_jump")
    for i in range(1, RECOVERY_SAMPLES):  # one short of recovering
        step(t, 15.0, now=LATER + i)
    step(t, None, now=LATER + 10)  # a second failure, without a code
    for i in range(1, RECOVERY_SAMPLES):
        decision = step(t, 15.0, now=LATER + 10 + i)
        assert decision.heater is False and decision.fault == "probe_jump", f"sample {i} after restart"
    assert step(t, 15.0, now=LATER + 10 + RECOVERY_SAMPLES).fault is None


def test_a_missing_reading_without_a_code_recovers_the_same_way():
    t = thermostat(HEAT_ONLY, beer=15.0)
    step(t, None)
    faults = [step(t, 15.0, now=LATER + i).fault for i in range(1, RECOVERY_SAMPLES + 1)]
    assert faults == [NO_READING] * (RECOVERY_SAMPLES - 1) + [None]


@pytest.mark.parametrize("beer_fault, air_fault, expected", [
    ("probe_missing", None, "probe_missing"),
    ("probe_crc", None, "probe_crc"),
    ("stale", None, "stale"),
    (None, "probe_missing", "air_probe_missing"),
    (None, "probe_reset", "air_probe_reset"),
])
@pytest.mark.parametrize("running", [HEATER, COOLER])
def test_a_probe_fault_switches_every_output_off(beer_fault, air_fault, expected, running):
    t = thermostat(BOTH, heater=running == HEATER, cooler=running == COOLER, air_probe=True, air=18.0)
    beer = None if beer_fault else 20.0
    air = None if air_fault else 18.0
    decision = step(t, beer, fault=beer_fault, air=air, air_fault=air_fault)
    assert (decision.heater, decision.cooler, decision.fault) == (False, False, expected)


def test_a_chamber_without_an_air_probe_ignores_air():
    t = thermostat(BOTH, beer=19.0)
    assert step(t, 19.0, air=None).heater is True


def test_over_temperature_stops_heating_but_not_cooling():
    limits = ChamberLimits(heater=NO_TIMES, cooler=NO_TIMES, dead_time=0.0, max_beer=30.0)
    t = thermostat(limits, heater=True, beer=29.0)
    hot = step(t, 30.0, settings=ControlSettings(mode="heat", target=20.0))
    assert (hot.heater, hot.cutoffs) == (False, ("overtemp",))
    assert hot.fault is None  # the chamber may still cool
    cooling = step(t, 30.5, now=LATER + 1)
    assert (cooling.heater, cooling.cooler) == (False, True)
    # The cutoff holds until the beer is back below the target
    assert step(t, 20.1, now=LATER + 2, settings=ControlSettings(mode="heat")).heater is False
    assert step(t, 19.9, now=LATER + 3, settings=ControlSettings(mode="heat")).heater is True


def test_under_temperature_stops_cooling():
    limits = ChamberLimits(heater=NO_TIMES, cooler=NO_TIMES, dead_time=0.0, min_beer=-1.0)
    t = thermostat(limits, cooler=True, beer=0.0)
    cold = step(t, -1.0, settings=ControlSettings(mode="cool", target=2.0))
    assert (cold.cooler, cold.cutoffs) == (False, ("undertemp",))
    assert step(t, 1.9, now=LATER + 1, settings=ControlSettings(mode="cool", target=2.0)).cooler is False
    assert step(t, 2.1, now=LATER + 2, settings=ControlSettings(mode="cool", target=2.0)).cooler is True


def test_hot_air_stops_a_heater_whose_probe_fell_out_of_the_wort():
    limits = ChamberLimits(heater=NO_TIMES, cooler=NO_TIMES, dead_time=0.0, max_air=35.0)
    t = thermostat(limits, heater=True, beer=15.0, air_probe=True, air=30.0)
    # The beer probe lies on the bench at 15 °C while the heater cooks the air
    decision = step(t, 15.0, air=35.5)
    assert (decision.heater, decision.cutoffs) == (False, ("air_too_hot",))
    assert step(t, 15.0, now=LATER + 1, air=33.5).heater is False  # not yet 2 °C inside
    assert step(t, 15.0, now=LATER + 2, air=33.0).heater is True


def test_cold_air_stops_the_cooler():
    limits = ChamberLimits(heater=NO_TIMES, cooler=NO_TIMES, dead_time=0.0, min_air=-5.0)
    t = thermostat(limits, cooler=True, beer=25.0, air_probe=True, air=0.0)
    decision = step(t, 25.0, air=-5.5)
    assert (decision.cooler, decision.cutoffs) == (False, ("air_too_cold",))
    assert step(t, 25.0, now=LATER + 1, air=-3.0).cooler is True


# --- modes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode, beer, expected", [
    ("heat", 25.0, (True, False)),
    ("on", 25.0, (True, False)),  # the first name of heat
    ("cool", 10.0, (False, True)),
    ("off", 10.0, (False, False)),
    ("off", 30.0, (False, False)),
])
def test_manual_modes(mode, beer, expected):
    t = thermostat(BOTH, beer=beer)
    decision = step(t, beer, settings=ControlSettings(mode=mode, target=20.0))
    assert (decision.heater, decision.cooler) == expected


def test_manual_cool_in_a_chamber_without_a_cooler_switches_nothing_on():
    t = thermostat(HEAT_ONLY, beer=10.0)
    decision = step(t, 10.0, settings=ControlSettings(mode="cool"))
    assert (decision.heater, decision.cooler) == (False, False)


# --- runaway ----------------------------------------------------------------------------------

def run_heating(model: ThermalModel, probe_reads_wort: bool, hours: float, tick: float = 5.0):
    """Drive a heater-only chamber on the thermal model; returns (the fault, when it came)."""
    limits = ChamberLimits(heater=HEATER_TIMINGS, cooler=None)
    t = Thermostat(limits, now=0.0)
    settings = ControlSettings(target=20.0, hysteresis=0.3)
    now = 0.0
    while now < hours * 3600:
        reading = model.temperature_c if probe_reads_wort else model.ambient_c
        decision = step(t, round(reading * 16) / 16, now=now, settings=settings)
        if decision.fault:
            return decision.fault, now
        model.advance(tick, decision.heater)
        now += tick
    return None, now


def test_a_cold_start_with_a_small_heater_is_not_a_runaway():
    """20 L from 10 °C with a 25 W belt takes many hours: a real fermenter never trips."""
    model = ThermalModel(volume_l=20.0, ambient_c=10.0, heater_w=25.0, temperature_c=10.0)
    fault, _ = run_heating(model, probe_reads_wort=True, hours=48)
    assert fault is None
    assert 19.5 < model.temperature_c < 20.5


def test_a_probe_lying_on_the_bench_trips_runaway_within_an_hour():
    model = ThermalModel(volume_l=20.0, ambient_c=16.0, heater_w=25.0, temperature_c=16.0)
    fault, when = run_heating(model, probe_reads_wort=False, hours=3)
    assert fault == "runaway" and when <= 3600


def test_a_frozen_probe_trips_runaway_and_a_settings_change_clears_it():
    t = thermostat(HEAT_ONLY, beer=15.0)
    now = LATER
    while (decision := step(t, 15.0, now=now)).fault is None and now < LATER + 7200:
        assert decision.heater is True
        now += 5.0
    assert decision.fault == "runaway" and now - LATER <= ChamberLimits().runaway_watch + 10
    assert (decision.heater, decision.cooler) == (False, False)
    assert step(t, 15.0, now=now + 5).fault == "runaway"  # latched
    t.clear_latches()
    assert step(t, 15.0, now=now + 10).heater is True


def test_a_compressor_that_does_not_cool_trips_runaway():
    t = thermostat(COOL_ONLY, cooler=True, beer=24.0)
    now, beer = LATER, 24.0
    while (decision := step(t, beer, now=now)).fault is None and now < LATER + 7200:
        beer -= 0.0001  # 0.05 °C in 40 min: far too slow, the compressor or the probe has failed
        now += 5.0
    assert decision.fault == "runaway" and decision.cooler is False
    assert now - LATER <= ChamberLimits().runaway_watch + 10


def test_a_switch_off_from_outside_starts_the_minimum_off_time_and_the_dead_time():
    """The watchdog or a failed relay switched the compressor off: it must still rest."""
    limits = ChamberLimits(heater=NO_TIMES, cooler=COMPRESSOR_TIMINGS, dead_time=600.0)
    t = thermostat(limits, cooler=True, beer=25.0)
    t.switched_off(LATER + 1000)
    assert step(t, 25.0, now=LATER + 1001).cooler is False
    assert step(t, 25.0, now=LATER + 1000 + 299).cooler is False
    assert step(t, 25.0, now=LATER + 1000 + 300).cooler is True
    t.switched_off(LATER + 2000)
    assert step(t, 15.0, now=LATER + 2000 + 599).heater is False  # dead time after the cooler
    assert step(t, 15.0, now=LATER + 2000 + 600).heater is True
