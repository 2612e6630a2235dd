"""The monitor's tick, settings changes and thread, with simulated hardware and a real SQLite file."""

from __future__ import annotations


import pytest

from beerpi.clock import EARLIEST_PLAUSIBLE
from beerpi.control import ControlSettings, ControlState
from beerpi.errors import Closed, ConfigError, ProbeError
from beerpi.monitor import Monitor
from beerpi.probe import Reading

from tests.chambers import HEATER_ONLY, one_chamber_monitor
from tests.recorder import Recorder


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


class ExplodingProbe:
    id, name = "boom", "boom"

    def read(self) -> float:
        raise RuntimeError("a bug, not a probe fault")


def test_the_heater_is_switched_off_when_the_thread_crashes(sim, store):
    probes, heater, fermenter = sim
    recorder = Recorder()
    monitor = one_chamber_monitor([probes[0], ExplodingProbe()], heater, store, recorder,
                                  control_clock=fermenter.clock, interval=0.02)
    heater.on()
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
    assert [e.kind for e in store.events_between(0, today + 1)] == []  # heater_on was in 1970
    assert {r.ts for r in later} == {today}
    assert "clock reads 1970-01-01" in caplog.text and "not set" in caplog.text
    assert "4 readings taken while it was unset were kept out of the history" in caplog.text
