"""The monitor's tick, settings changes and thread, with simulated hardware and a real SQLite file."""

from __future__ import annotations

import threading
import time

import pytest

from beerpi.base.errors import Closed, ConfigError, ProbeError
from beerpi.base.wall_clock import EARLIEST_PLAUSIBLE
from beerpi.control.settings import ControlSettings, ControlState
from beerpi.hardware.probe import Probe, Reading
from beerpi.monitor.loop import Monitor
from beerpi.monitor.watchdog import Watchdog, limit_for
from beerpi.sim.fermenter import SimulatedHeater
from tests.conftest import WAIT
from tests.support.chambers import HEATER_ONLY, one_chamber_monitor
from tests.support.recorder import Recorder


def make_monitor(sim, store, settings=ControlSettings(), limits=HEATER_ONLY, **options) -> tuple[Monitor, Recorder]:
    probes, heater, fermenter = sim
    recorder = Recorder()
    monitor = one_chamber_monitor(probes, heater, store, recorder, settings, limits,
                                  control_clock=fermenter.clock, **options)
    return monitor, recorder


def test_a_step_samples_every_probe_stores_and_publishes_the_readings(sim, store):
    monitor, recorder = make_monitor(sim, store)
    readings = monitor.step()
    assert [r.probe for r in readings] == ["sim-wort", "sim-chamber"]
    assert all(isinstance(r.temperature, float) for r in readings)
    assert store.latest() == sorted(readings, key=lambda r: r.probe)
    assert [e for e in recorder.events if isinstance(e, Reading)] == readings


def test_a_tick_a_client_asked_for_is_published_as_shown_only_and_not_stored(sim, store):
    monitor, recorder = make_monitor(sim, store)
    scheduled = monitor.step()
    asked = monitor.step(store=False)
    assert all(r.stored for r in scheduled) and not any(r.stored for r in asked)
    assert store.latest() == sorted(scheduled, key=lambda r: r.probe)
    assert [e for e in recorder.events if isinstance(e, Reading)] == scheduled + asked


def test_a_cold_wort_switches_the_heater_on_and_announces_it(sim, store):
    probes, heater, _ = sim
    monitor, recorder = make_monitor(sim, store, ControlSettings(target=20.0))
    monitor.step()
    assert heater.is_on
    assert recorder.states()[-1].heater is True
    assert [e.kind for e in store.events_between(0, float("inf"))] == ["heater_on"]


def test_a_probe_fault_turns_the_heater_off_and_is_not_stored_as_a_reading(sim, store):
    probes, heater, _ = sim
    monitor, recorder = make_monitor(sim, store)
    monitor.step()
    assert heater.is_on
    probes[0].fault = ProbeError("CRC check failed", code="probe_crc")
    readings = monitor.step()
    assert not heater.is_on
    assert [r.probe for r in readings] == ["sim-chamber"]
    assert recorder.states()[-1].fault == "probe_crc"


def test_a_settings_change_is_applied_persisted_and_published(sim, store):
    probes, heater, _ = sim
    monitor, recorder = make_monitor(sim, store)
    monitor.step()
    state = monitor.submit_settings({"mode": "off", "target": 18.0}).result(timeout=5)
    assert (state.mode, state.target, state.heater) == ("off", 18.0, False)
    assert not heater.is_on
    assert store.load_settings() == {"mode": "off", "target": 18.0, "hysteresis": 0.3}
    assert recorder.states()[-1] == state


def test_an_invalid_settings_change_changes_nothing(sim, store):
    monitor, recorder = make_monitor(sim, store)
    future = monitor.submit_settings({"target": 41.0})
    with pytest.raises(ConfigError):
        future.result(timeout=5)
    assert monitor.chamber(None).settings == ControlSettings()
    assert store.load_settings() == {}
    assert recorder.states() == []


def test_the_thread_samples_on_schedule_and_leaves_the_heater_off_when_stopped(sim, store):
    probes, heater, _ = sim
    monitor, recorder = make_monitor(sim, store, interval=0.02)
    monitor.start()
    try:
        recorder.wait_for(lambda e: isinstance(e, ControlState) and e.heater)
        recorder.wait_for(lambda e: isinstance(e, Reading) and e is not recorder.events[0])
    finally:
        monitor.stop()
    assert not heater.is_on
    assert recorder.states()[-1].heater is False
    with pytest.raises(Closed):
        monitor.submit_settings({"target": 19.0})


def test_settings_submitted_while_running_are_applied_by_the_monitor_thread(sim, store):
    monitor, recorder = make_monitor(sim, store, interval=0.02)
    monitor.start()
    try:
        state = monitor.submit_settings({"hysteresis": 0.5}).result(timeout=5)
    finally:
        monitor.stop()
    assert state.hysteresis == 0.5


class ExplodingProbe(Probe):
    def __init__(self) -> None:
        super().__init__("boom", "boom")

    def read(self) -> float:
        raise RuntimeError("a bug, not a probe fault")


class ProbeReturningGarbage(Probe):
    """A driver with a bug: its read returns something that is not a temperature."""

    def __init__(self) -> None:
        super().__init__("garbage", "garbage")

    def read(self) -> float:
        return "not a number"  # type: ignore[return-value]


class HeaterWithABug(SimulatedHeater):
    """A relay driver with a bug: it switches on, then raises what no BeerPiError covers."""

    def on(self) -> None:
        super().on()
        raise RuntimeError("a bug after switching on")


def test_a_probe_with_a_bug_is_a_fault_of_its_own_and_control_carries_on(sim, store):
    probes, heater, fermenter = sim
    monitor, recorder = make_monitor(sim, store)
    monitor.probes += [ExplodingProbe(), ProbeReturningGarbage()]
    monitor.sampler.set_probes(monitor.probes)
    readings = monitor.step()
    assert [r.probe for r in readings] == ["sim-wort", "sim-chamber"]
    assert heater.is_on  # the wort is cold; the broken logged-only probe changes nothing


def test_every_output_is_switched_off_when_the_thread_crashes(sim, store):
    probes, _, fermenter = sim
    heater = HeaterWithABug(fermenter)
    recorder = Recorder()
    monitor = one_chamber_monitor(probes, heater, store, recorder, control_clock=fermenter.clock, interval=0.02)
    monitor.start()
    try:
        monitor._thread.join(timeout=10)
        assert not monitor._thread.is_alive()
        assert not heater.is_on
    finally:
        monitor.stop()


def test_readings_taken_while_the_clock_is_unset_stay_out_of_the_history(sim, store, caplog):
    """A Pi without a real-time clock starts in 1970, then synchronises and jumps to today."""
    probes, heater, _ = sim
    unset, today = 1.0, EARLIEST_PLAUSIBLE + 86400.0
    clock = {"now": unset}
    monitor, recorder = make_monitor(sim, store, ControlSettings(target=20.0),
                                     wall_clock=lambda: clock["now"])
    # Given a clock in 1970: control works (the cold wort is heated) and clients see readings
    first = monitor.step()
    assert heater.is_on and len(first) == 2
    monitor.step()
    # When the clock is set
    clock["now"] = today
    later = monitor.step()
    # Then only the readings dated by a set clock are stored, and the log says what happened
    assert {r.ts for r in store.readings_between(0, today + 1)} == {today}
    # heater_on was in 1970; the clock's jump to today is recorded
    assert [e.kind for e in store.events_between(0, today + 1)] == ["clock_jump"]
    assert {r.ts for r in later} == {today}
    assert "clock reads 1970-01-01" in caplog.text and "not set" in caplog.text
    assert "4 readings taken while it was unset were kept out of the history" in caplog.text


class HangingProbe(Probe):
    """A logging-only probe whose read blocks, as the kernel's 1-wire driver can."""

    def __init__(self) -> None:
        super().__init__("room", "room")
        self.hanging = threading.Event()
        self.release = threading.Event()

    def read(self) -> float:
        self.hanging.set()
        self.release.wait(WAIT)
        return 15.0


def test_a_hung_read_of_a_room_probe_neither_stops_control_nor_delays_a_setting(sim, store):
    """Reported: a hung read of the logging-only ambient probe stopped control (stale), and a
    client's set got no reply until the read returned."""
    probes, heater, fermenter = sim
    room = HangingProbe()
    recorder = Recorder()
    monitor = one_chamber_monitor([probes[0], room], heater, store, recorder, control_clock=fermenter.clock,
                                  interval=0.05)
    watchdog = Watchdog(monitor, limit_for(monitor.interval, monitor.read_timeout), check_every=0.02)
    monitor.start()
    watchdog.start()
    try:
        assert room.hanging.wait(WAIT)
        # The wort probe is read tick after tick, and the chamber is controlled
        recorder.wait_for_state(lambda s: s.heater and s.fault is None)
        first = len([e for e in recorder.events if isinstance(e, Reading)])
        recorder.wait_for(lambda e: isinstance(e, Reading) and
                          len([r for r in recorder.events if isinstance(r, Reading)]) >= first + 3)
        # A setting is applied at once, not after the read returns
        started = time.monotonic()
        state = monitor.submit_settings({"target": 18.0}).result(timeout=WAIT)
        assert state.target == 18.0 and time.monotonic() - started < monitor.read_timeout
        assert room.hanging.is_set() and not room.release.is_set()
        assert not any(s.fault for s in recorder.states() if s.heater is False and s.ts > state.ts)
        assert not any(s.fault == "stale" for s in recorder.states())
        assert not watchdog.tripped
    finally:
        room.release.set()
        watchdog.stop()
        monitor.stop()
