"""Control decisions: hysteresis in auto, manual modes and the fail-safe rules.

Time is driven explicitly through ``now``; nothing here sleeps.
"""

from __future__ import annotations

import math

import pytest

from beerpi.control import (
    MAX_ON,
    NO_READING,
    OVERTEMP,
    RECOVERY_SAMPLES,
    ControlSettings,
    ControlState,
    Controller,
    Limits,
)
from beerpi.errors import ConfigError

# Target 20 °C, hysteresis 0.25 °C: the band edges 19.75 and 20.25 are exact in binary.
AUTO = ControlSettings(mode="auto", target=20.0, hysteresis=0.25)
LOW, HIGH = 19.75, 20.25
STEP = 1 / 16  # the probe resolution: the smallest real distance from an edge
NO_HOLD = Limits(max_temp=30.0, max_on=0.0, min_on=0.0, min_off=0.0)


def controller(heater_on: bool = False, limits: Limits = NO_HOLD, temperature: float = 20.0,
               now: float = 0.0) -> Controller:
    """A controller that has seen one valid sample and is in the given heater state."""
    ctl = Controller(limits)
    ctl.observe(temperature)
    ctl.heater_on = heater_on
    ctl.switched_at = now if heater_on else None
    return ctl


def run(ctl: Controller, temperature: float | None, now: float,
        settings: ControlSettings = AUTO, fault: str | None = None):
    ctl.observe(temperature, fault)
    return ctl.decide(now, settings)


# --- hysteresis in mode auto -------------------------------------------------------------

@pytest.mark.parametrize("heater_before, temperature, heater_after", [
    # at or below the low edge: ON whatever the state
    pytest.param(False, LOW, True, id="off-at-low-edge-turns-on"),
    pytest.param(True, LOW, True, id="on-at-low-edge-stays-on"),
    pytest.param(False, LOW - STEP, True, id="off-below-low-edge-turns-on"),
    pytest.param(False, 10.0, True, id="off-far-below-turns-on"),
    # just inside the low edge: keeps its state
    pytest.param(False, LOW + STEP, False, id="off-just-inside-low-edge-stays-off"),
    pytest.param(True, LOW + STEP, True, id="on-just-inside-low-edge-stays-on"),
    # at the target: keeps its state
    pytest.param(False, 20.0, False, id="off-at-target-stays-off"),
    pytest.param(True, 20.0, True, id="on-at-target-stays-on"),
    # just inside the high edge: keeps its state
    pytest.param(False, HIGH - STEP, False, id="off-just-inside-high-edge-stays-off"),
    pytest.param(True, HIGH - STEP, True, id="on-just-inside-high-edge-stays-on"),
    # at or above the high edge: OFF whatever the state
    pytest.param(True, HIGH, False, id="on-at-high-edge-turns-off"),
    pytest.param(False, HIGH, False, id="off-at-high-edge-stays-off"),
    pytest.param(True, HIGH + STEP, False, id="on-above-high-edge-turns-off"),
    pytest.param(True, 25.0, False, id="on-far-above-turns-off"),
])
def test_auto_mode_hysteresis(heater_before, temperature, heater_after):
    # Given a controller with the heater in a known state and no minimum times
    ctl = controller(heater_on=heater_before)
    # When a valid temperature arrives
    decision = run(ctl, temperature, now=1000.0)
    # Then the heater follows the band rules, without a fault
    assert decision.heater is heater_after
    assert decision.fault is None
    assert ctl.heater_on is heater_after


@pytest.mark.parametrize("temperature, heater_after", [
    pytest.param(19.7, True, id="default-low-edge-19.7-on"),
    pytest.param(19.75, False, id="inside-default-band-stays-off"),
    pytest.param(20.3, False, id="default-high-edge-20.3-off"),
])
def test_default_settings_band_edges(temperature, heater_after):
    ctl = controller(heater_on=False)
    assert run(ctl, temperature, now=1000.0, settings=ControlSettings()).heater is heater_after


def test_a_full_cycle_through_the_band():
    # Given a cold fermenter
    ctl = controller()
    temperatures = [19.0, 19.5, 20.0, 20.25, 20.0, 19.8, 19.75, 20.0]
    # When it warms through the band and cools back
    states = [run(ctl, t, now=60.0 * i).heater for i, t in enumerate(temperatures)]
    # Then the heater turns on at the bottom, off at the top, and nothing in between
    assert states == [True, True, True, False, False, False, True, True]


# --- manual modes ------------------------------------------------------------------------

@pytest.mark.parametrize("mode, heater_before, temperature, heater_after", [
    pytest.param("on", False, 25.0, True, id="on-above-band"),
    pytest.param("on", False, 10.0, True, id="on-below-band"),
    pytest.param("on", True, 20.0, True, id="on-stays-on"),
    pytest.param("off", True, 10.0, False, id="off-below-band"),
    pytest.param("off", False, 10.0, False, id="off-stays-off"),
    pytest.param("off", True, 25.0, False, id="off-above-band"),
])
def test_manual_modes_ignore_the_band(mode, heater_before, temperature, heater_after):
    ctl = controller(heater_on=heater_before)
    decision = run(ctl, temperature, now=1000.0, settings=ControlSettings(mode=mode))
    assert decision.heater is heater_after
    assert decision.fault is None


# --- missing or non-finite readings ------------------------------------------------------

@pytest.mark.parametrize("mode", ["auto", "on"])
@pytest.mark.parametrize("reading", [
    pytest.param(None, id="none"),
    pytest.param(math.nan, id="nan"),
    pytest.param(math.inf, id="inf"),
    pytest.param(-math.inf, id="minus-inf"),
])
def test_missing_or_non_finite_reading_turns_off_with_a_fault(reading, mode):
    # Given a heater that is on and would stay on with a valid cold reading
    ctl = controller(heater_on=True)
    # When the reading is missing or not finite
    decision = run(ctl, reading, now=1000.0, settings=ControlSettings(mode=mode, target=30.0))
    # Then the heater goes off and the fault says why
    assert decision.heater is False
    assert decision.fault == NO_READING
    assert ctl.fault == NO_READING


def test_a_fresh_controller_has_no_reading_and_decides_off():
    ctl = Controller(NO_HOLD)
    decision = ctl.decide(0.0, ControlSettings(mode="on"))
    assert (decision.heater, decision.fault) == (False, NO_READING)


def test_probe_fault_code_is_reported():
    ctl = controller(heater_on=True)
    decision = run(ctl, None, now=1000.0, fault="probe_jump")
    assert (decision.heater, decision.fault) == (False, "probe_jump")


# --- recovery from a probe fault ---------------------------------------------------------

def test_probe_fault_clears_only_after_recovery_samples_valid_samples():
    # Given a probe fault while the wort is cold
    ctl = controller(heater_on=True)
    assert run(ctl, None, now=0.0, fault="probe_out_of_range").heater is False
    # When valid cold samples come back, all but the last of the recovery window
    for i in range(1, RECOVERY_SAMPLES):
        decision = run(ctl, 15.0, now=float(i))
        # Then the heater stays off and the fault is still reported
        assert (decision.heater, decision.fault) == (False, "probe_out_of_range"), f"sample {i}"
    # And the last sample of the window clears the fault and control resumes
    decision = run(ctl, 15.0, now=float(RECOVERY_SAMPLES))
    assert (decision.heater, decision.fault) == (True, None)


def test_a_fault_during_recovery_restarts_the_count():
    ctl = controller()
    run(ctl, None, now=0.0, fault="probe_jump")
    for i in range(1, RECOVERY_SAMPLES):  # one short of recovering
        run(ctl, 15.0, now=float(i))
    # A second fault in the middle of the window
    run(ctl, None, now=10.0)
    # Then a full window of valid samples is needed again
    for i in range(1, RECOVERY_SAMPLES):
        decision = run(ctl, 15.0, now=10.0 + i)
        assert decision.heater is False and decision.fault is not None, f"sample {i} after restart"
    decision = run(ctl, 15.0, now=10.0 + RECOVERY_SAMPLES)
    assert (decision.heater, decision.fault) == (True, None)


def test_missing_reading_without_code_recovers_the_same_way():
    ctl = controller()
    run(ctl, None, now=0.0)
    decisions = [run(ctl, 15.0, now=float(i)) for i in range(1, RECOVERY_SAMPLES + 1)]
    assert [d.fault for d in decisions] == [NO_READING] * (RECOVERY_SAMPLES - 1) + [None]


# --- over-temperature cutoff -------------------------------------------------------------

@pytest.mark.parametrize("mode", ["auto", "on"])
def test_overtemp_forces_off_and_latches_until_below_target(mode):
    # Given a heater on, target 20, cutoff 30
    settings = ControlSettings(mode=mode, target=20.0, hysteresis=0.25)
    ctl = controller(heater_on=True, limits=Limits(max_temp=30.0, max_on=0.0, min_on=0.0, min_off=0.0))
    # When the temperature reaches the cutoff
    decision = run(ctl, 30.0, now=0.0, settings=settings)
    # Then the heater is off with the overtemp fault, even in mode on
    assert (decision.heater, decision.fault) == (False, OVERTEMP)
    # And it stays latched while the temperature is at or above the target
    for now, temperature in [(10.0, 25.0), (20.0, 20.25), (30.0, 20.0)]:
        decision = run(ctl, temperature, now=now, settings=settings)
        assert (decision.heater, decision.fault) == (False, OVERTEMP), f"at {temperature} °C"
    # And clears once it falls below the target
    decision = run(ctl, 19.5, now=40.0, settings=settings)
    assert (decision.heater, decision.fault) == (True, None)


@pytest.mark.parametrize("temperature, fault", [
    pytest.param(30.0 - STEP, None, id="just-below-cutoff-no-fault"),
    pytest.param(30.0, OVERTEMP, id="at-cutoff-trips"),
])
def test_overtemp_edge(temperature, fault):
    ctl = controller(limits=Limits(max_temp=30.0, max_on=0.0, min_on=0.0, min_off=0.0))
    assert run(ctl, temperature, now=0.0, settings=ControlSettings(mode="on")).fault == fault


# --- maximum continuous on-time ----------------------------------------------------------

def test_max_on_trips_after_continuous_on_time_rests_then_resumes():
    limits = Limits(max_temp=30.0, max_on=3600.0, max_on_rest=900.0, min_on=0.0, min_off=0.0)
    ctl = Controller(limits)
    # Given a heater on since t=0 in auto, the wort still cold
    assert run(ctl, 18.0, now=0.0).heater is True
    # When it reaches max_on it is switched off with a fault
    assert (run(ctl, 18.5, now=3600.0).heater, ctl.fault) == (False, MAX_ON)
    # And it rests for max_on_rest...
    decision = run(ctl, 18.4, now=3600.0 + 899.0)
    assert (decision.heater, decision.fault) == (False, MAX_ON)
    # ...after which control resumes by itself
    decision = run(ctl, 18.3, now=3600.0 + 900.0)
    assert (decision.heater, decision.fault) == (True, None)


def test_max_on_trips_after_continuous_on_time_and_clear_latches_resets_it():
    limits = Limits(max_temp=30.0, max_on=3600.0, max_on_rest=10**9, min_on=0.0, min_off=0.0)
    on = ControlSettings(mode="on")
    ctl = Controller(limits)
    # Given the heater switched on at t=0
    assert run(ctl, 18.0, now=0.0, settings=on).heater is True
    # When it has been on just under max_on, it stays on
    assert run(ctl, 18.0, now=3599.0, settings=on).heater is True
    # Then at max_on it trips
    decision = run(ctl, 18.0, now=3600.0, settings=on)
    assert (decision.heater, decision.fault) == (False, MAX_ON)
    # And it stays tripped while it rests
    decision = run(ctl, 18.0, now=100_000.0, settings=on)
    assert (decision.heater, decision.fault) == (False, MAX_ON)
    # Until the latch is cleared (a user changed the settings)
    ctl.clear_latches()
    decision = run(ctl, 18.0, now=100_001.0, settings=on)
    assert (decision.heater, decision.fault) == (True, None)


def test_max_on_zero_disables_the_limit():
    ctl = Controller(NO_HOLD)
    on = ControlSettings(mode="on")
    run(ctl, 18.0, now=0.0, settings=on)
    assert run(ctl, 18.0, now=10 * 24 * 3600.0, settings=on).heater is True


def test_max_on_counts_continuous_time_only():
    limits = Limits(max_temp=30.0, max_on=3600.0, min_on=0.0, min_off=0.0)
    ctl = Controller(limits)
    run(ctl, 18.0, now=0.0)  # on
    run(ctl, 21.0, now=3000.0)  # off: above the band
    run(ctl, 18.0, now=3100.0)  # on again: the on-time restarts
    decision = run(ctl, 18.0, now=6000.0)  # 2900 s continuous, 5900 s in total
    assert (decision.heater, decision.fault) == (True, None)


# --- minimum on/off times ----------------------------------------------------------------

HOLD = Limits(max_temp=30.0, max_on=0.0, min_on=60.0, min_off=120.0)


@pytest.mark.parametrize("switch_back_at, heater", [
    pytest.param(59.0, True, id="within-min-on-held-on"),
    pytest.param(60.0, False, id="after-min-on-turns-off"),
])
def test_min_on_holds_the_heater_on(switch_back_at, heater):
    # Given the heater switched on at t=0
    ctl = Controller(HOLD)
    assert run(ctl, 18.0, now=0.0).heater is True
    # When the band says off
    decision = run(ctl, 21.0, now=switch_back_at)
    # Then it is held on until min_on has passed
    assert decision.heater is heater
    assert decision.fault is None


@pytest.mark.parametrize("switch_back_at, heater", [
    pytest.param(119.0, False, id="within-min-off-held-off"),
    pytest.param(120.0, True, id="after-min-off-turns-on"),
])
def test_min_off_holds_the_heater_off(switch_back_at, heater):
    # Given the heater switched on at t=0 and off at t=100
    ctl = Controller(HOLD)
    run(ctl, 18.0, now=0.0)
    assert run(ctl, 21.0, now=100.0).heater is False
    # When the band says on again
    decision = run(ctl, 18.0, now=100.0 + switch_back_at)
    # Then it is held off until min_off has passed
    assert decision.heater is heater


def test_hold_reason_says_how_long_is_left():
    ctl = Controller(HOLD)
    run(ctl, 18.0, now=0.0)
    assert "minimum on-time" in run(ctl, 21.0, now=20.0).reason


def test_the_first_switch_on_is_not_held():
    ctl = Controller(HOLD)
    assert run(ctl, 18.0, now=0.0).heater is True


@pytest.mark.parametrize("reading, fault", [
    pytest.param(None, None, id="missing-reading"),
    pytest.param(None, "probe_jump", id="probe-fault"),
    pytest.param(30.0, None, id="overtemp"),
])
def test_a_fault_turns_off_at_once_despite_min_on(reading, fault):
    # Given the heater just switched on, deep inside its minimum on-time
    ctl = Controller(HOLD)
    assert run(ctl, 18.0, now=0.0).heater is True
    # When a fault appears one second later
    decision = run(ctl, reading, now=1.0, fault=fault)
    # Then the heater goes off immediately
    assert decision.heater is False
    assert decision.fault is not None


# --- ControlSettings ---------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    pytest.param("target", 0.0, id="target-low-edge"),
    pytest.param("target", 40.0, id="target-high-edge"),
    pytest.param("target", 18, id="target-int"),
    pytest.param("hysteresis", 0.05, id="hysteresis-low-edge"),
    pytest.param("hysteresis", 5.0, id="hysteresis-high-edge"),
    pytest.param("mode", "off", id="mode-off"),
    pytest.param("mode", "on", id="mode-on"),
])
def test_settings_accept_valid_values(field, value):
    assert getattr(ControlSettings(**{field: value}), field) == value


BAD_SETTINGS = [
    pytest.param("target", -0.01, "between", id="target-below-0"),
    pytest.param("target", 40.01, "between", id="target-above-40"),
    pytest.param("hysteresis", 0.04, "between", id="hysteresis-below-0.05"),
    pytest.param("hysteresis", 5.01, "between", id="hysteresis-above-5"),
    pytest.param("target", True, "number", id="target-bool"),
    pytest.param("hysteresis", False, "number", id="hysteresis-bool"),
    pytest.param("target", "20", "number", id="target-string"),
    pytest.param("target", None, "number", id="target-none"),
    pytest.param("target", math.nan, "number", id="target-nan"),
    pytest.param("hysteresis", math.inf, "number", id="hysteresis-inf"),
    pytest.param("mode", "boil", "mode", id="mode-unknown"),
    pytest.param("mode", "AUTO", "mode", id="mode-wrong-case"),
]


@pytest.mark.parametrize("field, value, message", BAD_SETTINGS)
def test_settings_reject_invalid_values(field, value, message):
    with pytest.raises(ConfigError, match=message):
        ControlSettings(**{field: value})


@pytest.mark.parametrize("field, value, message", BAD_SETTINGS)
def test_changed_leaves_the_original_untouched_on_error(field, value, message):
    original = ControlSettings(mode="on", target=18.0, hysteresis=0.5)
    with pytest.raises(ConfigError, match=message):
        original.changed(**{field: value})
    assert original == ControlSettings(mode="on", target=18.0, hysteresis=0.5)


def test_changed_rejects_an_unknown_field():
    original = ControlSettings()
    with pytest.raises(ConfigError, match="unknown setting 'power'"):
        original.changed(target=19.0, power=100)
    assert original == ControlSettings()


def test_changed_returns_a_new_copy():
    original = ControlSettings()
    updated = original.changed(target=18.5, mode="off")
    assert updated.as_dict() == {"mode": "off", "target": 18.5, "hysteresis": 0.3}
    assert original.as_dict() == {"mode": "auto", "target": 20.0, "hysteresis": 0.3}


# --- ControlState ------------------------------------------------------------------------

STATE = ControlState(ts=100.0, heater=True, mode="auto", target=20.0, hysteresis=0.3, fault=None)


def test_state_same_as_ignores_the_timestamp():
    assert STATE.same_as(ControlState(200.0, True, "auto", 20.0, 0.3, None))


@pytest.mark.parametrize("other", [
    pytest.param(ControlState(100.0, False, "auto", 20.0, 0.3, None), id="heater"),
    pytest.param(ControlState(100.0, True, "on", 20.0, 0.3, None), id="mode"),
    pytest.param(ControlState(100.0, True, "auto", 20.5, 0.3, None), id="target"),
    pytest.param(ControlState(100.0, True, "auto", 20.0, 0.4, None), id="hysteresis"),
    pytest.param(ControlState(100.0, True, "auto", 20.0, 0.3, OVERTEMP), id="fault"),
    pytest.param(None, id="none"),
])
def test_state_same_as_sees_every_other_field(other):
    assert not STATE.same_as(other)
