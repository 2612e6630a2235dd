"""The fail-safe end to end inside the process: real w1thermsensor on a fake sysfs tree,
the real monitor and watchdog, a simulated heater. Whatever goes wrong with the
temperature, the heater ends OFF, the fault is said, and control comes back by itself."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from beerpi.control.plausibility import SampleValidator
from beerpi.control.settings import ControlSettings
from beerpi.hardware.ds18b20 import W1Probe
from beerpi.hardware.probe import Probe
from beerpi.monitor.watchdog import Watchdog
from beerpi.sim.fermenter import SimulatedFermenter, SimulatedHeater
from tests.support.chambers import one_chamber_monitor
from tests.support.recorder import Recorder

WORT = "28-0000000000a1"
CHAMBER = "28-0000000000b2"


@pytest.fixture
def rig(w1_tree, store):
    """Two real-library probes on the tree (wort controls), a simulated heater, no minimum times."""
    w1_tree.set(WORT, 18.0)
    w1_tree.set(CHAMBER, 16.0)
    root = Path(w1_tree.root)
    probes = [W1Probe(WORT, "wort", root), W1Probe(CHAMBER, "chamber", root)]
    heater = SimulatedHeater(SimulatedFermenter())
    recorder = Recorder()
    now = [0.0]
    monitor = one_chamber_monitor(probes, heater, store, recorder, ControlSettings(target=20.0),
                                  control_clock=lambda: now[0], validator=SampleValidator(max_jump=5.0))
    monitor.step()
    assert heater.is_on, "a cold wort switches the heater on"
    return monitor, heater, recorder, w1_tree


def stored_temperatures(store, probe: str) -> list[float]:
    return [r.temperature for r in store.readings_between(0, float("inf"), probe)]


@pytest.mark.parametrize("break_probe, code", [
    (lambda tree: tree.crc_failure(WORT), "probe_crc"),
    (lambda tree: tree.reset_value(WORT), "probe_reset"),
    (lambda tree: tree.empty(WORT), "probe_crc"),
    (lambda tree: tree.remove(WORT), "probe_missing"),
    (lambda tree: tree.set(WORT, 126.0), "probe_out_of_range"),
    (lambda tree: tree.set(WORT, 24.0), "probe_jump"),
], ids=["crc", "reset-85", "empty-file", "probe-gone", "out-of-range", "jump"])
def test_a_bad_sample_turns_the_heater_off_at_once_and_three_good_ones_recover(rig, store, break_probe, code):
    monitor, heater, recorder, tree = rig
    # When the control probe's next sample is bad
    break_probe(tree)
    monitor.step()
    # Then the heater is off within that one sample, the fault is published and stored
    assert not heater.is_on
    assert recorder.state.fault == code and recorder.state.heater is False
    assert [e.detail["code"] for e in store.events_between(0, float("inf")) if e.kind == "fault"] == [code]
    # And the bad value never became a reading
    assert 85.0 not in stored_temperatures(store, WORT) and 126.0 not in stored_temperatures(store, WORT)
    # When good values come back, two samples are not enough...
    tree.set(WORT, 18.0)
    monitor.step()
    monitor.step()
    assert recorder.state.fault == code and not heater.is_on
    # ...the third clears the fault and control resumes
    monitor.step()
    assert recorder.state.fault is None and heater.is_on
    assert any(e.kind == "fault_cleared" for e in store.events_between(0, float("inf")))


def test_a_fault_on_a_logging_probe_does_not_stop_the_heater(rig, store):
    monitor, heater, recorder, tree = rig
    tree.crc_failure(CHAMBER)
    readings = monitor.step()
    assert heater.is_on and recorder.state.fault is None
    assert [r.probe for r in readings] == [WORT]


def test_over_temperature_cuts_off_even_in_manual_on_and_latches(rig):
    monitor, heater, recorder, tree = rig
    monitor.change_settings({"mode": "on"})
    for value in (22.0, 26.0, 30.0):  # climbs in plausible steps
        tree.set(WORT, value)
        monitor.step()
    assert not heater.is_on and recorder.state.fault == "overtemp"
    tree.set(WORT, 25.0)  # below the cutoff, still above target 20: stays latched
    monitor.step()
    assert not heater.is_on and recorder.state.fault == "overtemp"
    for value in (21.0, 19.5):  # back below target: released, manual on resumes
        tree.set(WORT, value)
        monitor.step()
    assert heater.is_on and recorder.state.fault is None


class HangingProbe(Probe):
    """A probe whose read blocks until released, like a hung 1-wire bus."""

    def __init__(self) -> None:
        super().__init__("28-hang", "wort")
        self.hang = threading.Event()
        self.release = threading.Event()
        self.hanging = threading.Event()

    def read(self) -> float:
        if self.hang.is_set():
            self.hanging.set()
            self.release.wait(30)
        return 18.0


def test_the_watchdog_switches_off_a_heater_whose_monitor_has_stalled(store):
    probe = HangingProbe()
    heater = SimulatedHeater(SimulatedFermenter())
    recorder = Recorder()
    monitor = one_chamber_monitor([probe], heater, store, recorder, ControlSettings(target=20.0), interval=0.05)
    watchdog = Watchdog(monitor, limit=0.3, check_every=0.02)
    monitor.start()
    watchdog.start()
    try:
        recorder.wait_for_state(lambda s: s.heater)
        # When the bus hangs in the middle of a read
        probe.hang.set()
        assert probe.hanging.wait(10)
        # Then the watchdog turns the heater off and says why
        stale = recorder.wait_for_state(lambda s: s.fault == "stale")
        assert stale.heater is False and not heater.is_on
        # And when the bus answers again, three good samples later control resumes
        probe.hang.clear()
        probe.release.set()
        recorder.wait_for_state(lambda s: s.fault is None and s.heater and s.ts > stale.ts)
    finally:
        probe.release.set()
        watchdog.stop()
        monitor.stop()
    assert not heater.is_on
