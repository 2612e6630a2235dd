"""The broadcast's fast path: frames a real client decodes, compressed and plain clients, slow clients."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from typing import Any

import pytest
import tornado.web
import tornado.websocket
from tornado.httpclient import HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.testing import bind_unused_port
from tornado.websocket import websocket_connect
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from beerpi.app.service import Service
from beerpi.web import fanout
from beerpi.web.hub import Hub
from tests.conftest import WAIT

SIZES = (0, 1, 124, 125, 126, 127, 65535, 65536, 70000)  # payload bytes around each length encoding


def text_of(size: int) -> str:
    """A text of exactly ``size`` UTF-8 bytes, mostly two-byte letters (a probe named "Gärkeller" …)."""
    return "ä" * (size // 2) + "r" * (size % 2)


def decoded_by_websockets(data: bytes) -> list[tuple[Opcode, bool, str]]:
    """The frames the websockets library's client parser finds in ``data``."""
    client = ClientProtocol(parse_uri("ws://127.0.0.1/ws"), state=State.OPEN, max_size=None)
    client.receive_data(data)
    return [(frame.opcode, frame.fin, frame.data.decode("utf-8")) for frame in client.events_received()]


@pytest.mark.parametrize("size", SIZES)
def test_a_frame_decodes_as_the_text_it_was_built_from(size):
    text = text_of(size)
    assert len(text.encode()) == size
    assert decoded_by_websockets(fanout.text_frame(text)) == [(Opcode.TEXT, True, text)]


def test_frames_sent_together_decode_one_by_one_in_order():
    texts = [text_of(size) + "°C" for size in SIZES]
    assert decoded_by_websockets(fanout.text_frames(texts)) == [(Opcode.TEXT, True, t) for t in texts]


# -- a small app whose handlers only join a set of waiters, one of them with compression ------------

class Waiter(tornado.websocket.WebSocketHandler):
    def initialize(self, waiters: set) -> None:
        self.waiters = waiters

    def get_compression_options(self) -> dict[str, Any] | None:
        return {} if self.get_argument("deflate", None) else None

    def open(self) -> None:
        self.waiters.add(self)

    def on_close(self) -> None:
        self.waiters.discard(self)


async def until(condition, what: str) -> None:
    """Poll ``condition`` on the IOLoop until it holds; fail after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {WAIT} s"
        await asyncio.sleep(0.01)  # polling with a deadline, not synchronisation by sleeping


@pytest.fixture
def waiter_app(io_loop):
    waiters: set[Waiter] = set()
    sock, port = bind_unused_port()
    server = HTTPServer(tornado.web.Application([(r"/ws", Waiter, {"waiters": waiters})]))
    server.add_sockets([sock])
    yield waiters, port
    server.stop()


@pytest.mark.gen_test(timeout=30)
async def test_a_compressed_and_a_plain_client_both_receive_every_frame(waiter_app):
    waiters, port = waiter_app
    # Given a client that negotiated permessage-deflate and one that did not
    compressed = await websocket_connect(f"ws://127.0.0.1:{port}/ws?deflate=1", compression_options={})
    plain = await websocket_connect(f"ws://127.0.0.1:{port}/ws")
    assert "permessage-deflate" in compressed.headers.get("Sec-WebSocket-Extensions", "")
    await until(lambda: len(waiters) == 2, "both clients joined")
    routes = {handler.get_argument("deflate", "no"): fanout.route(handler) for handler in waiters}
    assert routes["1"] is None and routes["no"] is not None  # Tornado's way, and the fast path
    # When frames of every length encoding are broadcast, some of them together
    texts = [json.dumps({"n": n, "name": text_of(size)}, ensure_ascii=False) for n, size in enumerate(SIZES)]
    assert fanout.broadcast(list(waiters), texts[:3]) == []
    for text in texts[3:]:
        assert fanout.broadcast(list(waiters), [text]) == []
    # Then both receive every one, in order
    for client in (compressed, plain):
        for text in texts:
            assert await asyncio.wait_for(client.read_message(), WAIT) == text
        client.close()


# -- the real service ------------------------------------------------------------------------------

def hub_of(service: Service) -> Hub:
    """The service's hub, as the WebSocket route was given it."""
    app = service.http_server.request_callback
    for rule in app.wildcard_router.rules:
        if "hub" in (rule.target_kwargs or {}):
            return rule.target_kwargs["hub"]
    raise AssertionError("no /ws route with a hub")


def readings(frames: list[dict]) -> list[tuple[str, float]]:
    return [(f["probe"], f["ts"]) for f in frames if f["type"] == "reading"]


@pytest.mark.gen_test(timeout=60)
async def test_a_client_offering_deflate_and_one_that_does_not_both_get_every_reading(start_service, connect):
    service = start_service(interval=0.05)
    # Given a client offering permessage-deflate, as browsers do, and one that does not
    offering = await asyncio.wait_for(websocket_connect(
        HTTPRequest(f"ws://127.0.0.1:{service.port}/ws"), compression_options={}), WAIT)
    plain = await connect(service.port)
    # Then BeerPi declines compression (every client is sent the same bytes)
    assert "Sec-WebSocket-Extensions" not in offering.headers
    # And both receive the same readings, which are every reading stored meanwhile
    got: dict[str, list[dict]] = {"offering": [], "plain": []}

    async def collect(name: str, read) -> None:
        while len(readings(got[name])) < 40:
            text = await asyncio.wait_for(read(), WAIT)
            assert text is not None, "the server closed the connection"
            got[name].append(json.loads(text))

    await asyncio.gather(collect("offering", offering.read_message), collect("plain", plain.connection.read_message))
    offering.close()
    first = max(readings(got["offering"])[0][1], readings(got["plain"])[0][1])
    last = min(readings(got["offering"])[-1][1], readings(got["plain"])[-1][1])
    window = {name: [r for r in readings(frames) if first <= r[1] <= last] for name, frames in got.items()}
    assert len(window["plain"]) >= 30 and window["offering"] == window["plain"]
    assert await IOLoop.current().run_in_executor(None, service.store.flush, WAIT)
    stored = await IOLoop.current().run_in_executor(None, service.store.readings_between, first, last + 0.001)
    assert sorted(window["plain"]) == sorted((r.probe, round(r.ts, 3)) for r in stored)


def stalled_client(port: int) -> socket.socket:
    """A raw client that completes the upgrade, then never reads: a tiny receive buffer fills at once."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: sets the window
    sock.settimeout(WAIT)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)  # byte by byte: nothing beyond the response is read
        assert chunk, "the server closed the connection during the upgrade"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


@pytest.mark.gen_test(timeout=90)
async def test_a_client_that_stops_reading_is_dropped_while_another_gets_every_reading_on_time(
        start_service, connect, caplog):
    caplog.set_level(logging.WARNING, logger="beerpi.fanout")
    service = start_service(interval=0.05)
    hub = hub_of(service)
    # Given a client that stops reading and one that reads
    stalled = await IOLoop.current().run_in_executor(None, stalled_client, service.port)
    reader = await connect(service.port)
    await until(lambda: len(hub.waiters) == 2, "both clients joined")
    frames: list[dict] = []
    late: list[float] = []

    async def read_until(predicate) -> None:
        while True:
            frame = await reader.next()
            frames.append(frame)
            if frame["type"] == "reading":
                late.append(time.time() - frame["ts"])
            if predicate(frame):
                return

    try:
        # When the server has far more to send than the stalled client takes (64 KiB frames)
        for n in range(400):  # bounded: about 25 MiB, beyond any kernel's socket buffers and the limit
            hub.broadcast(json.dumps({"type": "bulk", "n": n, "pad": "x" * 65536}))
            await read_until(lambda f, n=n: f["type"] == "bulk" and f["n"] == n)
            if len(hub.waiters) == 1:
                break
        # Then the stalled client is dropped with 1013 and one log line, the reader never is
        assert len(hub.waiters) == 1, "the stalled client was never dropped"
        drops = [r.getMessage() for r in caplog.records if "reads too slowly" in r.getMessage()]
        assert len(drops) == 1 and "close code 1013" in drops[0]
        # And the reader goes on receiving every reading, on time
        seen = len(readings(frames))
        await read_until(lambda f: len(readings(frames)) >= seen + 20)
    finally:
        stalled.close()
    by_probe: dict[str, list[float]] = {}
    for probe, ts in readings(frames):
        by_probe.setdefault(probe, []).append(ts)
    for stamps in by_probe.values():
        assert stamps == sorted(stamps) and len(stamps) == len(set(stamps))
    assert await IOLoop.current().run_in_executor(None, service.store.flush, WAIT)
    first, last = readings(frames)[0][1], readings(frames)[-1][1]
    stored = await IOLoop.current().run_in_executor(None, service.store.readings_between, first, last + 0.001)
    assert sorted(r for r in readings(frames)) == sorted((r.probe, round(r.ts, 3)) for r in stored)
    assert max(late) < 2.0, f"a reading reached the reader {max(late):.2f} s late"


@pytest.mark.gen_test(timeout=30)
async def test_a_newcomer_is_greeted_from_memory_without_reading_the_database(start_service, connect, monkeypatch):
    service = start_service()
    first = await connect(service.port)
    await first.wait_for(lambda f: f["type"] == "reading" and f["probe"] == "sim-wort")

    def no_reads(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the database was read for a newcomer")

    # Given a database whose every read fails the test
    for name in ("latest", "readings_between", "iter_readings", "history", "events_between", "load_settings"):
        monkeypatch.setattr(service.store, name, no_reads)
    # When a client connects, its hello carries the latest reading of the probe
    hello = await (await connect(service.port)).wait_for(lambda f: f["type"] == "hello")
    assert "sim-wort" in {r["probe"] for r in hello["readings"]}
