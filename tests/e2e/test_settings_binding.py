"""Settings belong to their database: what a spool keeps beside one database (its settings
mirror, its waiting items) is never applied to another, and a spool left holding items for
another database is reported and left untouched while BeerPi controls anyway.

The scenario of the report, end to end: ``make run``'s simulation stores mode heat, target
28 °C in its database; BeerPi is then started for real in the same directory on another
database that cannot be read (a corrupt SQLite file, or MongoDB down), with ``--target 20``
and the beer at 22 °C. Real server processes, a fake 1-wire tree and the recording GPIO fake.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from pathlib import Path

import pytest
from tornado.websocket import websocket_connect

from tests.support.fake_gpio import FAKES, fake_gpio_module
from tests.support.process import WAIT, Server, ws_url
from tests.support.w1tree import W1Tree
from tests.support.waiting import poll

WORT = "28-0000000000a1"
HEATER_PIN = 17
GARBAGE = bytes(range(256)) * 64


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


async def frames_until(connection, predicate) -> dict:
    while True:
        text = await asyncio.wait_for(connection.read_message(), WAIT)
        assert text is not None, "the server closed the connection"
        frame = json.loads(text)
        if predicate(frame):
            return frame


async def set_settings(port: int, **settings) -> None:
    connection = await asyncio.wait_for(websocket_connect(ws_url(port)), WAIT)
    try:
        await frames_until(connection, lambda f: f["type"] == "hello")
        await connection.write_message(json.dumps({"type": "set", **settings}))
        await frames_until(connection, lambda f: f["type"] == "state" and all(
            f.get(key) == value for key, value in settings.items()))
    finally:
        connection.close()


async def start_state(port: int, readings: int = 3) -> tuple[dict, dict]:
    """The hello's state and storage status, once ``readings`` readings have been controlled on."""
    connection = await asyncio.wait_for(websocket_connect(ws_url(port)), WAIT)
    try:
        hello = await frames_until(connection, lambda f: f["type"] == "hello")
        status = await frames_until(connection, lambda f: f["type"] == "status")
        for _ in range(readings):
            await frames_until(connection, lambda f: f["type"] == "reading")
        return hello["state"], status["storage"]
    finally:
        connection.close()


def simulation_stores_heat_at_28(directory: Path) -> None:
    """``make run``: the simulation, on its default database in ``directory``/data."""
    server = Server("--port", "0", "--hardware", "sim", "--interval", "0.1", "--speed", "60", cwd=directory)
    try:
        asyncio.run(set_settings(server.wait_listening(), mode="heat", target=28.0))
        assert server.stop() == 0, server.log()
    finally:
        server.kill()
    assert (directory / "data" / "simulation.sqlite3").exists()


def real_server(directory: Path, db: str, monkeypatch, *args: str) -> tuple[Server, Path]:
    """BeerPi on (fake) real hardware: the beer at 22 °C, the heater on GPIO 17, --target 20."""
    log = directory / "gpio.log"
    monkeypatch.setenv("PYTHONPATH", str(FAKES))
    monkeypatch.setenv("BEERPI_FAKE_GPIO_LOG", str(log))
    tree = W1Tree(directory / "w1")
    tree.set(WORT, 22.0)
    server = Server("--port", "0", "--probes", "w1", "--heater", "gpio", "--w1-dir", str(tree.root),
                    "--interval", "0.1", "--min-on", "0", "--min-off", "0", "--target", "20",
                    "--db", db, *args, cwd=directory)
    return server, log


def heater_calls(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [line for line in lines if line.startswith(f"output {HEATER_PIN} ")]


@pytest.mark.parametrize("database", ["corrupt sqlite", "mongodb down"])
def test_a_start_on_an_unreadable_database_never_takes_the_settings_of_another(tmp_path, monkeypatch, database):
    # Given the simulation stored mode heat, target 28 °C in its database in this directory
    simulation_stores_heat_at_28(tmp_path)
    # And the real database cannot be read
    if database == "corrupt sqlite":
        (tmp_path / "data" / "beerpi.sqlite3").write_bytes(GARBAGE)
        db = "sqlite:///data/beerpi.sqlite3"
    else:
        pytest.importorskip("beerpi.repository.mongo")
        db = f"mongodb://127.0.0.1:{free_port()}/beerpi?serverSelectionTimeoutMS=300&connectTimeoutMS=300"
    # When BeerPi starts for real on it, with --target 20 and the beer at 22 °C
    server, log = real_server(tmp_path, db, monkeypatch)
    try:
        state, storage = asyncio.run(start_state(server.wait_listening()))
        calls = heater_calls(log)
        assert server.stop() == 0, server.log()
    finally:
        server.kill()
    # Then it controls on the configured defaults, not on the simulation's settings
    assert (state["mode"], state["target"]) == ("auto", 20.0), server.log()
    assert "no settings kept in the spool" in server.log()
    if database == "corrupt sqlite":  # a MongoDB that is down is known only once a write fails
        assert storage["ok"] is False
    # And the heater was never switched on: its pin's last level is OFF
    assert f"output {HEATER_PIN} 1" not in calls, calls
    assert fake_gpio_module().level_after(calls, HEATER_PIN) == 0


def test_the_settings_of_the_same_database_are_kept_while_it_cannot_be_read(tmp_path, monkeypatch):
    # Given BeerPi ran on its database and the brewer set mode heat, target 24 °C
    db = "sqlite:///data/beerpi.sqlite3"
    server, log = real_server(tmp_path, db, monkeypatch)
    try:
        asyncio.run(set_settings(server.wait_listening(), mode="heat", target=24.0))
        assert server.stop() == 0, server.log()
    finally:
        server.kill()
    # And the database is damaged afterwards
    (tmp_path / "data" / "beerpi.sqlite3").write_bytes(GARBAGE)
    # When BeerPi starts again on it, with --target 20 on the command line
    again, log = real_server(tmp_path, db, monkeypatch)
    try:
        state, storage = asyncio.run(start_state(again.wait_listening()))
        calls = heater_calls(log)
        assert again.stop() == 0, again.log()
    finally:
        again.kill()
    # Then the brewer's settings for this database still hold (its mirror in its own spool)
    assert (state["mode"], state["target"]) == ("heat", 24.0), again.log()
    assert storage["ok"] is False
    assert f"output {HEATER_PIN} 1" in calls


def test_a_spool_holding_items_for_another_database_is_kept_untouched_and_control_runs(tmp_path, monkeypatch):
    from beerpi.hardware.probe import Reading
    from beerpi.repository.spool import SettingsChange, Spool

    # Given a spool left holding a reading and mode heat, target 28 °C for another database
    spool_path = tmp_path / "shared-spool.sqlite3"
    other = Spool(spool_path, target="sqlite:///elsewhere/simulation.sqlite3")
    other.append([Reading(1_763_712_000.0, "sim-wort", "wort", 18.0), SettingsChange({"mode": "heat", "target": 28.0})])
    other.close()
    before = digest(spool_path)
    # When BeerPi starts on its own database with that spool
    server, log = real_server(tmp_path, "sqlite:///data/beerpi.sqlite3", monkeypatch, "--spool", str(spool_path))
    try:
        state, storage = asyncio.run(start_state(server.wait_listening()))
        calls = heater_calls(log)
        assert server.stop() == 0, server.log()
    finally:
        server.kill()
    # Then it starts and controls on its own settings: heater off at 22 °C for a 20 °C target
    assert (state["mode"], state["target"]) == ("auto", 20.0), server.log()
    assert f"output {HEATER_PIN} 1" not in calls
    assert fake_gpio_module().level_after(calls, HEATER_PIN) == 0
    # And the status and the log say why the spool is not used
    assert storage["ok"] is False
    assert str(spool_path) in storage["error"] and "another database" in storage["error"]
    assert "SPOOL FOR ANOTHER DATABASE" in server.log()
    # And the other database's spool is exactly as it was left, with nothing new beside it but
    # the lock that keeps two BeerPis from using one spool
    assert digest(spool_path) == before
    assert sorted(path.name for path in tmp_path.glob("shared-spool*")) == ["shared-spool.sqlite3",
                                                                          "shared-spool.sqlite3.lock"]


# -- opening storage: the spool beside each database -------------------------------------

T0 = 1_763_712_000.0


def three_readings():
    from beerpi.hardware.probe import Reading
    return [Reading(T0 + i, "sim-wort", "wort", 18.0) for i in range(3)]


@pytest.mark.parametrize("database", ["readable", "corrupt"])
def test_the_old_shared_spool_is_taken_over_by_its_own_database_with_nothing_lost(tmp_path, database):
    from beerpi.repository.spool import Spool
    from beerpi.repository.startup import open_storage

    # Given an older BeerPi's shared spool holding readings for this database, and a mirror of
    # the simulation's settings it kept when it changed hands
    db = tmp_path / "data" / "beerpi.sqlite3"
    legacy = Spool(tmp_path / "data" / "spool.sqlite3", target=f"sqlite:///{db}")
    legacy.append(three_readings())
    legacy.update_mirror({"mode": "heat", "target": 28.0})
    legacy.close()
    if database == "corrupt":
        db.write_bytes(GARBAGE)
    # When storage is opened with the default spool
    store = open_storage(f"sqlite:///{db}")
    try:
        # Then the spool is the database's own, holding what waited
        assert store.spool.path == str(tmp_path / "data" / "spool-beerpi.sqlite3")
        assert not (tmp_path / "data" / "spool.sqlite3").exists()
        # And the old mirror, not known to be this database's, is never applied
        assert store.load_settings() == {}
        if database == "readable":  # what waited is delivered by the writer thread, first of all
            poll(lambda: store.readings_between(0, T0 + 10) == three_readings(), timeout=WAIT)
        else:
            assert store.spool.readings == 3
    finally:
        store.close(timeout=5)


def test_the_old_shared_spool_of_another_database_is_left_as_it_is(tmp_path):
    from beerpi.repository.spool import Spool
    from beerpi.repository.startup import open_storage

    legacy_path = tmp_path / "data" / "spool.sqlite3"
    legacy = Spool(legacy_path, target=f"sqlite:///{tmp_path}/data/simulation.sqlite3")
    legacy.append(three_readings())
    legacy.close()
    before = digest(legacy_path)
    store = open_storage(f"sqlite:///{tmp_path}/data/beerpi.sqlite3")
    try:
        assert store.spool.path.endswith("spool-beerpi.sqlite3") and store.status.ok
    finally:
        store.close(timeout=5)
    assert digest(legacy_path) == before


def test_a_spool_bound_to_another_database_at_the_same_path_is_kept_untouched_and_reported(tmp_path, caplog):
    import logging

    from beerpi.repository.spool import Spool
    from beerpi.repository.sqlite import SqliteRepository
    from beerpi.repository.startup import open_storage

    # Given a spool holding readings for the database at data/beerpi.sqlite3
    db = tmp_path / "data" / "beerpi.sqlite3"
    url = f"sqlite:///{db}"
    with SqliteRepository(db) as first:
        identity = first.identity()
    spool_path = tmp_path / "data" / "spool-beerpi.sqlite3"
    spool = Spool(spool_path, target=url, identity=identity)
    spool.append(three_readings())
    spool.close()
    before = digest(spool_path)
    # And another, existing database put in its place
    with SqliteRepository(tmp_path / "other.sqlite3"):
        pass
    (tmp_path / "other.sqlite3").replace(db)
    # When storage is opened
    with caplog.at_level(logging.ERROR):
        store = open_storage(url)
    try:
        # Then the spool is not used, and the status and the log say why
        assert store.spool.path == ":memory:"
        assert "another database also named" in store.status.error and str(spool_path) in store.status.error
        assert any("SPOOL FOR ANOTHER DATABASE" in r.getMessage() for r in caplog.records)
        assert store.flush(WAIT) and store.readings_between(0, T0 + 10) == []
    finally:
        store.close(timeout=5)
    # And it is exactly as it was left
    assert digest(spool_path) == before
