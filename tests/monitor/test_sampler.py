"""The sampler: real W1Probes on a fake sysfs tree, a hung read reproduced with a FIFO.

Opening a FIFO for reading blocks until a writer opens it, as a read of ``w1_slave``
blocks when the kernel's 1-wire driver hangs. Every wait here is bounded, and every
reader left blocked is released at teardown so no thread outlives its test.
"""

from __future__ import annotations

import errno
import logging
import threading
import time

import pytest

from beerpi.base.errors import Closed
from beerpi.control.faults import FAULT_HINTS
from beerpi.hardware.ds18b20 import W1Probe, bulk_trigger
from beerpi.hardware.probe import Probe
from beerpi.monitor.sampler import (
    CONVERSION_TIME,
    PROBE_BUG,
    PROBE_HUNG,
    TICK_MARGIN,
    Sample,
    Sampler,
    read_time,
    worst_tick,
)
from beerpi.monitor.watchdog import STALE_AFTER_INTERVALS, limit_for
from tests.support.sampler_probes import (
    BOUND,
    READ_TIMEOUT,
    BuggyProbe,
    CountingW1Probe,
    Fifo,
    GatedProbe,
    stop_releasing,
    w1_slave_text,
)
from tests.support.w1tree import W1Tree
from tests.support.waiting import poll

GOOD = "28-000000000001"
HUNG = "28-000000000002"
LATER = "28-000000000003"
SLACK = 3.0  # s: a loaded test machine may be this late; bounds, never synchronisation


def hung_and_good(w1_tree: W1Tree, fifos, samplers) -> tuple[Sampler, Fifo, CountingW1Probe]:
    w1_tree.set(GOOD, 18.5)
    fifo = fifos(w1_tree, HUNG)
    hung = CountingW1Probe(HUNG, "ambient", w1_tree.root)
    sampler = samplers([W1Probe(GOOD, "wort", w1_tree.root), hung], hung=[fifo])
    return sampler, fifo, hung


# --- reading -------------------------------------------------------------------------------

def test_a_tick_reads_every_probe(w1_tree, samplers):
    # Given two probes on the bus
    w1_tree.set(GOOD, 18.5)
    w1_tree.set(HUNG, 12.25)
    sampler = samplers([W1Probe(GOOD, "wort", w1_tree.root), W1Probe(HUNG, "ambient", w1_tree.root)])
    # When a tick runs
    assert sorted(sampler.begin()) == [GOOD, HUNG]
    assert sampler.wait(BOUND)
    samples = sampler.collect()
    # Then both values are there, and nothing is left running
    assert {pid: s.value for pid, s in samples.items()} == {GOOD: 18.5, HUNG: 12.25}
    assert all(s.fault is None and s.duration >= 0 for s in samples.values())
    assert sampler.busy() == []
    # And a result is reported once
    assert sampler.collect() == {}


def test_a_probe_error_is_reported_by_its_code(w1_tree, samplers):
    w1_tree.crc_failure(GOOD)
    sampler = samplers([W1Probe(GOOD, "wort", w1_tree.root)])
    samples = sampler.tick()
    assert samples[GOOD].value is None and samples[GOOD].fault == "probe_crc"


def test_reads_run_at_the_same_time(samplers):
    # Given four probes whose reads can only return once all four are running at once
    barrier = threading.Barrier(4, timeout=BOUND)

    class TogetherProbe(Probe):
        def read(self) -> float:
            barrier.wait()
            return 20.0

    sampler = samplers([TogetherProbe(f"28-00000000001{i}", "p") for i in range(4)], read_timeout=BOUND)
    # When a tick runs
    samples = sampler.tick()
    # Then every read returned (a BrokenBarrierError would be probe_error)
    assert [s.value for s in samples.values()] == [20.0] * 4


# --- a hung probe --------------------------------------------------------------------------

def test_a_hung_probe_does_not_hold_up_the_others(w1_tree, fifos, samplers):
    # Given a good probe and one whose read hangs in the kernel (the real library blocks on the FIFO)
    sampler, fifo, hung = hung_and_good(w1_tree, fifos, samplers)
    for tick in range(3):
        # When a tick waits for its reads up to the read timeout
        started = time.monotonic()
        begun = sampler.begin()
        done = sampler.wait(READ_TIMEOUT)
        samples = sampler.collect()
        elapsed = time.monotonic() - started
        # Then it ends by its deadline with the good probe's value: the first tick waits the
        # read timeout for the hung read, later ticks only for the reads they started
        if tick == 0:
            assert not done and elapsed >= READ_TIMEOUT
        else:
            assert done
        assert elapsed < READ_TIMEOUT + SLACK
        assert samples[GOOD] == Sample(18.5, None, samples[GOOD].duration)
        # And the other probe is reported hung, since at least the read timeout
        assert samples[HUNG].fault == PROBE_HUNG and samples[HUNG].value is None
        assert samples[HUNG].duration >= READ_TIMEOUT
        # And the hung read is never started a second time
        assert begun == ([GOOD, HUNG] if tick == 0 else [GOOD])
        assert hung.reads == 1
        assert sampler.busy() == [HUNG]


def test_a_hung_probe_recovers_when_its_read_returns(w1_tree, fifos, samplers):
    # Given a probe reported hung
    sampler, fifo, hung = hung_and_good(w1_tree, fifos, samplers)
    assert sampler.tick()[HUNG].fault == PROBE_HUNG
    # When the kernel answers (the FIFO is fed) and the probe's file is a normal one again
    w1_tree.set(HUNG, 22.0)
    poll(lambda: fifo.feed(w1_slave_text(21.5)), timeout=BOUND)
    poll(lambda: HUNG not in sampler.busy(), timeout=BOUND)
    # Then the late value is reported, and the next tick reads the probe again
    assert sampler.collect()[HUNG].value == 21.5
    samples = sampler.tick()
    assert samples[HUNG] == Sample(22.0, None, samples[HUNG].duration)
    assert hung.reads == 2


def test_a_read_within_the_timeout_is_not_reported_yet(samplers):
    # Given a probe whose read is under way but not late
    probe = GatedProbe(GOOD, 17.0)
    sampler = samplers([probe], read_timeout=BOUND)
    sampler.begin()
    assert probe.entered.wait(BOUND)
    # Then it is neither a value nor a fault yet
    assert sampler.collect() == {}
    assert not sampler.wait(0)
    # And when it returns, wait() ends and the value is there
    probe.release.set()
    assert sampler.wait(BOUND)
    assert sampler.collect()[GOOD].value == 17.0


def test_on_done_is_called_when_the_last_read_returns(samplers):
    done = threading.Event()
    first, second = GatedProbe(GOOD), GatedProbe(LATER)
    sampler = samplers([first, second], read_timeout=BOUND, on_done=done.set)
    sampler.begin()
    first.release.set()
    assert first.entered.wait(BOUND) and second.entered.wait(BOUND)
    assert not done.is_set()
    second.release.set()
    assert done.wait(BOUND)


# --- bugs in probes ------------------------------------------------------------------------

def test_an_unexpected_exception_is_a_fault_logged_once(samplers, caplog):
    # Given a probe with a bug
    probe = BuggyProbe(GOOD)
    sampler = samplers([probe])
    # When it is read on several ticks
    with caplog.at_level(logging.ERROR, logger="beerpi.sampler"):
        faults = [sampler.tick()[GOOD].fault for _ in range(3)]
    # Then each tick reports probe_error, the bug is logged once with its traceback
    assert faults == [PROBE_BUG] * 3
    records = [r for r in caplog.records if r.name == "beerpi.sampler"]
    assert len(records) == 1 and records[0].exc_info is not None
    # And the worker lives on: once fixed, the probe is read
    probe.fixed = True
    assert sampler.tick()[GOOD].value == 19.5


# --- the probe list ------------------------------------------------------------------------

def test_probes_found_later_are_read_and_dropped_ones_are_not(w1_tree, samplers):
    w1_tree.set(GOOD, 18.0)
    w1_tree.set(LATER, 4.0)
    sampler = samplers([W1Probe(GOOD, "wort", w1_tree.root)])
    assert list(sampler.tick()) == [GOOD]
    # When a probe is found later
    sampler.set_probes([W1Probe(GOOD, "wort", w1_tree.root), W1Probe(LATER, "ambient", w1_tree.root)])
    assert sampler.tick() == {GOOD: Sample(18.0, None, pytest.approx(0, abs=BOUND)),
                              LATER: Sample(4.0, None, pytest.approx(0, abs=BOUND))}
    # And when one is dropped
    sampler.set_probes([W1Probe(LATER, "ambient", w1_tree.root)])
    assert list(sampler.tick()) == [LATER]
    assert sampler.probe_ids == [LATER]


def test_dropping_a_hung_probe_abandons_its_read(w1_tree, fifos, samplers):
    sampler, fifo, _ = hung_and_good(w1_tree, fifos, samplers)
    assert sampler.tick()[HUNG].fault == PROBE_HUNG
    sampler.set_probes([W1Probe(GOOD, "wort", w1_tree.root)])
    assert sampler.busy() == []
    assert list(sampler.tick()) == [GOOD]


# --- bulk conversion -----------------------------------------------------------------------

def test_the_bulk_trigger_runs_before_the_reads(w1_tree, samplers):
    # Given a bus master that supports bulk conversion
    w1_tree.set(GOOD, 18.5)
    master = w1_tree.root / "w1_bus_master1"
    master.mkdir()
    (master / "therm_bulk_read").write_text("0\n")
    trigger = bulk_trigger(w1_tree.root)
    assert trigger is not None
    order: list[str] = []

    def recording_trigger() -> None:
        trigger()
        order.append("trigger")

    class RecordingProbe(W1Probe):
        def read(self) -> float:
            order.append("read")
            return super().read()

    sampler = samplers([RecordingProbe(GOOD, "wort", w1_tree.root)], bulk_trigger=recording_trigger)
    # When a tick runs
    assert sampler.tick()[GOOD].value == 18.5
    # Then the conversion was triggered first
    assert order == ["trigger", "read"]
    assert (master / "therm_bulk_read").read_text() == "trigger\n"


def test_a_stuck_bulk_trigger_delays_reads_by_at_most_the_timeout(w1_tree, samplers):
    w1_tree.set(GOOD, 18.5)
    release = threading.Event()
    sampler = samplers([W1Probe(GOOD, "wort", w1_tree.root)], read_timeout=READ_TIMEOUT,
                       bulk_trigger=lambda: release.wait(BOUND) and None)
    try:
        assert sampler.begin() == [GOOD]
        assert sampler.wait(READ_TIMEOUT + SLACK)
        assert sampler.collect()[GOOD].value == 18.5
    finally:
        release.set()


def test_a_failing_bulk_trigger_is_logged_and_the_probes_are_read(w1_tree, samplers, caplog):
    w1_tree.set(GOOD, 18.5)

    def broken() -> None:
        raise OSError(errno.ENOENT, "No such file or directory")

    sampler = samplers([W1Probe(GOOD, "wort", w1_tree.root)], bulk_trigger=broken)
    with caplog.at_level(logging.WARNING, logger="beerpi.sampler"):
        values = [sampler.tick()[GOOD].value for _ in range(2)]
    assert values == [18.5, 18.5]
    assert len([r for r in caplog.records if "bulk conversion" in r.getMessage()]) == 1


# --- shutting down -------------------------------------------------------------------------

def test_close_does_not_wait_for_a_hung_read(w1_tree, fifos, samplers):
    sampler, fifo, _ = hung_and_good(w1_tree, fifos, samplers)
    sampler.begin()
    poll(lambda: GOOD not in sampler.busy(), timeout=BOUND)
    started = time.monotonic()
    assert sampler.close(0.2) == [HUNG]
    assert time.monotonic() - started < SLACK
    with pytest.raises(Closed):
        sampler.begin()
    # And the hung reader ends once the bus answers
    stop_releasing(sampler, [fifo])


# --- the timing model ----------------------------------------------------------------------

def test_eight_probes_on_one_bus_fit_five_seconds_only_with_the_bulk_trigger():
    assert read_time(8, bulk=False) > 5.0
    assert CONVERSION_TIME < read_time(8, bulk=True) < 1.5
    assert read_time(0, bulk=True) == 0.0


def test_the_watchdog_limit_covers_a_tick_cut_off_at_the_read_timeout():
    assert worst_tick(2.0) == 2.0 + TICK_MARGIN
    assert limit_for(5.0, 2.0) == STALE_AFTER_INTERVALS * 5.0
    assert limit_for(5.0, 20.0) == 5.0 + 20.0 + TICK_MARGIN


def test_probe_hung_has_a_hint():
    assert "1-wire bus may be hung" in FAULT_HINTS[PROBE_HUNG]
