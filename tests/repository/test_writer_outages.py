"""WriteBehind through real outages: an SQLite file locked by another program, a MongoDB wire server
stopped and started again or slow to answer; nothing lost, nothing doubled, the order kept."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

import pytest

from beerpi.hardware.probe import Reading
from beerpi.repository import Event, open_repository, writer
from beerpi.repository import sqlite as sqlite_backend
from beerpi.repository.spool import Spool
from beerpi.repository.sqlite import SqliteRepository
from beerpi.repository.writer import WriteBehind
from tests.support.write_behind import T0, WAIT, poll, readings


def test_a_real_outage_of_sqlite_a_lock_held_by_another_program(tmp_path, make_store, monkeypatch):
    monkeypatch.setattr(sqlite_backend, "BUSY_TIMEOUT", 0.1)
    path = tmp_path / "locked.sqlite3"
    store = make_store(SqliteRepository(path), spool_first=False)
    store.add_readings(readings(5))
    assert store.flush(WAIT)
    # Given another program holds the write lock
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    store.add_readings(readings(5, start=5))
    poll(lambda: not store.status.ok, what="the lock to be noticed")
    store.add_readings(readings(5, start=10))
    poll(lambda: store.status.backlog == 10, what="the backlog")
    # When it lets go
    other.execute("ROLLBACK")
    other.close()
    assert store.flush(WAIT)
    with SqliteRepository(path) as reader:
        assert reader.readings_between(0, T0 + 100) == readings(15)


@pytest.fixture
def mongo_server(tmp_path):
    pytest.importorskip("beerpi.repository.mongo")
    secantus = pytest.importorskip("secantus")
    data = tmp_path / "mongo-data"
    server = secantus.SecantusDBServer(host="127.0.0.1", port=0, storage_path=str(data))
    server.start()
    holder = {"server": server}

    def restart() -> None:
        holder["server"] = secantus.SecantusDBServer(host="127.0.0.1", port=server.port, storage_path=str(data))
        holder["server"].start()

    holder["restart"] = restart
    yield holder
    holder["server"].stop()


def test_a_real_outage_of_mongodb_stopped_and_started_again(mongo_server, make_store):
    server = mongo_server["server"]
    url = f"mongodb://127.0.0.1:{server.port}/beerpi?serverSelectionTimeoutMS=300&connectTimeoutMS=300"
    store = make_store(open_repository(url), spool_first=True)
    store.add_readings(readings(10))
    assert store.flush(WAIT)
    # Given the server goes away while readings keep coming
    server.stop()
    for i in range(10, 40):
        store.add_readings(readings(1, start=i))
        time.sleep(0.01)  # pacing, like a monitor's ticks; not a synchronisation
    poll(lambda: not store.status.ok, what="the outage to be noticed")
    assert store.status.backlog >= 1
    # When it is started again on the same data
    mongo_server["restart"]()
    assert store.flush(WAIT)
    # Then every reading is there exactly once, in order
    with open_repository(url) as reader:
        assert reader.readings_between(0, T0 + 100) == readings(40)


def test_status_is_not_ok_while_a_write_waits_on_the_database_without_an_answer(backend, make_store, monkeypatch):
    monkeypatch.setattr(writer, "STUCK_AFTER", 0.2)
    store = make_store(backend)
    # Given a database call that does not return (no error, no answer)
    backend.gate.clear()
    store.add_readings(readings(5))
    # Then the status does not say ok, and says why
    poll(lambda: not store.status.ok, what="the status to say the writer waits")
    assert "no write confirmed" in store.status.error and store.status.backlog == 5
    # And once the database answers, it is ok again
    backend.gate.set()
    poll(lambda: store.status.ok and store.status.backlog == 0, what="the status to recover")


class Ticks(threading.Thread):
    """A monitor at a compressed speed: every tick a sample of four probes and the profile's
    position (a settings change), and now and then a heater event."""

    def __init__(self, store: WriteBehind, every: float = 0.02) -> None:
        super().__init__(name="test-ticks", daemon=True)
        self.store, self.every, self.count = store, every, 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            i = self.count
            self.store.add_readings([Reading(T0 + i / 10, f"p{n}", f"p{n}", 18.0 + n) for n in range(4)])
            self.store.save_settings({"profile.ale": {"elapsed": i}})
            if i % 10 == 0:
                self.store.add_event(Event(T0 + i / 10, "heater_on" if i % 20 else "heater_off", {}))
            self.count = i + 1
            self.stop.wait(self.every)  # pacing, like a monitor's ticks; not a synchronisation


def test_after_mongodb_restarts_a_backlog_drains_while_samples_and_settings_keep_coming(mongo_server, make_store):
    server = mongo_server["server"]
    url = f"mongodb://127.0.0.1:{server.port}/beerpi?serverSelectionTimeoutMS=300&connectTimeoutMS=300"
    store = make_store(open_repository(url), spool_first=True, max_readings=100_000)
    ticks = Ticks(store)
    ticks.start()
    try:
        poll(lambda: ticks.count >= 20 and store.status.backlog == 0, what="the writer to keep up")
        # Given MongoDB stopped long enough for a backlog of a few hundred samples
        server.stop()
        poll(lambda: not store.status.ok, what="the outage to be noticed")
        poll(lambda: store.spool.readings >= 1200, what="a backlog")
        # When it is started again on the same data, while samples keep coming
        mongo_server["restart"]()
        # Then the backlog drains, and the status says ok only once writes are confirmed
        poll(lambda: store.status.ok and store.status.backlog == 0, timeout=30, what="the backlog to drain")
    finally:
        ticks.stop.set()
        ticks.join(WAIT)
    assert store.flush(WAIT)
    with open_repository(url) as reader:
        stored = reader.readings_between(0, T0 + ticks.count)
        assert len(stored) == 4 * ticks.count == len(set(stored))
        assert reader.load_settings() == {"profile.ale": {"elapsed": ticks.count - 1}}


def test_a_clean_close_while_the_writer_waits_on_a_slow_mongodb_keeps_every_reading(mongo_server, tmp_path, caplog):
    # Given MongoDB with a long server-selection timeout, stopped while readings flow
    server = mongo_server["server"]
    url = f"mongodb://127.0.0.1:{server.port}/beerpi?serverSelectionTimeoutMS=3000&connectTimeoutMS=3000"
    spool_path = tmp_path / "spool.sqlite3"
    store = WriteBehind(open_repository(url), Spool(spool_path, target=url), batch_delay=0.05,
                        retry=(0.05, 0.2))
    store.add_readings(readings(10))
    assert store.flush(WAIT)
    server.stop()
    store.add_readings(readings(1, start=10))
    store.save_settings({"mode": "off"})
    poll(lambda: store.status.backlog > 0, what="the writer to be waiting on the database")
    for i in range(11, 1320):
        store.add_readings(readings(1, start=i))
    # When the process shuts down cleanly, sooner than the database call gives up
    with caplog.at_level(logging.WARNING):
        store.close(timeout=0.5)
    # Then nothing was dropped in silence: after a restart every reading and the setting arrive
    mongo_server["restart"]()
    again = WriteBehind(open_repository(url), Spool(spool_path, target=url), batch_delay=0.05,
                        retry=(0.05, 0.2))
    try:
        poll(lambda: not len(again.spool), what="the spool to be delivered")
        assert len(again.readings_between(0, T0 + 1000)) == 1320
        assert again.load_settings() == {"mode": "off"}
    finally:
        again.close(timeout=2)
