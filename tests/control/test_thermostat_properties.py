"""The chamber safety invariants (beerpi/control/invariants.py) over random histories, with Hypothesis.

The state machine drives a heater-and-cooler thermostat the way the monitor does: samples of
the beer and the air (valid, faulty, near every edge), decisions at irregular intervals,
settings changes and latches cleared. After every decision ``SafetyCheck`` must find
nothing. The examples at the end point the same machine at deliberately broken thermostats,
so the property test is known to be able to fail.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from beerpi.control.invariants import SafetyCheck
from beerpi.control.settings import ControlSettings
from beerpi.control.thermostat import (
    COMPRESSOR_TIMINGS,
    COOLER,
    HEATER,
    HEATER_TIMINGS,
    ChamberDecision,
    ChamberLimits,
    Thermostat,
)

LIMITS = ChamberLimits(heater=HEATER_TIMINGS, cooler=COMPRESSOR_TIMINGS, max_beer=30.0, min_beer=-1.0,
                       max_air=35.0, min_air=-5.0, dead_time=600.0, runaway_watch=3300.0,
                       runaway_progress=0.125)
MAX_TICK = 120.0
PROBE_FAULTS = ["probe_missing", "probe_crc", "probe_reset", "probe_jump", "stale", "too_many_open_files"]
beer_values = st.floats(min_value=-3.0, max_value=33.0, allow_nan=False)
air_values = st.floats(min_value=-10.0, max_value=40.0, allow_nan=False)


class ChamberSafety(RuleBasedStateMachine):
    make_thermostat = staticmethod(lambda: Thermostat(LIMITS, now=0.0, air_probe=True))

    @initialize()
    def start(self):
        self.now = 0.0
        self.thermostat = self.make_thermostat()
        self.check = SafetyCheck(LIMITS, start=0.0, tick=MAX_TICK, air_probe=True)
        self.settings = ControlSettings(mode="auto", target=18.0, hysteresis=0.3)
        self.beer: float | None = None
        self.air: float | None = None

    def observe(self, beer, air, beer_fault=None, air_fault=None):
        self.thermostat.observe(beer, beer_fault, air=air, air_fault=air_fault)
        self.beer = None if beer_fault or beer is None or not math.isfinite(beer) else beer
        self.air = None if air_fault or air is None else air

    def decide(self) -> ChamberDecision:
        decision = self.thermostat.decide(self.now, self.settings)
        self.check.observe(self.beer, self.air)
        broken = self.check.outputs(self.now, decision.heater, decision.cooler, decision.fault,
                                    self.settings.mode, decision.cutoffs)
        assert broken == [], f"at {self.now:.1f} s: {broken}"
        return decision

    @rule(ticks=st.integers(min_value=1, max_value=60), interval=st.sampled_from([1.0, 5.0, 30.0, MAX_TICK]),
          beer=beer_values, air=air_values, drift=st.floats(min_value=-0.05, max_value=0.05))
    def spell(self, ticks, interval, beer, air, drift):
        """The beer drifts steadily for a while: ticks at a fixed interval."""
        for i in range(ticks):
            self.now += interval
            self.observe(beer + i * drift, air)
            self.decide()

    @rule(delta=st.floats(min_value=0.1, max_value=MAX_TICK), beer=beer_values, air=air_values)
    def one_tick(self, delta, beer, air):
        self.now += delta
        self.observe(beer, air)
        self.decide()

    @rule(edge=st.sampled_from(["low", "target", "high", "max_beer", "min_beer"]),
          delta=st.sampled_from([-0.0625, 0.0, 0.0625]), air=air_values)
    def sample_near_an_edge(self, edge, delta, air):
        s = self.settings
        base = {"low": s.target - s.hysteresis, "target": s.target, "high": s.target + s.hysteresis,
                "max_beer": LIMITS.max_beer, "min_beer": LIMITS.min_beer}[edge]
        self.now += 5.0
        self.observe(base + delta, air)
        self.decide()

    @rule(beer_fault=st.one_of(st.none(), st.sampled_from(PROBE_FAULTS)),
          air_fault=st.one_of(st.none(), st.sampled_from(PROBE_FAULTS)), air=air_values)
    def a_probe_fails(self, beer_fault, air_fault, air):
        self.now += 5.0
        self.observe(None, None if air_fault else air, beer_fault or "probe_crc", air_fault)
        self.decide()

    @rule(delta=st.floats(min_value=0.1, max_value=MAX_TICK))
    def switched_off_from_outside(self, delta):
        """The watchdog, a failed relay or a stop switched every output off between decisions."""
        self.now += delta
        self.thermostat.switched_off(self.now)
        assert self.check.outputs(self.now, False, False, fault="stale") == []

    @rule(mode=st.sampled_from(["auto", "off", "heat", "cool", "on"]))
    def user_sets_mode(self, mode):
        self.settings = self.settings.changed(mode=mode)
        self.thermostat.clear_latches()
        self.decide()

    @rule(target_temperature=st.floats(min_value=0.0, max_value=25.0, allow_nan=False),
          hysteresis=st.floats(min_value=0.1, max_value=1.0, allow_nan=False))
    def user_sets_band(self, target_temperature, hysteresis):
        self.settings = self.settings.changed(target=target_temperature, hysteresis=hysteresis)
        self.thermostat.clear_latches()
        self.decide()


ChamberSafety.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestChamberSafety = ChamberSafety.TestCase


# --- the check can fail ----------------------------------------------------------------------

class IgnoresTheDeadTime(Thermostat):
    def _start_hold(self, output, now):
        hold = super()._start_hold(output, now)
        return None if hold and hold[0] == "dead_time" else hold


class IgnoresMinimumTimes(Thermostat):
    def _min_on_hold(self, output, now):
        return None

    def _start_hold(self, output, now):
        hold = super()._start_hold(output, now)
        return None if hold and hold[0] == "min_off" else hold


class KeepsRunningWithoutAProbe(Thermostat):
    @property
    def fault(self):
        return None if self.beer.value is None else super().fault

    def _wanted(self, settings):
        if self.beer.value is None:
            return self.is_on(HEATER), self.is_on(COOLER), "probe lost: keeping the last state"
        return super()._wanted(settings)


class HeatsPastTheCutoffs(Thermostat):
    def _update_cutoffs(self, settings):
        self.heat_cutoff = None


class NoRunawayProtection(Thermostat):
    def _update_runaway(self, now):
        pass


class RunsBothAtOnce(Thermostat):
    def _start_hold(self, output, now):
        hold = super()._start_hold(output, now)
        return None if hold and hold[0] == "other_on" else hold

    def _wanted(self, settings):
        heat, cool, why = super()._wanted(settings)
        return heat or settings.mode == "heat", cool or settings.mode == "heat", why


@pytest.mark.parametrize("broken", [IgnoresTheDeadTime, IgnoresMinimumTimes, KeepsRunningWithoutAProbe,
                                    HeatsPastTheCutoffs, NoRunawayProtection, RunsBothAtOnce],
                         ids=lambda cls: cls.__name__)
def test_the_state_machine_finds_a_broken_thermostat(broken):
    class BrokenSafety(ChamberSafety):
        make_thermostat = staticmethod(lambda: broken(LIMITS, now=0.0, air_probe=True))

    with pytest.raises(AssertionError):
        run_state_machine_as_test(BrokenSafety, settings=settings(
            max_examples=300, stateful_step_count=40, deadline=None, database=None,
            phases=[Phase.generate], report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck), print_blob=False))


def test_the_check_sees_a_frozen_probe_keep_a_heater_on():
    check = SafetyCheck(LIMITS, start=0.0, tick=5.0)
    check.observe(15.0)
    assert check.outputs(1000.0, heater=True, cooler=False) == []
    now = 1000.0
    while now < 1000.0 + LIMITS.runaway_watch + 10 * 5.0:
        now += 5.0
        broken = check.outputs(now, heater=True, cooler=False)
        if broken:
            break
    assert broken and "without moving the beer" in broken[0]


def test_the_check_sees_the_compressor_restart_too_soon():
    check = SafetyCheck(LIMITS, start=0.0)
    check.observe(22.0)
    assert check.outputs(400.0, heater=False, cooler=True) == []
    assert check.outputs(700.0, heater=False, cooler=False) == []
    assert check.outputs(800.0, heater=False, cooler=True) == [
        "cooler switched ON after only 100.000 s off (min_off 300)"]


def test_nothing_on_in_a_chamber_without_that_output():
    check = SafetyCheck(ChamberLimits(heater=HEATER_TIMINGS, cooler=None), start=0.0)
    check.observe(22.0)
    assert check.outputs(1000.0, heater=False, cooler=True) == ["cooler on, but the chamber has none"]
    assert COOLER not in ChamberLimits(heater=HEATER_TIMINGS, cooler=None).outputs
