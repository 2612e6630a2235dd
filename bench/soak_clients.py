"""The soak's clients: well-behaved WebSocket and SSE readers, slow ones that never read, and hostile ones.

Every wait is bounded. A well-behaved client records when its hello came, when it left and
every reading it got, for ``soak_check.client_row``.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from typing import Any

import websockets
from soak_check import ClientRecord

WAIT = 10.0  # seconds any single network step may take
TOKEN = "soak-control-token"


def ws_url(port: int, token: str | None = None) -> str:
    return f"ws://127.0.0.1:{port}/ws" + (f"?token={token}" if token else "")


async def ws_reader(port: int, seconds: float) -> ClientRecord | None:
    """A WebSocket client that reads every frame for ``seconds``, then leaves (None: could not connect)."""
    readings: list[tuple[str, float]] = []
    record: ClientRecord | None = None
    try:
        async with websockets.connect(ws_url(port), open_timeout=WAIT, max_size=None) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert hello["type"] == "hello", hello
            record = ClientRecord("ws", time.time(), 0.0, readings)
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), left))
                except TimeoutError:
                    break
                if frame["type"] == "reading":
                    readings.append((frame["probe"], frame["ts"]))
            record.left = time.time()
            return record
    except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
        return _ended(record)


async def sse_reader(port: int, seconds: float) -> ClientRecord | None:
    """A server-sent-events client (``GET /events``) that reads for ``seconds``, then leaves."""
    readings: list[tuple[str, float]] = []
    record: ClientRecord | None = None
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, limit=2 ** 22), WAIT)
        writer.write(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            return None
        deadline = time.monotonic() + seconds
        text = ""
        while (left := deadline - time.monotonic()) > 0:
            try:
                chunk = await asyncio.wait_for(_chunk(reader), left)
            except TimeoutError:
                break
            if chunk is None:
                break
            text += chunk
            *events, text = text.split("\n\n")
            for event in events:
                data = "".join(line[5:].strip() for line in event.split("\n") if line.startswith("data:"))
                if not data:
                    continue
                frame = json.loads(data)
                if frame["type"] == "hello":
                    record = ClientRecord("sse", time.time(), 0.0, readings)
                elif frame["type"] == "reading" and record is not None:
                    readings.append((frame["probe"], frame["ts"]))
        if record is not None:
            record.left = time.time()
        return record
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        return _ended(record)
    finally:
        if writer is not None:
            writer.close()


async def _chunk(reader: asyncio.StreamReader) -> str | None:
    """One chunk of a chunked HTTP body (None at its end)."""
    size = int((await reader.readline()).strip() or b"0", 16)
    if size == 0:
        return None
    data = await reader.readexactly(size + 2)
    return data[:-2].decode()


def _ended(record: ClientRecord | None) -> ClientRecord | None:
    """A client whose connection was cut (the server killed under it): what it had."""
    if record is None:
        return None
    record.left = time.time()
    return record


async def churn(port_of: Any, sessions: int, concurrency: int, longest: float, rng: random.Random,
                stop: asyncio.Event) -> list[ClientRecord]:
    """``sessions`` clients, WebSocket and SSE by turns, at most ``concurrency`` at once, each
    connected for a random time up to ``longest`` seconds; ends early when ``stop`` is set."""
    records: list[ClientRecord] = []
    limit = asyncio.Semaphore(concurrency)

    async def one(number: int) -> None:
        async with limit:
            if stop.is_set():
                return
            reader = ws_reader if number % 2 == 0 else sse_reader
            record = await reader(port_of(), rng.uniform(0.5, longest))
            if record is not None:
                records.append(record)

    await asyncio.gather(*(one(number) for number in range(sessions)))
    return records


def slow_clients(port: int, count: int) -> list[socket.socket]:
    """Connections that ask for the stream (WebSocket and SSE by turns) and never read."""
    sockets = []
    for number in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(WAIT)
        sock.connect(("127.0.0.1", port))
        if number % 2 == 0:
            sock.sendall(f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\n\r\n".encode())
        else:
            sock.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        sockets.append(sock)
    return sockets


async def command(port: int, frame: dict[str, Any], token: str | None = TOKEN) -> dict[str, Any]:
    """Send one command with an id on a connection of its own; its reply (``ok`` or ``error``)."""
    frame = {**frame, "id": "soak"}
    async with websockets.connect(ws_url(port, token), open_timeout=WAIT) as ws:
        await ws.send(json.dumps(frame))
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            reply = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            if reply.get("id") == "soak" and reply["type"] in ("ok", "error"):
                return reply
    raise TimeoutError(f"no reply to {frame}")


async def hello(port: int) -> dict[str, Any]:
    async with websockets.connect(ws_url(port), open_timeout=WAIT) as ws:
        return json.loads(await asyncio.wait_for(ws.recv(), WAIT))


async def hostile(port: int, unauthorised: list[dict[str, Any]]) -> dict[str, int]:
    """Malformed and oversized frames, a flood and unauthenticated commands; how each was answered."""
    seen: dict[str, int] = {}

    def count(key: str) -> None:
        seen[key] = seen.get(key, 0) + 1

    async with websockets.connect(ws_url(port), open_timeout=WAIT, max_size=None) as ws:
        for text in ("not json", "{", "[1, 2]", '{"type": "set", "target": "warm"}', '{"type": "nope"}',
                     '{"type": "set", "chamber": "lager", "target": 1e999}', "\ud800".encode("utf-8", "surrogatepass")
                     .decode("utf-8", "replace")):
            await ws.send(text)
        await ws.send(b"\x00\x01binary")
        for frame in unauthorised:
            await ws.send(json.dumps(frame))
        await ws.send(json.dumps({"type": "auth", "token": "wrong-token-wrong-token"}))
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and sum(seen.values()) < 8 + len(unauthorised) + 1:
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.0, deadline - time.monotonic())))
            except (TimeoutError, websockets.exceptions.ConnectionClosed):
                break
            if frame["type"] == "error":
                count(frame["code"])
    async with websockets.connect(ws_url(port), open_timeout=WAIT) as ws:  # oversized: closed with 1009
        await ws.send("x" * 10_000)
        try:
            await asyncio.wait_for(_drain(ws), WAIT)
        except websockets.exceptions.ConnectionClosed as exc:
            count(f"closed {exc.rcvd.code if exc.rcvd else '-'}")
    async with websockets.connect(ws_url(port), open_timeout=WAIT) as ws:  # a flood: too_fast, then 1008
        try:
            for _ in range(400):
                await ws.send('{"type": "ping"}')
            await asyncio.wait_for(_drain(ws, count), WAIT)
        except websockets.exceptions.ConnectionClosed as exc:
            count(f"closed {exc.rcvd.code if exc.rcvd else '-'}")
    return seen


async def _drain(ws: Any, count: Any = None) -> None:
    while True:
        frame = json.loads(await ws.recv())
        if count is not None and frame["type"] == "error":
            count(frame["code"])


async def storage_status(port: int) -> dict[str, Any]:
    """The storage part of the ``status`` frame that follows ``hello``."""
    async with websockets.connect(ws_url(port), open_timeout=WAIT) as ws:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            frame = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            if frame["type"] == "status":
                return frame["storage"]
    raise TimeoutError("no status frame")
