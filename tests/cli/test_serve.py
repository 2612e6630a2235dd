"""run_server.py as a user runs it: a real process, real signals, real output."""

from __future__ import annotations

import asyncio
import json
import signal
import socket

import pytest
from tornado.websocket import websocket_connect

from tests.support.process import WAIT, Server, run, ws_url
from tests.support.w1tree import W1Tree


async def first_frames(port: int, count: int, send: dict | None = None) -> list[dict]:
    connection = await asyncio.wait_for(websocket_connect(ws_url(port)), WAIT)
    try:
        if send is not None:
            await connection.write_message(json.dumps(send))
        return [json.loads(await asyncio.wait_for(connection.read_message(), WAIT)) for _ in range(count)]
    finally:
        connection.close()


def test_help_explains_every_option():
    result = run("--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--db", "--hardware", "--interval", "--target",
                   "--hysteresis", "--speed", "--log-level", "BEERPI_"):
        assert option in result.stdout


@pytest.mark.parametrize("args, mentions", [
    (["--port", "eighty"], "--port"),
    (["--interval", "-1"], "--interval"),
    (["--db", "postgres://x"], "--db"),
    (["--hardware", "arduino"], "--hardware"),
])
def test_a_bad_flag_value_is_one_clear_line(args, mentions):
    result = run(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert mentions in result.stderr and "Traceback" not in result.stderr


def test_a_port_in_use_is_one_clear_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("--host", "127.0.0.1", "--port", str(port), "--hardware", "sim",
                     "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == [f"run_server.py: error: port {port} on 127.0.0.1 is already in use: stop the "
                      "other server or choose another port with --port"]
    assert "Traceback" not in result.stderr


def test_sigterm_stops_cleanly_and_the_target_survives_a_restart(tmp_path):
    db = f"sqlite:///{tmp_path}/b.sqlite3"
    common = ("--port", "0", "--hardware", "sim", "--interval", "0.1", "--speed", "60", "--db", db)
    server = Server(*common)
    try:
        port = server.wait_listening()
        frames = asyncio.run(first_frames(port, 12, send={"type": "set", "target": 23.0}))
        assert any(f["type"] == "state" and f["target"] == 23.0 for f in frames)
        assert server.stop(signal.SIGTERM) == 0
    finally:
        server.kill()
    assert "every output off" in "".join(server.lines)

    again = Server(*common)
    try:
        hello = asyncio.run(first_frames(again.wait_listening(), 1))[0]
        assert hello["state"]["target"] == 23.0
        assert again.stop(signal.SIGINT) == 0
    finally:
        again.kill()


@pytest.mark.parametrize("real_probes, database", [(False, "simulation.sqlite3"), (True, "beerpi.sqlite3")],
                         ids=["simulated", "real-probes"])
def test_the_default_database_lives_under_data_in_the_working_directory(tmp_path, real_probes, database):
    """Simulated readings get a database of their own, so they never mix with a real history."""
    if real_probes:
        tree = W1Tree(tmp_path / "w1")
        tree.set("28-0000000000a1", 18.0)
        hardware = ["--probes", "w1", "--w1-dir", str(tree.root), "--heater", "sim"]
    else:
        hardware = ["--hardware", "sim"]
    server = Server("--port", "0", *hardware, cwd=tmp_path)
    try:
        server.wait_listening()
        assert server.stop() == 0
    finally:
        server.kill()
    assert [path.name for path in (tmp_path / "data").glob("*.sqlite3")
            if not path.name.startswith("spool")] == [database]


def test_max_on_is_ignored_with_a_warning_at_start(tmp_path):
    server = Server("--port", "0", "--hardware", "sim", "--max-on", "240", "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    try:
        server.wait_listening()
        assert server.stop() == 0
    finally:
        server.kill()
    assert "--max-on is ignored: runaway protection replaces it" in server.log()
