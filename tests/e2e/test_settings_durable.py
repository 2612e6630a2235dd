"""A settings change is on disk before it is acknowledged, or the user is told it is not.

The user's last setting survives a restart during a database outage, whether the server
is stopped cleanly or killed right after the acknowledgement; when it cannot be saved at
all it still takes effect (an ``off`` must always work) and the client hears so plainly.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from pathlib import Path

import pytest
from tornado.websocket import websocket_connect

from tests.support.process import WAIT, Server, ws_url

pytest.importorskip("beerpi.repository.mongo")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sim_server(db: str, cwd: Path, *args: str) -> Server:
    return Server("--port", "0", "--hardware", "sim", "--interval", "0.1", "--speed", "60",
                  "--db", db, *args, cwd=cwd)


async def frames_until(connection, predicate) -> dict:
    while True:
        text = await asyncio.wait_for(connection.read_message(), WAIT)
        assert text is not None, "the server closed the connection"
        frame = json.loads(text)
        if predicate(frame):
            return frame


async def set_mode_off(port: int) -> None:
    connection = await asyncio.wait_for(websocket_connect(ws_url(port)), WAIT)
    hello = await frames_until(connection, lambda f: f["type"] == "hello")
    assert hello["state"]["mode"] == "auto"
    await connection.write_message(json.dumps({"type": "set", "mode": "off"}))
    await frames_until(connection, lambda f: f["type"] in ("state", "error") and f.get("mode") == "off")
    connection.close()


async def mode_at_start(port: int) -> str:
    connection = await asyncio.wait_for(websocket_connect(ws_url(port)), WAIT)
    hello = await frames_until(connection, lambda f: f["type"] == "hello")
    connection.close()
    return hello["state"]["mode"]


@pytest.mark.parametrize("how", ["clean stop", "kill -9"])
def test_mode_off_set_during_an_outage_is_in_force_after_a_restart(tmp_path, how):
    # Given a server whose MongoDB is unreachable (nothing listens on its port)
    url = f"mongodb://127.0.0.1:{free_port()}/beerpi?serverSelectionTimeoutMS=500&connectTimeoutMS=500"
    spool = ("--spool", str(tmp_path / "spool.sqlite3"))
    server = sim_server(url, tmp_path, *spool)
    try:
        # When the user switches it off, and the server stops right after the acknowledgement
        asyncio.run(set_mode_off(server.wait_listening()))
        if how == "kill -9":
            server.kill()
        else:
            assert server.stop(signal.SIGTERM) == 0, server.log()
    finally:
        server.kill()
    # Then after a restart, the database still unreachable, the heater stays off
    again = sim_server(url, tmp_path, *spool)
    try:
        assert asyncio.run(mode_at_start(again.wait_listening())) == "off", again.log()
        assert again.stop() == 0
    finally:
        again.kill()


def is_type(kind: str):
    return lambda frame: frame["type"] == kind


@pytest.mark.gen_test(timeout=30)
async def test_a_change_that_cannot_be_saved_takes_effect_and_the_client_is_told(start_service, connect, db_path):
    # Given a spool file that is corrupt, so nothing can be kept durably before the database has it
    (db_path.parent / "spool-beerpi.sqlite3").write_bytes(b"\x00garbage" * 512)
    service = start_service()
    client = await connect(service.port)
    await client.wait_for(is_type("hello"))
    # When the user switches the heater off
    await client.send({"type": "set", "mode": "off"})
    # Then it is off at once, for everyone
    await client.wait_for(lambda f: f["type"] == "state" and f["mode"] == "off" and f["heater"] is False)
    # And the sender is told plainly that the change is in force but not saved
    error = await client.wait_for(is_type("error"))
    assert error["code"] == "not_saved"
    assert "in force" in error["message"] and "restart" in error["message"]
    assert service.monitor.chamber(None).settings.mode == "off"
