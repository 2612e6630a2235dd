"""Safety properties of the controller, checked over random histories with Hypothesis.

A ``SafetyChecker`` drives a controller the way the monitor does (observe, decide; change
settings, clear latches, decide) and keeps its own record of when the heater switched.
After every decision it checks the fail-safe rules:

* never ON while the controller reports a fault;
* never ON when the last observed temperature is at or above ``max_temp``;
* never ON once it has been on continuously for ``max_on``;
* never ON in mode "off";
* no switch inside the minimum on/off times, except a switch OFF caused by a fault or by
  mode "off" (the user switching off is obeyed at once: a design decision in control.py).

The example tests at the end feed deliberately broken controllers to the same checker, so
the property test is known to be able to fail.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, Phase, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from beerpi.control import ControlSettings, Controller, Decision, Limits

LIMITS = Limits(max_temp=30.0, max_on=3600.0, min_on=60.0, min_off=120.0)
FAULT_CODES = ["no_probes", "probe_missing", "probe_crc", "probe_reset", "probe_garbled", "probe_jump", "stale"]
STEP = 1 / 16  # the DS18B20 resolution


class SafetyChecker:
    """Drives one controller and asserts the safety rules after every decision."""

    def __init__(self, controller: Controller, limits: Limits = LIMITS) -> None:
        self.controller = controller
        self.limits = limits
        self.settings = ControlSettings()
        self.now = 0.0
        # Independent bookkeeping, from the decisions alone.
        self.heater = False
        self.switched_on_at: float | None = None
        self.switched_off_at: float | None = None
        self.last_temperature: float | None = None  # the last observation, None if it was a fault
        self.decisions = 0

    # -- what the monitor does -------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def observe(self, temperature: float | None, fault: str | None = None) -> None:
        self.controller.observe(temperature, fault)
        valid = temperature is not None and fault is None and math.isfinite(temperature)
        self.last_temperature = temperature if valid else None

    def change_settings(self, **changes) -> Decision:
        self.settings = self.settings.changed(**changes)
        self.controller.clear_latches()
        return self.decide()

    def decide(self) -> Decision:
        decision = self.controller.decide(self.now, self.settings)
        self.check(decision)
        return decision

    # -- the rules -------------------------------------------------------------------------

    def check(self, decision: Decision) -> None:
        limits, now = self.limits, self.now
        fault = self.controller.fault
        self.decisions += 1
        where = f"at t={now:.3f} s, decision {decision}, settings {self.settings}"

        assert decision.heater == self.controller.heater_on, f"decision and state disagree {where}"
        if decision.heater:
            assert fault is None, f"heater ON with fault {fault!r} {where}"
            assert decision.fault is None, f"heater ON with fault {decision.fault!r} {where}"
            assert self.last_temperature is not None, f"heater ON without a valid reading {where}"
            assert self.last_temperature < limits.max_temp, \
                f"heater ON at {self.last_temperature} °C >= max_temp {where}"
            assert self.settings.mode != "off", f"heater ON in mode off {where}"
            if self.heater:  # still on: bounded by the maximum on-time
                on_for = now - self.switched_on_at
                assert on_for < limits.max_on, f"heater ON continuously for {on_for:.3f} s {where}"

        if decision.heater and not self.heater:
            if self.switched_off_at is not None:
                off_for = now - self.switched_off_at
                assert off_for >= limits.min_off, f"switched ON after only {off_for:.3f} s off {where}"
            self.switched_on_at = now
        elif self.heater and not decision.heater:
            on_for = now - self.switched_on_at
            obeyed_at_once = decision.fault is not None or self.settings.mode == "off"
            if not obeyed_at_once:
                assert on_for >= limits.min_on, f"switched OFF after only {on_for:.3f} s on {where}"
            self.switched_off_at = now
        self.heater = decision.heater


# --- the state machine ----------------------------------------------------------------------

temperatures = st.one_of(
    st.floats(min_value=10.0, max_value=35.0, allow_nan=False),
    # whole probe steps around the settable band (14-26 °C), where most switching happens
    st.integers(min_value=14 * 16, max_value=26 * 16).map(lambda count: count * STEP),
    st.sampled_from([LIMITS.max_temp - STEP, LIMITS.max_temp, LIMITS.max_temp + STEP]),
)
durations = st.one_of(
    st.floats(min_value=0.0, max_value=600.0, allow_nan=False),
    # short gaps, inside the minimum times
    st.floats(min_value=0.0, max_value=130.0, allow_nan=False),
    # the boundaries of the minimum times, exactly and one second either side
    st.sampled_from([0.0, 1.0, 59.0, 60.0, 61.0, 119.0, 120.0, 121.0, 600.0]),
)
near_edge = st.sampled_from([-STEP, -1e-9, 0.0, 1e-9, STEP])


class ControllerSafety(RuleBasedStateMachine):
    """Random histories of time, temperatures, faults and settings changes."""

    make_controller = staticmethod(lambda: Controller(LIMITS))

    @initialize()
    def start(self):
        self.checker = SafetyChecker(self.make_controller())

    @rule(seconds=durations)
    def time_passes(self, seconds):
        self.checker.advance(seconds)

    @rule(seconds=durations, temperature=temperatures)
    def monitor_tick(self, seconds, temperature):
        """One monitor step: time passes, a sample arrives, the controller decides."""
        self.checker.advance(seconds)
        self.checker.observe(temperature)
        self.checker.decide()

    @rule(ticks=st.integers(min_value=1, max_value=80),
          interval=st.sampled_from([1.0, 10.0, 30.0, 60.0, 120.0]),
          temperature=temperatures)
    def steady_spell(self, ticks, interval, temperature):
        """The wort sits at one temperature for a while: monitor ticks at a fixed interval."""
        for _ in range(ticks):
            self.checker.advance(interval)
            self.checker.observe(temperature)
            self.checker.decide()

    @rule(temperature=temperatures)
    def sample(self, temperature):
        self.checker.observe(temperature)

    @rule(edge=st.sampled_from(["low", "high", "max_temp"]), delta=near_edge)
    def sample_near_an_edge(self, edge, delta):
        current = self.checker.settings
        base = {"low": current.target - current.hysteresis,
                "high": current.target + current.hysteresis,
                "max_temp": LIMITS.max_temp}[edge]
        self.checker.observe(base + delta)

    @rule(temperature=st.one_of(st.none(), temperatures, st.just(math.nan), st.just(math.inf)),
          fault=st.one_of(st.none(), st.sampled_from(FAULT_CODES)))
    def sample_fails(self, temperature, fault):
        """A failed sample: no value, a non-finite one, or a fault code (with or without a value)."""
        if temperature is not None and math.isfinite(temperature) and fault is None:
            fault = "probe_crc"
        self.checker.observe(temperature, fault)

    @rule()
    def decide(self):
        self.checker.decide()

    @rule(mode=st.sampled_from(["auto", "on", "off"]))
    def user_sets_mode(self, mode):
        self.checker.change_settings(mode=mode)

    # (``target`` is a reserved argument name of @rule)
    @rule(target_temperature=st.floats(min_value=15.0, max_value=25.0, allow_nan=False),
          hysteresis=st.floats(min_value=0.1, max_value=1.0, allow_nan=False))
    def user_sets_band(self, target_temperature, hysteresis):
        self.checker.change_settings(target=target_temperature, hysteresis=hysteresis)

    @invariant()
    def heater_state_is_tracked(self):
        if hasattr(self, "checker"):
            assert self.checker.controller.heater_on == self.checker.heater


ControllerSafety.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
TestControllerSafety = ControllerSafety.TestCase


# --- the checker can fail ---------------------------------------------------------------------

class KeepsHeatingWithoutAProbe(Controller):
    """Broken: keeps the last heater state when the probe is lost (generic_thermostat's way)."""

    def decide(self, now, settings):
        if self.probe_fault is not None or self.temperature is None:
            return Decision(self.heater_on, None, "probe lost: keeping the last state")
        return super().decide(now, settings)


class IgnoresMinimumTimes(Controller):
    """Broken: short-cycles the relay."""

    def _held_by_minimum_time(self, now):
        return None


class IgnoresOvertemp(Controller):
    """Broken: never latches the over-temperature cutoff."""

    def _update_overtemp(self, settings):
        self.overtemp = False


def ignores_max_on() -> Controller:
    """Broken: built with the maximum on-time disabled, checked against LIMITS."""
    return Controller(Limits(max_temp=LIMITS.max_temp, max_on=0.0,
                             min_on=LIMITS.min_on, min_off=LIMITS.min_off))


def heating_checker(controller: Controller) -> SafetyChecker:
    """Given a cold wort at t=1000 s: the heater has switched on."""
    checker = SafetyChecker(controller)
    checker.advance(1000.0)
    checker.observe(15.0)
    assert checker.decide().heater is True
    return checker


def test_checker_passes_the_real_controller_through_the_same_scenarios():
    checker = heating_checker(Controller(LIMITS))
    checker.advance(10.0)
    checker.observe(None, "probe_missing")
    assert checker.decide().heater is False  # a fault switches off at once, inside min_on


def test_checker_catches_heating_through_a_lost_probe():
    # Given a broken controller that is heating
    checker = heating_checker(KeepsHeatingWithoutAProbe(LIMITS))
    # When the probe is lost
    checker.advance(5.0)
    checker.observe(None, "probe_missing")
    # Then the checker objects
    with pytest.raises(AssertionError, match="heater ON with fault"):
        checker.decide()


def test_checker_catches_short_cycling():
    # Given a broken controller that has just switched on
    checker = heating_checker(IgnoresMinimumTimes(LIMITS))
    # When the wort is warm 10 s later
    checker.advance(10.0)
    checker.observe(25.0)
    # Then switching off so soon is caught
    with pytest.raises(AssertionError, match="switched OFF after only 10.000 s on"):
        checker.decide()


def test_checker_catches_switching_on_too_soon_after_off():
    checker = heating_checker(IgnoresMinimumTimes(LIMITS))
    checker.advance(100.0)
    checker.observe(25.0)
    assert checker.decide().heater is False
    checker.advance(30.0)
    checker.observe(15.0)
    with pytest.raises(AssertionError, match="switched ON after only 30.000 s off"):
        checker.decide()


def test_checker_catches_heating_above_max_temp():
    # Given a broken controller in manual on, at 30 °C
    checker = SafetyChecker(IgnoresOvertemp(LIMITS))
    checker.observe(LIMITS.max_temp)
    # When the user asks for heat
    # Then the checker objects
    with pytest.raises(AssertionError, match=">= max_temp"):
        checker.change_settings(mode="on")


def test_checker_catches_heating_past_max_on():
    checker = heating_checker(ignores_max_on())
    checker.advance(LIMITS.max_on)
    checker.observe(15.0)
    with pytest.raises(AssertionError, match="ON continuously for 3600.000 s"):
        checker.decide()


@pytest.mark.parametrize("broken", [
    pytest.param(lambda: KeepsHeatingWithoutAProbe(LIMITS), id="keeps-heating-without-probe"),
    pytest.param(lambda: IgnoresMinimumTimes(LIMITS), id="ignores-minimum-times"),
    pytest.param(lambda: IgnoresOvertemp(LIMITS), id="ignores-overtemp"),
    pytest.param(ignores_max_on, id="ignores-max-on"),
])
def test_state_machine_finds_a_broken_controller(broken):
    # Given the property test pointed at a broken controller
    class BrokenSafety(ControllerSafety):
        make_controller = staticmethod(broken)

    # When it runs with the same settings (only finding, not shrinking, to keep this quick)
    # Then it fails
    with pytest.raises(AssertionError):
        run_state_machine_as_test(BrokenSafety, settings=settings(
            max_examples=200, stateful_step_count=50, deadline=None, database=None,
            phases=[Phase.generate], report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck), print_blob=False))
