"""The server's WebSocket pings: a client that answers stays, a half-open one is dropped."""

from __future__ import annotations

import asyncio
import base64
import os
import socket

import pytest

from beerpi.web import server
from tests.conftest import WAIT
from tests.support.process import TEST_TOKEN


def silent_client(port: int) -> socket.socket:
    """A WebSocket upgrade done by hand; the socket then never answers a ping (as a vanished phone)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws?token={TEST_TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    return sock


def opcodes_until_close(sock: socket.socket) -> list[int]:
    """The opcodes of the frames the server sends, up to its close frame (bounded by the socket timeout)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, data = data.split(b"\r\n\r\n", 1)
    assert b" 101 " in head.split(b"\r\n")[0], head
    opcodes: list[int] = []
    while not opcodes or opcodes[-1] != CLOSE:
        while len(data) < 2 or len(data) < frame_length(data):
            chunk = sock.recv(65536)
            assert chunk, "the server closed without a close frame"
            data += chunk
        opcodes.append(data[0] & 0x0F)
        data = data[frame_length(data):]
    return opcodes


def frame_length(data: bytes) -> int:
    """Header plus payload of the unmasked server frame at the start of ``data`` (if enough is there)."""
    length = data[1] & 0x7F
    if length == 126:
        return 4 + int.from_bytes(data[2:4], "big") if len(data) >= 4 else 1 << 30
    if length == 127:
        return 10 + int.from_bytes(data[2:10], "big") if len(data) >= 10 else 1 << 30
    return 2 + length


CLOSE, PING = 0x8, 0x9


@pytest.mark.gen_test(timeout=30)
async def test_a_client_that_never_answers_pings_is_dropped(start_service, connect, monkeypatch):
    monkeypatch.setattr(server, "PING_INTERVAL", 0.5)
    monkeypatch.setattr(server, "PING_TIMEOUT", 0.5)
    service = start_service()
    answering = await connect(service.port)
    sock = silent_client(service.port)
    # When the silent client reads what it is sent but never answers a ping, while another
    # client reads its frames (Tornado's client answers pings only as fast as it is read)
    reading = asyncio.ensure_future(asyncio.get_running_loop().run_in_executor(None, opcodes_until_close, sock))
    while not reading.done():
        await answering.next()
    received = reading.result()
    sock.close()
    # Then the server pinged it and closed its connection
    assert PING in received and received[-1] == CLOSE
    # While a client that answers pings (every WebSocket library does) is still served after several pings
    for _ in range(3):
        await answering.send({"type": "ping", "id": "alive"})
        await answering.wait_for(lambda frame: frame.get("id") == "alive")
    assert answering.connection.close_code is None
    assert service.http_server.open_connections() == 1
