"""The whole server in a subprocess: a MongoDB outage loses and duplicates nothing, and
``kill -9`` during SQLite writes leaves an intact database missing at most the last batch."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest
from tornado.websocket import websocket_connect

from beerpi.repository import open_repository
from beerpi.repository.sqlite import SqliteRepository
from tests.support.process import WAIT, Server


def sim_server(db: str, cwd: Path, *args: str) -> Server:
    """The server with simulated hardware sampling every 0.1 s."""
    return Server("--port", "0", "--hardware", "sim", "--interval", "0.1", "--speed", "60",
                  "--db", db, *args, cwd=cwd)


class Watcher:
    """A dashboard: a WebSocket client recording every frame with its arrival time."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, dict]] = []
        self.task: asyncio.Task | None = None

    async def start(self, port: int) -> None:
        connection = await asyncio.wait_for(websocket_connect(f"ws://127.0.0.1:{port}/ws"), WAIT)
        self.task = asyncio.ensure_future(self._read(connection))

    async def _read(self, connection) -> None:
        while (text := await connection.read_message()) is not None:
            self.frames.append((time.monotonic(), json.loads(text)))

    def readings(self, since: float = 0.0) -> list[tuple[float, dict]]:
        return [(at, f) for at, f in self.frames if f["type"] == "reading" and at >= since]

    def status(self) -> dict | None:
        statuses = [f["storage"] for _, f in self.frames if f["type"] == "status"]
        return statuses[-1] if statuses else None

    async def until(self, condition, what: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            assert self.task is not None and not self.task.done(), "the server closed the WebSocket"
            await asyncio.sleep(0.02)


def stored_keys(readings) -> list[tuple[str, float]]:
    return [(r.probe, round(r.ts, 3)) for r in readings]


def test_a_mongodb_outage_loses_nothing_and_the_dashboard_keeps_updating(tmp_path):
    secantus = pytest.importorskip("secantus")
    pytest.importorskip("beerpi.repository.mongo")
    data = str(tmp_path / "mongo")
    mongo = secantus.SecantusDBServer(host="127.0.0.1", port=0, storage_path=data)
    mongo.start()
    url = f"mongodb://127.0.0.1:{mongo.port}/beerpi?serverSelectionTimeoutMS=500&connectTimeoutMS=500"
    server = sim_server(url, tmp_path, "--spool", str(tmp_path / "spool.sqlite3"))

    async def scenario() -> None:
        nonlocal mongo
        watcher = Watcher()
        await watcher.start(server.wait_listening())
        await watcher.until(lambda: len(watcher.readings()) >= 10, "the first readings")
        # Given the database goes away while readings flow
        await asyncio.to_thread(mongo.stop)
        stopped = time.monotonic()
        await watcher.until(lambda: watcher.status() is not None and not watcher.status()["ok"],
                            "the status to report the outage")
        await watcher.until(lambda: len(watcher.readings(stopped)) >= 30, "readings during the outage")
        during = watcher.readings(stopped)
        backlog = watcher.status()["backlog"]
        assert backlog > 0
        # When it is started again on the same data
        mongo = secantus.SecantusDBServer(host="127.0.0.1", port=mongo.port, storage_path=data)
        await asyncio.to_thread(mongo.start)
        await watcher.until(lambda: watcher.status() == {"backlog": 0, "ok": True, "dropped": 0, "error": None, "durable": True},
                            "the backlog to be delivered")
        # Then the dashboard never stopped updating
        arrivals = [at for at, _ in during]
        assert max(b - a for a, b in zip(arrivals, arrivals[1:])) < 1.0
        assert server.stop() == 0, server.log()
        seen = [(f["probe"], round(f["ts"], 3)) for _, f in watcher.readings()]
        # And every reading the dashboard saw is in the database exactly once
        with open_repository(url) as store:
            keys = stored_keys(store.readings_between(0, time.time() + 60))
        assert len(keys) == len(set(keys)), "duplicated readings"
        missing = set(seen) - set(keys)
        assert not missing, f"{len(missing)} of {len(seen)} readings missing"
        assert {(f["probe"], round(f["ts"], 3)) for _, f in during} <= set(keys)

    try:
        asyncio.run(scenario())
    finally:
        server.kill()
        mongo.stop()
    log = server.log()
    assert "storage backlog started" in log and "storage backlog cleared" in log


def test_kill_9_during_sqlite_writes_loses_at_most_the_last_batch(tmp_path):
    db = tmp_path / "data" / "beerpi.sqlite3"
    server = sim_server(f"sqlite:///{db}", tmp_path)

    async def scenario() -> dict:
        watcher = Watcher()
        await watcher.start(server.wait_listening())
        await watcher.until(lambda: len(watcher.readings()) >= 60, "readings to flow")
        server.kill()  # SIGKILL, mid-stream
        await watcher.until(lambda: watcher.task.done(), "the connection to drop")
        return max((f for _, f in watcher.readings()), key=lambda f: f["ts"])

    try:
        last_seen = asyncio.run(scenario())
    finally:
        server.kill()
    # Then the database is intact
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with SqliteRepository(db) as store:
        last_stored = max(r.ts for r in store.latest())
    # And it misses at most the last batch: about a second at most
    assert last_seen["ts"] - last_stored <= 1.0
    # And the server starts again on it
    again = sim_server(f"sqlite:///{db}", tmp_path)
    try:
        again.wait_listening()
        assert again.stop() == 0, again.log()
    finally:
        again.kill()
