"""The SQLite backend and the storage URL rules, on real SQLite files."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from beerpi.base.errors import Closed, ConfigError, StorageError
from beerpi.hardware.probe import Reading
from beerpi.repository import Event, check_url, open_repository
from beerpi.repository.sqlite import SqliteRepository

WAIT = 10.0  # seconds: upper bound of every wait


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "beerpi.sqlite3"


@pytest.fixture
def repo(path: Path):
    repository = SqliteRepository(path)
    yield repository
    repository.close()


def wort(ts: float, temperature: float = 18.5) -> Reading:
    return Reading(ts, "28-wort", "wort", temperature)


def chamber(ts: float, temperature: float = 16.0) -> Reading:
    return Reading(ts, "28-chamber", "chamber", temperature)


# --- readings ----------------------------------------------------------------------------

def test_readings_round_trip_oldest_first(repo):
    # Given readings stored out of order, in two batches
    repo.add_readings([wort(30.0, 18.5625), chamber(10.0, 16.0)])
    repo.add_readings([wort(10.0, 18.4375), chamber(30.0, 16.125), wort(20.0, 18.5)])
    # When they are read back
    readings = repo.readings_between(0.0, 100.0)
    # Then every value comes back, ordered by time (then probe)
    assert readings == [chamber(10.0, 16.0), wort(10.0, 18.4375), wort(20.0, 18.5),
                        chamber(30.0, 16.125), wort(30.0, 18.5625)]


def test_readings_filtered_by_probe(repo):
    repo.add_readings([wort(1.0), chamber(1.0), wort(2.0), chamber(2.0)])
    assert repo.readings_between(0.0, 10.0, probe="28-chamber") == [chamber(1.0), chamber(2.0)]
    assert repo.readings_between(0.0, 10.0, probe="28-unknown") == []


@pytest.mark.parametrize("since, until, expected_ts", [
    pytest.param(10.0, 30.0, [10.0, 20.0], id="since-included-until-excluded"),
    pytest.param(10.5, 30.5, [20.0, 30.0], id="between-samples"),
    pytest.param(0.0, 10.0, [], id="ends-at-first-sample"),
    pytest.param(30.0, 30.0, [], id="empty-interval"),
    pytest.param(40.0, 10.0, [], id="reversed-interval"),
    pytest.param(0.0, 1e12, [10.0, 20.0, 30.0], id="everything"),
])
def test_readings_between_is_half_open(repo, since, until, expected_ts):
    repo.add_readings([wort(10.0), wort(20.0), wort(30.0)])
    assert [r.ts for r in repo.readings_between(since, until)] == expected_ts


def test_latest_gives_the_newest_reading_of_each_probe_by_probe_id(repo):
    assert repo.latest() == []
    repo.add_readings([wort(10.0, 18.0), chamber(10.0, 16.0), wort(30.0, 19.0), chamber(20.0, 15.5)])
    repo.add_readings([wort(25.0, 18.75)])  # stored later but older
    assert repo.latest() == [chamber(20.0, 15.5), wort(30.0, 19.0)]


def test_an_empty_batch_is_fine(repo):
    repo.add_readings([])
    assert repo.readings_between(0.0, 1e12) == []


def test_a_failed_batch_stores_nothing(repo):
    # Given one reading already stored
    repo.add_readings([wort(1.0)])
    # When a batch with one bad reading (NULL temperature) is stored
    with pytest.raises(StorageError):
        repo.add_readings([wort(2.0), chamber(2.0), Reading(2.0, "28-x", "x", None)])
    # Then nothing of that batch is kept, and the repository still works
    assert repo.readings_between(0.0, 10.0) == [wort(1.0)]
    repo.add_readings([wort(3.0)])
    assert repo.readings_between(0.0, 10.0) == [wort(1.0), wort(3.0)]


def test_a_write_that_fails_outside_sqlite_does_not_wedge_the_repository(repo, path):
    # Given an event whose detail cannot be stored as JSON (a programming error upstream)
    with pytest.raises(TypeError):
        repo.add_event(Event(1.0, "switch", {"when": object()}))
    # When the monitor carries on storing readings
    repo.add_readings([wort(2.0)])
    # Then they are stored, and another connection (another process) can write too
    assert repo.readings_between(0.0, 10.0) == [wort(2.0)]
    other = sqlite3.connect(path, timeout=0.5, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # takes the write lock: fails if a transaction was left open
        other.execute("ROLLBACK")
    finally:
        other.close()


# --- events ------------------------------------------------------------------------------

def test_events_round_trip_with_detail(repo):
    events = [
        Event(10.0, "heater", {"on": True, "reason": "19.69 °C at or below 19.70 °C"}),
        Event(10.0, "fault", {"code": "probe_jump", "probe": "28-wort", "values": [20.0, 40.0]}),
        Event(20.0, "settings", {"target": 18.5, "mode": "auto", "by": None}),
        Event(30.0, "start"),
    ]
    for event in events:
        repo.add_event(event)
    assert repo.events_between(0.0, 100.0) == events
    assert repo.events_between(10.0, 30.0) == events[:3]
    assert repo.events_between(10.5, 20.0) == []


# --- settings ----------------------------------------------------------------------------

def test_settings_start_empty_and_save_load(repo):
    assert repo.load_settings() == {}
    repo.save_settings({"mode": "auto", "target": 19.5, "hysteresis": 0.3})
    assert repo.load_settings() == {"mode": "auto", "target": 19.5, "hysteresis": 0.3}


def test_settings_overwrite_keeps_other_keys(repo):
    repo.save_settings({"mode": "auto", "target": 19.5})
    repo.save_settings({"target": 21.0})
    assert repo.load_settings() == {"mode": "auto", "target": 21.0}


def test_everything_survives_close_and_reopen(path):
    # Given data stored and the repository closed (a restart)
    with SqliteRepository(path) as repo:
        repo.save_settings({"mode": "off", "target": 12.0, "hysteresis": 1.0})
        repo.add_readings([wort(1.0)])
        event = Event(1.0, "start", {"version": 1})
        repo.add_event(event)
    # When it is opened again
    with SqliteRepository(path) as repo:
        # Then it is all still there
        assert repo.load_settings() == {"mode": "off", "target": 12.0, "hysteresis": 1.0}
        assert repo.latest() == [wort(1.0)]
        assert repo.events_between(0.0, 2.0) == [event]


# --- the file ----------------------------------------------------------------------------

def test_journal_mode_is_wal(repo, path):
    repo.add_readings([wort(1.0)])
    other = sqlite3.connect(path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # A reader on another connection sees committed data
        assert other.execute("SELECT COUNT(*) FROM readings").fetchone()[0] == 1
    finally:
        other.close()


def test_parent_directory_is_created(tmp_path):
    path = tmp_path / "data" / "nested" / "beerpi.sqlite3"
    with SqliteRepository(path) as repo:
        repo.add_readings([wort(1.0)])
    assert path.is_file()


def test_memory_database_works():
    with SqliteRepository(":memory:") as repo:
        repo.add_readings([wort(1.0)])
        repo.save_settings({"target": 18.0})
        assert repo.latest() == [wort(1.0)]
        assert repo.load_settings() == {"target": 18.0}


@pytest.mark.parametrize("call", [
    pytest.param(lambda r: r.add_readings([wort(1.0)]), id="add_readings"),
    pytest.param(lambda r: r.latest(), id="latest"),
    pytest.param(lambda r: r.readings_between(0.0, 1.0), id="readings_between"),
    pytest.param(lambda r: r.add_event(Event(1.0, "x")), id="add_event"),
    pytest.param(lambda r: r.events_between(0.0, 1.0), id="events_between"),
    pytest.param(lambda r: r.load_settings(), id="load_settings"),
    pytest.param(lambda r: r.save_settings({"target": 1.0}), id="save_settings"),
])
def test_calls_after_close_raise_closed(path, call):
    repo = SqliteRepository(path)
    repo.close()
    repo.close()  # closing twice is harmless
    with pytest.raises(Closed):
        call(repo)


def _directory(tmp_path: Path) -> Path:
    target = tmp_path / "a-directory"
    target.mkdir()
    return target


def _under_a_file(tmp_path: Path) -> Path:
    parent = tmp_path / "a-file"
    parent.write_text("not a directory")
    return parent / "beerpi.sqlite3"


@pytest.mark.parametrize("make_path", [
    pytest.param(_directory, id="directory-as-file"),
    pytest.param(_under_a_file, id="parent-is-a-file"),
])
def test_unopenable_path_raises_storage_error_naming_it(tmp_path, make_path):
    path = make_path(tmp_path)
    with pytest.raises(StorageError) as caught:
        SqliteRepository(path)
    assert str(path) in str(caught.value)


# --- URLs --------------------------------------------------------------------------------

@pytest.mark.parametrize("url, backend", [
    pytest.param("sqlite:///data/beerpi.sqlite3", "sqlite", id="sqlite-relative"),
    pytest.param("sqlite:////var/lib/beerpi/beerpi.sqlite3", "sqlite", id="sqlite-absolute"),
    pytest.param("sqlite:///:memory:", "sqlite", id="sqlite-memory"),
    pytest.param("mongodb://localhost/beerpi", "mongodb", id="mongodb"),
    pytest.param("mongodb://h:27017/db", "mongodb", id="mongodb-port"),
])
def test_check_url_accepts(url, backend):
    assert check_url(url) == backend


@pytest.mark.parametrize("url", [
    pytest.param("ftp://x", id="ftp"),
    pytest.param("postgresql://h/db", id="postgres"),
    pytest.param("data/beerpi.sqlite3", id="bare-path"),
    pytest.param("", id="empty"),
    pytest.param("sqlite://data.sqlite3", id="sqlite-two-slashes"),
    pytest.param("sqlite:///", id="sqlite-no-path"),
])
def test_check_url_rejects_with_config_error(url):
    with pytest.raises(ConfigError, match="sqlite:///"):
        check_url(url)


def test_open_repository_absolute_sqlite_url(tmp_path):
    path = tmp_path / "abs.sqlite3"
    url = f"sqlite:///{path}"
    assert url.startswith("sqlite:////")
    with open_repository(url) as repo:
        repo.add_readings([wort(1.0)])
    assert path.is_file()


def test_open_repository_relative_sqlite_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_repository("sqlite:///data/rel.sqlite3") as repo:
        repo.add_readings([wort(1.0)])
    assert (tmp_path / "data" / "rel.sqlite3").is_file()


def test_open_repository_memory_url():
    with open_repository("sqlite:///:memory:") as repo:
        repo.save_settings({"mode": "on"})
        assert repo.load_settings() == {"mode": "on"}


def test_open_repository_rejects_a_bad_url():
    with pytest.raises(ConfigError):
        open_repository("ftp://x")


# --- threads -----------------------------------------------------------------------------

def test_concurrent_writers_lose_nothing(repo):
    # Given four threads (like the monitor and web handlers) writing at once
    per_thread = 50
    start = threading.Barrier(4, timeout=WAIT)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                repo.add_readings([Reading(float(i), f"probe-{n}", "p", float(n))])
                repo.add_event(Event(float(i), f"writer-{n}"))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    # Then every write arrived
    assert not any(thread.is_alive() for thread in threads), "a writer did not finish in time"
    assert errors == []
    assert len(repo.readings_between(0.0, per_thread)) == 4 * per_thread
    for n in range(4):
        assert len(repo.readings_between(0.0, per_thread, probe=f"probe-{n}")) == per_thread
    assert len(repo.events_between(0.0, per_thread)) == 4 * per_thread
