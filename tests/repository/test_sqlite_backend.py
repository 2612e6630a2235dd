"""What only the SQLite backend promises: WAL, durability choice, permissions, checks, upgrades."""

from __future__ import annotations

import hashlib
import math
import sqlite3
import stat
from pathlib import Path

import pytest

from beerpi.base.errors import ConfigError, StorageCorrupt, StorageError
from beerpi.batches.model import Batch, BatchNote, OpenBatchConflict
from beerpi.hardware.probe import Reading
from beerpi.repository import check_url, open_repository
from beerpi.repository.sqlite import SqliteRepository

T0 = 1_700_000_000.0


def reading(ts: float, probe: str = "wort", temperature: float | None = 20.0) -> Reading:
    return Reading(ts, probe, probe.title(), temperature)  # type: ignore[arg-type]


def pragma(path: Path, name: str) -> object:
    with sqlite3.connect(path) as db:
        return db.execute(f"PRAGMA {name}").fetchone()[0]


def test_the_database_runs_in_wal_mode_with_synchronous_normal_by_default(db_path):
    with SqliteRepository(db_path) as store:
        assert pragma(db_path, "journal_mode") == "wal"
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_synchronous_full_is_offered_in_the_url(tmp_path):
    with open_repository(f"sqlite:///{tmp_path / 'db.sqlite3'}?synchronous=full") as store:
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


@pytest.mark.parametrize("url", ["sqlite:///x.sqlite3?synchronous=off", "sqlite:///x.sqlite3?cache=big",
                                 "sqlite:///", "sqlite:///?synchronous=full"])
def test_a_bad_sqlite_url_is_a_config_error_that_says_what_is_accepted(url):
    with pytest.raises(ConfigError, match="sqlite:///|use one of|known options"):
        check_url(url)


def test_the_data_directory_and_file_are_private_when_we_create_them(tmp_path):
    path = tmp_path / "shared" / "beerpi" / "data" / "beerpi.sqlite3"
    tmp_path.chmod(0o755)
    with SqliteRepository(path) as store:
        store.add_readings([reading(T0)])
    for directory in (path.parent, path.parent.parent, path.parent.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755  # an existing directory is left alone


def test_a_batch_with_one_bad_reading_stores_nothing(store):
    with pytest.raises(StorageError):
        store.add_readings([reading(T0), reading(T0 + 1, temperature=None)])
    assert store.readings_between(-math.inf, math.inf) == []
    assert store.history("wort", T0 - 10, T0 + 10, 10) == []


def test_readers_are_not_blocked_by_a_writer_holding_the_database(store, db_path):
    store.add_readings([reading(T0)])
    # Given another connection in the middle of a write transaction
    other = sqlite3.connect(db_path, isolation_level=None, timeout=0.5)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
        # Then the repository still reads, without waiting
        assert store.latest() == [reading(T0)]
        assert store.load_settings() == {}
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_the_writer_is_not_blocked_by_a_long_read(store, db_path):
    store.add_readings([reading(T0)])
    reader = sqlite3.connect(db_path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM readings").fetchone()[0] == 1
        store.add_readings([reading(T0 + 1)])  # would raise "database is locked" without WAL
        assert reader.execute("SELECT count(*) FROM readings").fetchone()[0] == 1  # its snapshot
    finally:
        reader.close()
    assert len(store.readings_between(T0, T0 + 2)) == 2


def test_a_damaged_file_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "beerpi.sqlite3"
    with SqliteRepository(path) as store:
        store.add_readings([reading(T0 + i, f"probe-{i % 7}") for i in range(5000)])
    size = path.stat().st_size
    with open(path, "r+b") as file:  # scribble over pages in the middle, keep the header
        file.seek(size // 2)
        file.write(b"\xde\xad\xbe\xef" * 2048)
    with pytest.raises(StorageError, match="damaged|malformed"):
        SqliteRepository(path)


def test_a_file_of_garbage_is_named_corrupt_and_left_exactly_as_it_was(tmp_path):
    # Given a database file full of garbage
    path = tmp_path / "beerpi.sqlite3"
    garbage = bytes(range(256)) * 64
    path.write_bytes(garbage)
    # When BeerPi opens it, it says the file is corrupt and what to do, not "check permissions"
    with pytest.raises(StorageCorrupt) as refused:
        SqliteRepository(path)
    message = str(refused.value)
    assert f"the database file {path} is corrupt" in message
    assert f"mv {path} {path}.corrupt" in message and f"sqlite3 {path}.corrupt .recover" in message
    assert "will not modify it" in message
    assert "permission" not in message
    # And the file is untouched
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(garbage).digest()


def test_a_directory_that_cannot_be_created_is_named_as_such(tmp_path):
    # Given a database path whose parent is a regular file
    (tmp_path / "data").write_text("not a directory")
    with pytest.raises(StorageError) as refused:
        SqliteRepository(tmp_path / "data" / "beerpi.sqlite3")
    assert not isinstance(refused.value, StorageCorrupt)
    assert "a part of the path is a file, not a directory" in str(refused.value)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello " * 1000)
    with pytest.raises(StorageError, match="notes.txt"):
        SqliteRepository(path)


def test_a_database_from_a_newer_beerpi_is_refused(tmp_path):
    path = tmp_path / "beerpi.sqlite3"
    SqliteRepository(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StorageError, match="newer BeerPi"):
        SqliteRepository(path)


def test_a_walking_skeleton_database_is_upgraded_without_losing_anything(tmp_path):
    # Given a database written by the first version (float seconds, no keys)
    path = tmp_path / "beerpi.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE readings (ts REAL NOT NULL, probe TEXT NOT NULL, name TEXT NOT NULL,
                                   temperature REAL NOT NULL);
            CREATE INDEX readings_probe_ts ON readings (probe, ts);
            CREATE INDEX readings_ts ON readings (ts);
            CREATE TABLE events (ts REAL NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL);
            CREATE INDEX events_ts ON events (ts);
            CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO readings VALUES (1700000000.1234, 'wort', 'Wort', 20.5),
                                        (1700000000.1234, 'wort', 'Wort', 20.5),
                                        (1700000030.0, 'wort', 'Wort', 21.5);
            INSERT INTO events VALUES (1700000001.0, 'heater_on', '{"source": "control"}');
            INSERT INTO settings VALUES ('target', '19.5');
        """)
    # When the new version opens it
    with SqliteRepository(path) as store:
        # Then readings (the duplicate once), events and settings are all there
        assert store.readings_between(-math.inf, math.inf) == [
            Reading(1700000000.123, "wort", "Wort", 20.5), Reading(1700000030.0, "wort", "Wort", 21.5)]
        [event] = store.events_between(-math.inf, math.inf)
        assert (event.ts, event.kind, event.detail) == (1700000001.0, "heater_on", {"source": "control"})
        assert len(event.id) == 32
        assert store.load_settings() == {"target": 19.5}
        # And the roll-ups were built from them
        [day] = store.history("wort", T0 - 86_400, T0 + 86_400, 1)
        assert (day.min, day.max, day.count) == (20.5, 21.5, 2)
    assert pragma(path, "user_version") == 5


def test_a_version_4_database_gets_the_batch_tables_and_keeps_what_it_had(tmp_path):
    # Given a database as version 4 left it: no batches, no batch notes
    path = tmp_path / "beerpi.sqlite3"
    with SqliteRepository(path) as store:
        store.add_readings([reading(T0)])
    with sqlite3.connect(path) as db:
        db.executescript("DROP TABLE batches; DROP TABLE batch_notes; PRAGMA user_version = 4;")
    # When this version opens it
    with SqliteRepository(path) as store:
        # Then batches can be stored, one open per chamber, and the readings are still there
        store.save_batch(Batch("b1", "ferm", "Pale Ale", T0))
        with pytest.raises(OpenBatchConflict):
            store.save_batch(Batch("b2", "ferm", "Stout", T0))
        store.add_batch_note(BatchNote("n1", "b1", T0 + 1, "pitched"))
        assert [b.id for b in store.list_batches()] == ["b1"] and len(store.notes_of("b1")) == 1
        assert store.readings_between(T0, T0 + 1) == [reading(T0)]
    assert pragma(path, "user_version") == 5


def test_an_in_memory_store_works_on_its_single_connection():
    with open_repository("sqlite:///:memory:") as store:
        store.add_readings([reading(T0), reading(T0 + 1)])
        assert list(store.iter_readings()) == [reading(T0), reading(T0 + 1)]
        assert store.history("wort", T0, T0 + 2, 10)[0].count == 1
