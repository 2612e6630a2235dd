"""Issue 7 item 5: a stranger's idle connections must not starve the probes of file descriptors.

run_server.py runs in a subprocess with a low open-file limit, real w1thermsensor on a fake
1-wire tree and a simulated heater; the flood is real loopback connections, bounded.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import selectors
import socket
import time
from pathlib import Path

from tornado.httpclient import HTTPClientError
from tornado.websocket import WebSocketClientConnection, websocket_connect

from beerpi.web.admission import RESERVE_DIVISOR
from beerpi.web.connections import RESERVED_FDS
from tests.support.process import WAIT, Server
from tests.support.w1tree import W1Tree

OPEN_FILES = 256  # the server's hard and soft limit
FLOOD = OPEN_FILES + 64  # idle connections opened: more than the server has descriptors
CAP = OPEN_FILES - RESERVED_FDS  # the connections the server serves
STRANGERS = CAP - 2 * (CAP // RESERVE_DIVISOR)  # of those, first come first served (the rest: web/admission.py)
WEBSOCKET_FLOOD = 8  # WebSockets tried on top of them
LOG_BOUND = 30_000  # characters: the reported flood wrote 13.6 MB in 8 s
WORT = "28-000000000001"


def low_open_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))


class Watcher:
    """A WebSocket client that connected first and keeps every frame it reads."""

    def __init__(self, connection: WebSocketClientConnection) -> None:
        self.connection = connection
        self.frames: list[dict] = []

    async def readings(self, count: int) -> None:
        """Read until ``count`` more readings arrived (bounded)."""
        seen = 0
        while seen < count:
            text = await asyncio.wait_for(self.connection.read_message(), WAIT)
            assert text is not None, "the server closed the first client's connection"
            frame = json.loads(text)
            self.frames.append(frame)
            seen += frame["type"] == "reading"

    def faults(self) -> list[str]:
        states = [f.get("state", f) for f in self.frames if f["type"] in ("hello", "state")]
        return [s["fault"] for s in states if s["fault"] is not None]


def open_idle(port: int, count: int) -> list[socket.socket]:
    """``count`` TCP connections that never send a byte."""
    sockets = []
    for _ in range(count):
        sockets.append(socket.create_connection(("127.0.0.1", port), timeout=WAIT))
    return sockets


def refusals(sockets: list[socket.socket], expected: int) -> dict[int, bytes]:
    """Wait (bounded) until ``expected`` of ``sockets`` were answered and closed by the server;
    returns what each of those received, by index."""
    answers: dict[int, bytes] = {}
    received = {i: b"" for i in range(len(sockets))}
    with selectors.DefaultSelector() as selector:
        for i, sock in enumerate(sockets):
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, i)
        deadline = time.monotonic() + WAIT
        while len(answers) < expected and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.2):
                i = key.data
                try:
                    data = sockets[i].recv(4096)
                except ConnectionResetError:
                    data = b""
                received[i] += data
                if not data:  # closed by the server
                    answers[i] = received[i]
                    selector.unregister(sockets[i])
    return answers


async def try_websocket(port: int) -> int | WebSocketClientConnection:
    """A new WebSocket, or the HTTP status it was refused with."""
    try:
        return await asyncio.wait_for(websocket_connect(f"ws://127.0.0.1:{port}/ws"), WAIT)
    except HTTPClientError as exc:
        return exc.code


async def flood(port: int) -> dict:
    watcher = Watcher(await asyncio.wait_for(websocket_connect(f"ws://127.0.0.1:{port}/ws"), WAIT))
    await watcher.readings(2)
    idle = open_idle(port, FLOOD)
    try:
        extra = [await try_websocket(port) for _ in range(WEBSOCKET_FLOOD)]
        await watcher.readings(10)  # ten more samples, 2 s, while the flood holds
        answers = refusals(idle, FLOOD - (STRANGERS - 1))  # all but the places the watcher left
    finally:
        for sock in idle:
            sock.close()
    # Once the idle connections are gone, a new client is served again (polled, bounded)
    deadline = time.monotonic() + WAIT
    while isinstance(again := await try_websocket(port), int):
        assert time.monotonic() < deadline, f"still refused ({again}) after the flood ended"
        await asyncio.sleep(0.05)  # polling with a deadline
    again.close()
    watcher.connection.close()
    return {"watcher": watcher, "answers": answers, "extra": extra}


def test_a_flood_of_idle_connections_is_refused_and_the_probe_keeps_reading(tmp_path: Path):
    # Given a server with 256 open files, a real probe tree and a client that connected first
    tree = W1Tree(tmp_path / "w1")
    tree.set(WORT, 18.0)
    # (one address may hold them all here: the share of one address is test_connection_limits.py's)
    server = Server("--port", "0", "--probes", "w1", "--w1-dir", str(tree.root), "--heater", "sim",
                    "--interval", "0.2", "--db", f"sqlite:///{tmp_path}/b.sqlite3",
                    "--max-clients-per-address", str(FLOOD),
                    preexec_fn=low_open_file_limit)
    try:
        port = server.wait_listening()
        # When a stranger opens more idle connections than the server has descriptors, then
        # tries WebSockets on top
        result = asyncio.run(flood(port))
        assert server.stop() == 0
    finally:
        server.kill()
    log = server.log()
    # Then the probe kept reading: no fault ever reached the first client
    watcher = result["watcher"]
    assert watcher.faults() == [], watcher.faults()
    assert "too_many_open_files" not in log and "probe_missing" not in log
    # And the connections beyond the cap were refused with a short 503, the WebSockets too
    assert int(re.search(r"serving at most (\d+) connections", log).group(1)) == CAP
    refused = result["answers"]
    assert sorted(refused) == list(range(STRANGERS - 1, FLOOD)), \
        "the first places but the watcher's are served, the rest refused (the last kept for the token holder)"
    assert all(answer.startswith(b"HTTP/1.1 503 ") for answer in refused.values())
    assert result["extra"] == [503] * WEBSOCKET_FLOOD
    # And the log stays small: no tracebacks, the refusals rate-limited
    assert "Traceback" not in log and "Too many open files" not in log
    assert len(log) < LOG_BOUND, f"{len(log)} characters of log"
    assert log.count("refused a connection") <= 6
