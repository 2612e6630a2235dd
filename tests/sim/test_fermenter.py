"""The simulated fermenter: thermal model, clock, probes and heater. No sleeps: time is fake."""

from __future__ import annotations

import pytest

from beerpi.base.errors import ProbeError, ProbeNotReady
from beerpi.sim.fermenter import (
    DS18B20_STEP,
    SimClock,
    SimulatedFermenter,
    SimulatedHeater,
    SimulatedProbe,
    ThermalModel,
    quantise,
    simulated_hardware,
)
from tests.support.fake_time import FakeTime


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def fermenter(clock: FakeTime) -> SimulatedFermenter:
    return SimulatedFermenter(ThermalModel(), clock=clock, seed=1)


# --- the thermal model -------------------------------------------------------------------

def test_heater_on_equilibrium_is_ambient_plus_power_over_loss():
    model = ThermalModel(ambient_c=16.0, heater_w=25.0, loss_w_per_k=2.0)
    assert model.equilibrium(True) == pytest.approx(28.5)
    assert model.equilibrium(False) == 16.0


def test_wort_starts_at_ambient_unless_given():
    assert ThermalModel(ambient_c=12.0).temperature_c == 12.0
    assert ThermalModel(ambient_c=12.0, temperature_c=20.0).temperature_c == 20.0


@pytest.mark.parametrize("start, heater_on", [
    pytest.param(16.0, True, id="heating-from-ambient"),
    pytest.param(35.0, True, id="heater-on-but-above-equilibrium-cools"),
    pytest.param(25.0, False, id="cooling-to-ambient"),
    pytest.param(5.0, False, id="warming-to-ambient-from-below"),
])
def test_temperature_approaches_equilibrium_monotonically_without_overshoot(start, heater_on):
    # Given a wort at ``start`` with the heater fixed
    model = ThermalModel(temperature_c=start)
    equilibrium = model.equilibrium(heater_on)
    direction = 1 if equilibrium > start else -1
    previous = start
    # When time passes in steps from a minute to a year
    for seconds in [60.0] * 50 + [3600.0] * 48 + [86400.0] * 30 + [3.15e7]:
        current = model.advance(seconds, heater_on)
        # Then every step moves toward the equilibrium and never past it
        assert direction * (current - previous) >= 0
        assert direction * (equilibrium - current) >= 0
        previous = current
    # And after a very long time it is at the equilibrium
    assert previous == pytest.approx(equilibrium, abs=1e-6)


def test_exact_solution_is_step_size_independent():
    one_step = ThermalModel()
    many_steps = ThermalModel()
    one_step.advance(3600.0, heater_on=True)
    for _ in range(3600):
        many_steps.advance(1.0, heater_on=True)
    assert one_step.temperature_c == pytest.approx(many_steps.temperature_c, abs=1e-9)


def test_default_rig_warms_about_one_degree_per_hour_at_ambient():
    # Given the default 20 L of wort at 16 °C ambient and a 25 W heat belt
    model = ThermalModel()
    assert (model.volume_l, model.ambient_c, model.heater_w) == (20.0, 16.0, 25.0)
    # When the heater runs for an hour
    rise = model.advance(3600.0, heater_on=True) - 16.0
    # Then the wort is about a degree warmer: a realistic heat belt
    assert 0.8 < rise < 1.2


def test_a_negative_time_step_changes_nothing():
    model = ThermalModel(temperature_c=20.0)
    assert model.advance(-100.0, heater_on=True) == 20.0


# --- the clock ---------------------------------------------------------------------------

@pytest.mark.parametrize("speed", [1.0, 60.0, 0.5])
def test_sim_clock_runs_speed_times_faster_than_the_wall(speed, clock):
    clock.now = 1000.0  # the wall does not start at zero; the simulated clock does
    sim_clock = SimClock(speed, wall=clock)
    assert sim_clock() == 0.0
    clock.advance(10.0)
    assert sim_clock() == pytest.approx(10.0 * speed)


@pytest.mark.parametrize("speed", [0.0, -1.0, float("nan")])
def test_sim_clock_refuses_a_non_positive_speed(speed):
    with pytest.raises(ValueError, match="speed"):
        SimClock(speed)


def test_fermenter_follows_its_clock(fermenter, clock):
    # Given the heater switched on
    fermenter.set_heater(True)
    # When an hour of simulated time passes
    clock.advance(3600.0)
    # Then the wort is as warm as the model says
    expected = ThermalModel().advance(3600.0, heater_on=True)
    assert fermenter.temperature() == pytest.approx(expected, abs=1e-12)


def test_heater_state_applies_from_the_moment_it_switches(fermenter, clock):
    # Heater on for an hour, then off for an hour
    fermenter.set_heater(True)
    clock.advance(3600.0)
    fermenter.set_heater(False)
    clock.advance(3600.0)
    model = ThermalModel()
    model.advance(3600.0, heater_on=True)
    assert fermenter.temperature() == pytest.approx(model.advance(3600.0, heater_on=False), abs=1e-12)


# --- probes ------------------------------------------------------------------------------

def test_probe_values_are_multiples_of_a_sixteenth(fermenter, clock):
    probe = SimulatedProbe(fermenter, "w", "wort")
    fermenter.set_heater(True)
    for _ in range(200):
        clock.advance(97.0)
        value = probe.read()
        assert (value / DS18B20_STEP).is_integer(), value


@pytest.mark.parametrize("value, expected", [
    pytest.param(18.4, 18.375, id="rounds-down"),
    pytest.param(18.47, 18.5, id="rounds-up"),
    pytest.param(-0.03, 0.0, id="near-zero"),
])
def test_quantise_rounds_to_the_nearest_sixteenth(value, expected):
    assert quantise(value) == expected


def test_wort_probe_reflects_the_model_and_chamber_probe_the_ambient(fermenter, clock):
    # Given noiseless probes on the wort and on the chamber air
    wort = SimulatedProbe(fermenter, "w", "wort", "wort", noise_c=0.0)
    chamber = SimulatedProbe(fermenter, "c", "chamber", "ambient", noise_c=0.0)
    assert wort.read() == chamber.read() == 16.0
    # When the heater warms the wort for ten hours
    fermenter.set_heater(True)
    clock.advance(36000.0)
    # Then the wort probe reads the model's temperature and the chamber stays at ambient
    assert wort.read() == quantise(fermenter.model.temperature_c)
    assert wort.read() > 20.0
    assert chamber.read() == 16.0


def test_probe_noise_is_small(fermenter, clock):
    wort = SimulatedProbe(fermenter, "w", "wort")
    values = [wort.read() for _ in range(500)]
    assert all(abs(v - 16.0) <= 0.25 for v in values)
    assert len(set(values)) > 1  # the default noise does show


def test_probe_measures_must_be_wort_or_ambient(fermenter):
    with pytest.raises(ValueError, match="measures"):
        SimulatedProbe(fermenter, "x", "x", "glycol")


@pytest.mark.parametrize("fault", [
    pytest.param(ProbeError("CRC check failed", code="probe_crc"), id="probe-error"),
    pytest.param(ProbeNotReady("85 °C power-on value"), id="not-ready"),
])
def test_probe_with_a_fault_raises_it(fermenter, fault):
    probe = SimulatedProbe(fermenter, "w", "wort")
    probe.fault = fault
    with pytest.raises(ProbeError) as caught:
        probe.read()
    assert caught.value is fault
    # Clearing the fault makes the probe read again
    probe.fault = None
    assert probe.read() == pytest.approx(16.0, abs=0.25)


# --- heater ------------------------------------------------------------------------------

def test_heater_switches_and_counts_real_switches_only(fermenter):
    heater = SimulatedHeater(fermenter)
    assert heater.is_on is False
    heater.on()
    heater.on()
    assert heater.is_on is True and fermenter.heater_on is True
    heater.off()
    heater.off()
    assert heater.is_on is False and fermenter.heater_on is False
    heater.set(True)
    assert heater.switch_count == 3


def test_heater_close_leaves_it_off(fermenter):
    heater = SimulatedHeater(fermenter)
    heater.on()
    heater.close()
    assert heater.is_on is False


def test_heater_warms_the_wort(fermenter, clock):
    heater = SimulatedHeater(fermenter)
    heater.on()
    clock.advance(3600.0)
    assert fermenter.temperature() > 16.5


# --- the standard rig --------------------------------------------------------------------

def test_simulated_hardware_has_a_wort_probe_first_and_a_chamber_probe():
    probes, heater, fermenter = simulated_hardware(ambient_c=10.0, volume_l=30.0, heater_w=50.0,
                                                   seed=7)
    assert [(p.id, p.name, p.measures) for p in probes] == [
        ("sim-wort", "wort", "wort"), ("sim-chamber", "chamber", "ambient")]
    assert all(p.fermenter is fermenter for p in probes)
    assert heater.fermenter is fermenter and heater.is_on is False
    assert (fermenter.model.ambient_c, fermenter.model.volume_l, fermenter.model.heater_w) \
        == (10.0, 30.0, 50.0)
    assert probes[1].read() == pytest.approx(10.0, abs=0.25)


def test_simulated_hardware_runs_its_clock_at_the_given_speed():
    _, _, fermenter = simulated_hardware(speed=120.0)
    assert isinstance(fermenter.clock, SimClock)
    assert fermenter.clock.speed == 120.0
