"""WriteBehind: the monitor never waits, writes are batched, and an outage loses and duplicates nothing.

Backends are real: SQLite files, and a MongoDB wire server (secantusdb) stopped and started
again. ``Switchable`` is a real SQLite repository whose writes can be made to fail on demand:
a fault-injection seam for the timing and ordering tests, beside the real outages.
"""

from __future__ import annotations

import logging
import math
import time

import pytest

from beerpi.base.errors import StorageError
from beerpi.repository import Bucket, Event, MinuteRollup, writer_thread
from beerpi.repository.spool import Spool
from beerpi.repository.unavailable import Unavailable
from beerpi.repository.writer import WriteBehind
from tests.support.write_behind import T0, WAIT, Switchable, poll, readings


@pytest.mark.parametrize("spool_first", [True, False])
def test_the_monitor_does_not_wait_for_a_stuck_database(backend, make_store, spool_first):
    # Given a database that does not answer
    store = make_store(backend, spool_first)
    backend.gate.clear()
    store.add_readings(readings(1))
    poll(lambda: backend.attempts, what="the first write")
    # When the monitor hands over more readings, they are taken at once
    started = time.monotonic()
    for i in range(1, 50):
        store.add_readings(readings(1, start=i))
    assert time.monotonic() - started < 0.5
    # And the status reports them as a backlog once the write takes longer than a batch
    poll(lambda: store.status.backlog == 50, what="the backlog to be reported")
    # And when the database answers again, everything is stored in order
    backend.gate.set()
    assert store.flush(WAIT)
    assert backend.readings_between(0, T0 + 100) == readings(50)


@pytest.mark.parametrize("spool_first", [True, False])
def test_readings_handed_over_together_are_written_in_one_transaction(backend, make_store, spool_first):
    store = make_store(backend, spool_first, batch_delay=0.5)
    for i in range(40):
        store.add_readings(readings(1, start=i))
    assert store.status.backlog == 0  # waiting for their batch is no backlog
    assert store.flush(WAIT)
    assert backend.batches == [40]


@pytest.mark.parametrize("spool_first", [True, False])
def test_an_outage_loses_nothing_duplicates_nothing_and_keeps_the_order(backend, make_store, spool_first, caplog):
    caplog.set_level(logging.INFO, logger="beerpi.repository.writer")
    store = make_store(backend, spool_first)
    store.add_readings(readings(10))
    assert store.flush(WAIT)
    # Given the database goes down while readings, an event and a settings change keep coming
    backend.down.set()
    store.add_readings(readings(10, start=10))
    event = Event(T0 + 2.05, "heater_on", {"source": "control", "reason": "below the band"})
    store.add_event(event)
    store.save_settings({"target": 19.0})
    store.add_readings(readings(10, start=20))
    poll(lambda: not store.status.ok, what="the failure to be noticed")
    # 20 readings, the event, and the setting twice: kept durably when made, then queued in order
    poll(lambda: store.status.backlog == 20 and len(store.spool) == 23, what="everything to be spooled")
    assert not store.flush(0.3)
    # Then the waiting setting is what load_settings reports, even with the database down
    assert store.load_settings()["target"] == 19.0
    # When it comes back
    backend.down.clear()
    assert store.flush(WAIT)
    # Then every reading is stored once, the event and the setting too
    assert backend.readings_between(0, T0 + 100) == readings(30)
    assert [e.id for e in backend.events_between(0, T0 + 100)] == [event.id]
    assert backend.load_settings() == {"target": 19.0}
    assert store.status.as_dict() == {"backlog": 0, "ok": True, "dropped": 0, "error": None, "durable": True}
    messages = [r.getMessage() for r in caplog.records]
    assert sum("storage backlog started" in m for m in messages) == 1
    assert sum("storage backlog cleared" in m for m in messages) == 1


def test_retries_back_off_exponentially_up_to_the_cap(backend, make_store):
    store = make_store(backend, retry=(0.05, 0.2))
    backend.down.set()
    store.add_readings(readings(1))
    poll(lambda: len(backend.attempts) >= 6, what="six attempts")
    gaps = [b - a for a, b in zip(backend.attempts, backend.attempts[1:])][:5]
    for gap, planned in zip(gaps, (0.05, 0.1, 0.2, 0.2, 0.2)):
        assert planned * 0.9 <= gap < planned + 0.5
    backend.down.clear()
    assert store.flush(WAIT)


def test_without_the_database_settings_come_from_the_last_known_ones(tmp_path, make_store):
    store = make_store(Switchable(tmp_path / "beerpi.sqlite3"))
    store.save_settings({"target": 21.0, "mode": "auto"})
    assert store.flush(WAIT)
    store.close()
    unreachable = Switchable(tmp_path / "beerpi.sqlite3")
    unreachable.down.set()
    restarted = make_store(unreachable)
    assert restarted.load_settings() == {"target": 21.0, "mode": "auto"}


def test_closing_during_an_outage_leaves_the_rest_in_the_spool_for_the_next_start(tmp_path, make_store):
    backend = Switchable(tmp_path / "beerpi.sqlite3")
    store = make_store(backend)
    backend.down.set()
    store.add_readings(readings(5))
    poll(lambda: not store.status.ok, what="the failure")
    store.close(timeout=2)
    # The next process delivers them before its own
    again = make_store(Switchable(tmp_path / "beerpi.sqlite3"))
    again.add_readings(readings(5, start=5))
    assert again.flush(WAIT)
    assert again.readings_between(0, T0 + 100) == readings(10)


def test_a_full_queue_refuses_readings_and_reports_the_loss(backend, make_store, caplog):
    store = make_store(backend, spool_first=False, queue_items=3, batch_delay=0.0)
    backend.gate.clear()
    store.add_readings(readings(1))
    poll(lambda: backend.attempts, what="the writer to be stuck in the database")
    for i in range(1, 4):
        store.add_readings(readings(1, start=i))
    with caplog.at_level(logging.ERROR), pytest.raises(StorageError, match="queue is full"):
        store.add_readings(readings(1, start=4))
    assert store.status.dropped == 1
    assert any("STORAGE QUEUE FULL" in r.message for r in caplog.records)
    backend.gate.set()
    assert store.flush(WAIT)
    store.add_readings(readings(1, start=5))
    assert store.flush(WAIT)
    assert backend.readings_between(0, T0 + 100) == readings(4) + readings(1, start=5)
    [dropped] = backend.events_between(0, float("inf"))
    assert dropped.kind == "readings_dropped" and dropped.detail["count"] == 1


def test_when_the_spool_refuses_too_memory_stays_bounded_and_every_loss_is_counted(
        backend, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(writer_thread, "CARRY_READINGS", 50)
    store = WriteBehind(backend, Spool(tmp_path / "spool.sqlite3"), batch_delay=0.01, retry=(0.05, 0.2))
    # Given the database is down and the spool's disk is full (SQLite's own page limit)
    backend.down.set()
    pages = store.spool._db.execute("PRAGMA page_count").fetchone()[0]
    store.spool._db.execute(f"PRAGMA max_page_count={pages}")
    # When readings keep coming
    with caplog.at_level(logging.ERROR):
        for i in range(120):
            store.add_readings(readings(1, start=i))
        # Then at most CARRY_READINGS wait in memory; the older ones are dropped, logged and counted
        poll(lambda: store.status.dropped >= 70, what="the oldest readings to be dropped")
        # And at close, what the spool still refuses is logged and counted, not forgotten
        store.close(timeout=2)
    assert store.status.dropped == 120
    messages = [r.getMessage() for r in caplog.records]
    assert any("READINGS LOST" in m and "oldest" in m for m in messages)
    assert any("READINGS LOST" in m and "refused the last" in m for m in messages)


def test_minute_rollups_go_straight_to_the_database_and_one_not_opened_refuses_them(backend, make_store, tmp_path):
    # Given readings still batched in memory
    store = make_store(backend, spool_first=False, batch_delay=60.0)
    store.add_readings(readings(900))  # a minute and a half, ten a second
    first_minute = T0 - T0 % 60
    # Then the minute roll-ups read include them
    assert [(m.ts, m.count) for m in store.iter_minute_rollups(T0 + 120)] == [(first_minute, 600),
                                                                               (first_minute + 60, 300)]
    # And minutes copied in before the boundary are stored at once, history counting them
    store.prune_raw(T0, 1000)
    store.add_minute_rollups([MinuteRollup("sim-wort", first_minute - 60, 17.0, 19.0, 36.0, 2)])
    assert store.history("sim-wort", T0 - 120, T0 + 120, 4)[0] == Bucket(first_minute - 60, 17.0, 18.0, 19.0, 2)
    # And a database that could not be opened refuses them with its reason
    down = WriteBehind(Unavailable("cannot open the database file: check the disk"),
                       Spool(tmp_path / "other-spool.sqlite3"), spool_first=False)
    try:
        with pytest.raises(StorageError, match="check the disk"):
            list(down.iter_minute_rollups(T0))
        with pytest.raises(StorageError, match="check the disk"):
            down.add_minute_rollups([MinuteRollup("sim-wort", first_minute - 60, 17.0, 19.0, 36.0, 2)])
    finally:
        down.close(timeout=2)


def test_readings_handed_over_at_once_count_as_stored_only_when_all_of_them_are(backend, make_store):
    # Given a database that takes the first thousand readings, then is held
    store = make_store(backend, spool_first=False)
    write = backend.add_readings

    def write_then_hold(batch):
        write(batch)
        if len(backend.batches) == 1:
            backend.gate.clear()

    backend.add_readings = write_then_hold
    # When 2500 readings are handed over in one call (more than one transaction)
    store.add_readings(readings(2500))
    poll(lambda: backend.batches == [1000], what="the first thousand written")
    # Then a flush does not report them stored while the rest wait
    assert not store.flush(timeout=0.5)
    backend.gate.set()
    assert store.flush(WAIT)
    assert len(backend.readings_between(0, math.inf)) == 2500
