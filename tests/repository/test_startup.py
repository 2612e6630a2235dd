"""Control never depends on storage: a corrupt database or spool, or a data directory that
cannot be created, leaves the heater controlled and the dashboard live, with storage
reported failed and the damaged file untouched. Real files, the real service."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

from beerpi.hardware.probe import Reading
from beerpi.repository.startup import open_storage
from tests.support.waiting import poll

GARBAGE = bytes(range(256)) * 64


def digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def is_type(kind: str):
    return lambda frame: frame["type"] == kind


async def controlled_and_live(client) -> dict:
    """Wait for readings and the heater switched on by control; return the first status frame."""
    hello = await client.wait_for(is_type("hello"))
    status = await client.wait_for(is_type("status"))
    await client.wait_for(is_type("reading"))
    # The simulated wort starts at 16 °C, below the 20 °C target: control switches the heater on
    if not (hello["state"]["heater"] is True and hello["state"]["fault"] is None):
        await client.wait_for(lambda f: f["type"] == "state" and f["heater"] is True and f["fault"] is None)
    return status["storage"]


@pytest.mark.gen_test(timeout=30)
async def test_a_corrupt_database_is_reported_and_left_untouched_while_control_runs(
        start_service, connect, db_path, caplog):
    # Given a database file of garbage
    db_path.write_bytes(GARBAGE)
    # When the server starts on it
    with caplog.at_level(logging.ERROR):
        service = start_service()
    client = await connect(service.port)
    # Then the heater is controlled and readings stream
    storage = await controlled_and_live(client)
    # And storage is reported failed, saying what is wrong and what to do
    assert storage["ok"] is False
    assert f"the database file {db_path} is corrupt" in storage["error"]
    assert ".recover" in storage["error"] and "permission" not in storage["error"]
    assert any("is corrupt" in r.getMessage() for r in caplog.records)
    # And readings wait (in the spool beside it), counted in the backlog
    await client.wait_for(lambda f: f["type"] == "status" and f["storage"]["backlog"] > 0)
    # And the damaged file is never modified (the process test checks it after a stop too)
    assert digest(db_path) == hashlib.sha256(GARBAGE).digest()


@pytest.mark.gen_test(timeout=30)
async def test_a_corrupt_spool_is_reported_left_untouched_and_readings_wait_in_memory(
        start_service, connect, db_path, caplog):
    # Given a healthy database and a spool file of garbage beside it
    spool = db_path.parent / "spool-beerpi.sqlite3"
    spool.write_bytes(GARBAGE)
    with caplog.at_level(logging.ERROR):
        service = start_service()
    client = await connect(service.port)
    storage = await controlled_and_live(client)
    # Then storage is reported degraded, naming the spool
    assert storage["ok"] is False
    assert f"the spool file {spool} is corrupt" in storage["error"]
    assert "in memory" in storage["error"]
    assert storage["durable"] is False  # what waits for the database is lost at a restart
    assert any("SPOOL UNAVAILABLE" in r.getMessage() for r in caplog.records)
    # And readings still reach the database
    assert service.store.flush(10)
    assert service.store.latest()
    assert digest(spool) == hashlib.sha256(GARBAGE).digest()


@pytest.mark.gen_test(timeout=30)
async def test_a_data_directory_that_cannot_be_created_does_not_stop_control(
        start_service, connect, tmp_path):
    # Given a --db whose directory cannot be created: its parent is a regular file
    # (the tests run as root, so permission bits would not stop them)
    (tmp_path / "data").write_text("a file, not a directory")
    db = tmp_path / "data" / "beerpi.sqlite3"
    service = start_service(db=f"sqlite:///{db}")
    client = await connect(service.port)
    storage = await controlled_and_live(client)
    # Then storage is reported failed, naming the problem
    assert storage["ok"] is False
    assert "a part of the path is a file, not a directory" in storage["error"]
    # And settings changes still take effect (defaults at start, nothing could be read)
    await client.send({"type": "set", "mode": "off"})
    await client.wait_for(lambda f: f["type"] == "state" and f["mode"] == "off" and f["heater"] is False)


def test_a_data_directory_that_heals_is_opened_later_and_the_waiting_readings_delivered(tmp_path):
    # Given a database directory that cannot be created yet (a file is in the way)
    blocker = tmp_path / "data"
    blocker.write_text("in the way")
    store = open_storage(f"sqlite:///{blocker / 'beerpi.sqlite3'}", str(tmp_path / "spool.sqlite3"))
    try:
        readings = [Reading(1_763_712_000.0 + i, "sim-wort", "wort", 18.0) for i in range(3)]
        store.add_readings(readings)
        poll(lambda: store.status.backlog == 3, timeout=10)
        assert not store.status.ok and "not a directory" in store.status.error
        # When the obstacle is removed
        blocker.unlink()
        # Then the database is opened and gets the readings that waited
        assert store.flush(10)
        assert store.latest() == readings[-1:]
        assert store.status.as_dict() == {"backlog": 0, "ok": True, "dropped": 0, "error": None, "durable": True}
    finally:
        store.close()


def test_the_server_process_starts_on_a_corrupt_database_and_controls_the_heater(tmp_path):
    import asyncio
    import json

    from tornado.websocket import websocket_connect

    from tests.support.process import WAIT, Server

    # Given a database file of garbage where the server expects its database
    db = tmp_path / "data" / "beerpi.sqlite3"
    db.parent.mkdir()
    db.write_bytes(GARBAGE)
    server = Server("--port", "0", "--hardware", "sim", "--interval", "0.1", "--speed", "60",
                    "--db", f"sqlite:///{db}", cwd=tmp_path)

    def heater_on(frame: dict) -> bool:
        state = frame.get("state", frame) if frame["type"] in ("hello", "state") else {}
        return state.get("heater") is True and state.get("fault") is None

    async def watch(port: int) -> dict:
        connection = await asyncio.wait_for(websocket_connect(f"ws://127.0.0.1:{port}/ws"), WAIT)
        frames: list[dict] = []
        while not (any(f["type"] == "reading" for f in frames) and any(f["type"] == "status" for f in frames)
                   and any(heater_on(f) for f in frames)):
            text = await asyncio.wait_for(connection.read_message(), WAIT)
            assert text is not None, "the server closed the connection"
            frames.append(json.loads(text))
        connection.close()
        return next(f for f in frames if f["type"] == "status")

    try:
        # When it is started, it listens, streams readings and switches the heater on (16 °C < 20 °C)
        status = asyncio.run(watch(server.wait_listening()))
        # And says storage failed, and why
        assert status["storage"]["ok"] is False
        assert f"the database file {db} is corrupt" in status["storage"]["error"]
        assert server.stop() == 0, server.log()
    finally:
        server.kill()
    assert "is corrupt" in server.log()
    # And the corrupt file was never modified
    assert digest(db) == hashlib.sha256(GARBAGE).digest()
