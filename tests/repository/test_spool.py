"""The local spool: order, durability across a restart, the bound, and replay through WriteBehind."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from beerpi.base.errors import StorageError
from beerpi.hardware.probe import Reading
from beerpi.repository import Event, Identity
from beerpi.repository.spool import ForeignSpool, SettingsChange, Spool, spool_path_for
from beerpi.repository.sqlite import SqliteRepository
from beerpi.repository.writer import WriteBehind

T0 = 1_763_712_000.0


def readings(count: int, start: int = 0, probe: str = "sim-wort") -> list[Reading]:
    return [Reading(T0 + i, probe, "wort", 18.0 + i / 1000) for i in range(start, start + count)]


@pytest.fixture
def spool_path(tmp_path: Path) -> Path:
    return tmp_path / "spool.sqlite3"


def test_items_come_back_oldest_first_and_leave_once_removed(spool_path):
    spool = Spool(spool_path)
    event = Event(T0 + 1.5, "heater_on", {"source": "control"})
    spool.append(readings(2))
    spool.append([event, SettingsChange({"target": 19.0})])
    spool.append(readings(1, start=2))
    items = spool.head(10)
    assert [item for _, item in items] == [*readings(2), event, SettingsChange({"target": 19.0}), *readings(1, 2)]
    assert spool.readings == 3 and len(spool) == 5
    spool.remove_through(items[2][0])
    assert [item for _, item in spool.head(10)] == [SettingsChange({"target": 19.0}), *readings(1, 2)]
    assert spool.readings == 1 and len(spool) == 2
    spool.close()


def test_what_was_spooled_survives_a_restart(spool_path):
    # Given a spool with readings, as left by a process that stopped during an outage
    first = Spool(spool_path, target="mongodb://db.local/beerpi")
    first.append(readings(5))
    first.close()
    # When it is opened again
    second = Spool(spool_path, target="mongodb://db.local/beerpi")
    # Then the readings are there, in order
    assert second.readings == 5
    assert [item for _, item in second.head(10)] == readings(5)
    second.close()


def test_a_full_spool_drops_the_oldest_readings_loudly_with_an_event(spool_path, caplog):
    spool = Spool(spool_path, max_readings=10)
    spool.append(readings(8))
    spool.append([Event(T0 + 8.5, "heater_on", {})])
    with caplog.at_level(logging.ERROR):
        spool.append(readings(4, start=8))
    # Then the two oldest readings are gone, the rest is intact, and the loss is recorded
    items = [item for _, item in spool.head(100)]
    kept = [item for item in items if isinstance(item, Reading)]
    assert kept == readings(10, start=2)
    dropped = [item for item in items if isinstance(item, Event) and item.kind == "readings_dropped"]
    assert len(dropped) == 1 and items[-1] == dropped[0]
    assert dropped[0].detail["count"] == 2
    assert dropped[0].detail["first_ts"] == T0 and dropped[0].detail["last_ts"] == T0 + 1
    assert spool.readings == 10 and spool.dropped == 2
    assert any("SPOOL FULL" in r.message and "dropped the 2 oldest" in r.message for r in caplog.records)
    spool.close()


def test_a_large_spool_drops_in_chunks_so_the_log_is_not_flooded(spool_path, caplog):
    spool = Spool(spool_path, max_readings=1000)
    spool.append(readings(1000))
    with caplog.at_level(logging.ERROR):
        for i in range(10):
            spool.append(readings(1, start=1000 + i))
    assert spool.dropped == 10 and spool.readings == 1000
    assert len([r for r in caplog.records if "SPOOL FULL" in r.message]) == 1
    spool.close()


def test_a_spool_with_items_for_another_database_is_refused_and_left_untouched(spool_path):
    spool = Spool(spool_path, target="mongodb://user:secret@db.local/beerpi")
    spool.append(readings(1))
    spool.close()
    before = spool_path.read_bytes()
    with pytest.raises(ForeignSpool, match=r"holds 1 items for another database, mongodb://db.local/beerpi,"):
        Spool(spool_path, target="sqlite:///data/beerpi.sqlite3")
    assert spool_path.read_bytes() == before
    # another user name or other options name the same database
    same = Spool(spool_path, target="mongodb://db.local/beerpi?serverSelectionTimeoutMS=500")
    # an empty spool may change hands, and the settings it mirrors for the other database go
    same.remove_through(same.head(1)[0][0])
    same.replace_mirror({"mode": "heat", "target": 28.0})
    assert same.trusted_mirror() == {"mode": "heat", "target": 28.0}
    same.close()
    taken = Spool(spool_path, target="sqlite:///data/beerpi.sqlite3")
    assert taken.trusted_mirror() is None and taken.mirror() == {}
    taken.close()


def test_a_spool_bound_to_another_database_of_the_same_name_is_refused(spool_path):
    # Given a spool holding items for the database with identity A
    spool = Spool(spool_path, target="sqlite:///data/beerpi.sqlite3", identity=Identity("beerpi-a"))
    spool.append([SettingsChange({"mode": "heat"})])
    spool.close()
    # Then another existing database at the same path does not get them
    with pytest.raises(ForeignSpool, match=r"another database also named .* \(identity beerpi-a"):
        Spool(spool_path, target="sqlite:///data/beerpi.sqlite3", identity=Identity("beerpi-b"))
    # But a new database made there (the old one moved aside) does, without the old one's mirror
    new = Spool(spool_path, target="sqlite:///data/beerpi.sqlite3", identity=Identity("beerpi-c", created=True))
    assert new.waiting_settings() == [{"mode": "heat"}] and new.identity == "beerpi-c"
    assert new.trusted_mirror() is None
    new.close()


def test_only_a_mirror_read_from_the_spools_own_database_is_trusted(spool_path):
    # A mirror kept by an older BeerPi, which did not say whose it was, is not trusted
    spool = Spool(spool_path, target="sqlite:///data/beerpi.sqlite3")
    spool.update_mirror({"target": 28.0})
    assert spool.trusted_mirror() is None
    # One read from the database is, with the changes made since on top
    spool.replace_mirror({"target": 18.0, "mode": "auto"})
    spool.append([SettingsChange({"mode": "off"})])
    assert spool.trusted_mirror() == {"target": 18.0, "mode": "off"}
    spool.close()
def test_two_processes_cannot_share_a_spool(spool_path):
    first = Spool(spool_path)
    with pytest.raises(StorageError, match="in use by another BeerPi"):
        Spool(spool_path)
    first.close()


def test_the_default_spool_is_one_per_database_beside_an_sqlite_one_else_under_data():
    assert spool_path_for("sqlite:////var/lib/beerpi/beer.sqlite3?synchronous=full") == \
        "/var/lib/beerpi/spool-beer.sqlite3"
    assert spool_path_for("sqlite:///data/simulation.sqlite3") == "data/spool-simulation.sqlite3"
    assert spool_path_for("sqlite:///:memory:") == ":memory:"
    assert spool_path_for("mongodb://brewer:hops@db.local:27017/beerpi?tls=true") == \
        "data/spool-db.local_27017-beerpi.sqlite3"


def test_a_restart_with_a_non_empty_spool_delivers_it_before_anything_new(tmp_path, spool_path):
    # Given a spool left with readings, an event and a settings change by a stopped process
    spool = Spool(spool_path, target="sqlite:///db")
    event = Event(T0 + 2.5, "heater_on", {"source": "control"})
    spool.append([*readings(3), event, SettingsChange({"target": 18.5})])
    spool.close()
    backend = SqliteRepository(tmp_path / "beerpi.sqlite3")
    # When the writer starts on it and new readings arrive
    store = WriteBehind(backend, Spool(spool_path, target="sqlite:///db"), spool_first=False, batch_delay=0.01)
    store.add_readings(readings(2, start=3))
    assert store.flush(10)
    # Then the old readings, the event and the setting are stored, then the new readings, each once
    assert store.readings_between(0, T0 + 100) == readings(5)
    assert [e.id for e in store.events_between(0, T0 + 100)] == [event.id]
    assert store.load_settings() == {"target": 18.5}
    assert store.status.backlog == 0 and len(store.spool) == 0
    store.close()


def test_the_spool_and_its_wal_are_private_even_in_an_existing_directory(tmp_path):
    # Given a data directory that already exists, readable by others
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    # When the spool is created in it and written to
    spool = Spool(data / "spool.sqlite3")
    spool.append(readings(3))
    # Then the spool and its write-ahead log are for the owner only, like the database
    try:
        for name in ("spool.sqlite3", "spool.sqlite3-wal"):
            assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    finally:
        spool.close()
