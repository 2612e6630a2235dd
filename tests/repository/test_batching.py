"""The writer's long batches: readings wait for many samples, events do not, and reads are never stale.

Real SQLite files; the writer thread runs for real.
"""

from __future__ import annotations

import time

import pytest

from beerpi.hardware.probe import Reading
from beerpi.repository import Event
from beerpi.repository.batching import BATCH_SAMPLES, EVENT_DELAY, MAX_BATCH_DELAY, batch_delay_for, groups
from beerpi.repository.spool import SettingsChange, Spool
from beerpi.repository.sqlite import SqliteRepository
from beerpi.repository.writer import WriteBehind
from tests.support.waiting import poll

T0 = 1_763_712_000.0
LONG = 600.0  # a batch delay no test waits out


class Counting(SqliteRepository):
    """A real SQLite repository that counts its write transactions."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.transactions = 0

    def add_readings(self, readings):
        super().add_readings(readings)
        self.transactions += 1

    def add_event(self, event):
        super().add_event(event)
        self.transactions += 1


@pytest.fixture
def store(tmp_path):
    backend = Counting(tmp_path / "b.sqlite3")
    writer = WriteBehind(backend, Spool(tmp_path / "spool.sqlite3"), spool_first=False, batch_delay=LONG)
    yield writer
    writer.close(timeout=2)


def sample(i: int) -> list[Reading]:
    return [Reading(T0 + 5 * i, probe, probe, 18.0 + i / 100) for probe in ("wort", "air")]


@pytest.mark.parametrize("interval, samples", [(5.0, BATCH_SAMPLES), (5 / 960, BATCH_SAMPLES), (60.0, 5)])
def test_a_batch_holds_a_fixed_number_of_samples_up_to_five_minutes(interval, samples):
    delay = batch_delay_for(interval)
    assert delay <= MAX_BATCH_DELAY
    # The first sample at 0 and the last at (samples - 1) intervals fall inside it, the next not
    assert (samples - 1) * interval < delay < samples * interval


def test_readings_wait_for_their_batch_but_an_event_ends_it_at_once(store):
    # Given readings waiting in a long batch
    for i in range(3):
        store.add_readings(sample(i))
    assert store.backend.transactions == 0
    # When the heater switches
    started = time.monotonic()
    store.add_event(Event(T0 + 11, "heater", {"on": True}))
    # Then the batch, with the event, is written within EVENT_DELAY (and the scheduling slack)
    poll(lambda: store.backend.transactions >= 2, timeout=10)
    assert time.monotonic() - started < EVENT_DELAY + 2.0
    assert len(store.backend.readings_between(0, T0 + 100)) == 6
    assert [e.kind for e in store.backend.events_between(0, T0 + 100)] == ["heater"]


def test_a_history_read_first_writes_what_waits_in_memory(store):
    # Given samples waiting in a batch that would be written minutes from now
    for i in range(12):
        store.add_readings(sample(i))
    assert store.backend.readings_between(0, T0 + 100) == []
    # When a chart asks for the history
    buckets = store.history("wort", T0, T0 + 60, 10)
    # Then it has every sample taken so far, in one transaction
    assert sum(b.count for b in buckets) == 12
    assert store.backend.transactions == 1
    assert len(store.readings_between(0, T0 + 100)) == 24


def test_readings_are_written_together_past_events_and_settings_changes_merged():
    # Given a spool's worth of samples, each followed by the profile's position, and an event
    r = [Reading(T0 + i, "sim-wort", "wort", 18.0) for i in range(4)]
    event = Event(T0 + 1.5, "heater_on", {})
    items = [r[0], SettingsChange({"p": 0}), r[1], event, SettingsChange({"p": 1, "q": 1}), r[2], r[3],
             SettingsChange({"p": 2})]
    # When they are split into writes
    writes = list(groups(items))
    # Then the readings are one write, each event one, the settings one (the later value wins),
    # and each write says how many items from the first are written once it is
    assert writes == [(1, "readings", r), (1, "event", event), (8, "settings", SettingsChange({"p": 2, "q": 1}))]
