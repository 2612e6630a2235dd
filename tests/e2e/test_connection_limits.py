"""Issue 19 item 6: strangers cannot hold the connections.

The real service on a loopback port with its limits lowered (20 connections, 6 per address,
a 1.5 s body timeout); several loopback addresses (127.0.0.2, ...) are distinct clients.
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from beerpi.web import connections
from tests.conftest import WAIT, Client
from tests.support.process import TEST_TOKEN
from tests.support.sse_client import EventStream

MAX_CLIENTS = 20
PER_ADDRESS = 6
BODY_TIMEOUT = 1.5  # s
IDLE_TIMEOUT = 0.5  # s
DRIP_EVERY = 0.2  # s between the bytes of a dripping body
STALLED_AFTER = 0.5  # s, where a test lets stalled connections give their place


@pytest.fixture
def limits(monkeypatch):
    monkeypatch.setattr(connections, "MAX_CONNECTIONS_PER_ADDRESS", PER_ADDRESS)
    monkeypatch.setattr(connections, "BODY_TIMEOUT", BODY_TIMEOUT)
    monkeypatch.setattr(connections, "STALLED_AFTER", 60.0, raising=False)  # none gives its place but where said


def post_head(port: int) -> bytes:
    return (f"POST /ispindel HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: 1000\r\n\r\n{{").encode()


async def dripper(port: int, source: str) -> socket.socket:
    """A connection from ``source`` that sent a POST's headers and the first byte of its 1000-byte body."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)), WAIT)
    await loop.sock_sendall(sock, post_head(port))
    return sock


async def barrier(port: int) -> None:
    """Any answer to a new connection: the server has handled every connection opened before it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT, source_address=("127.0.0.254", 0))
    try:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        await asyncio.get_running_loop().run_in_executor(None, sock.recv, 1)
    finally:
        sock.close()


def answers(socks: list[socket.socket]) -> list[bytes | None]:
    """What each connection was sent so far (None: nothing, it is held open; b"": closed without a word)."""
    found: list[bytes | None] = []
    for sock in socks:
        try:
            found.append(sock.recv(4096))
        except BlockingIOError:
            found.append(None)
        except ConnectionResetError:
            found.append(b"")
    return found


async def flood(port: int, sources: list[str], each: int) -> tuple[list[socket.socket], list[bytes | None]]:
    socks = [await dripper(port, source) for source in sources for _ in range(each)]
    await barrier(port)
    return socks, answers(socks)


async def websocket_from(port: int, source: str, token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = HTTPRequest(f"ws://127.0.0.1:{port}/ws", headers=headers, network_interface=source)
    return Client(await asyncio.wait_for(websocket_connect(request), WAIT))


async def dashboard_from(port: int, source: str) -> None:
    """The page and its script, as a browser at ``source`` loads them (HTTPClientError if refused)."""
    http = AsyncHTTPClient()
    for path in ("/", "/static/js/main.js"):
        await http.fetch(HTTPRequest(f"http://127.0.0.1:{port}{path}", network_interface=source,
                                     request_timeout=WAIT))


def close_all(socks: list[socket.socket]) -> None:
    for sock in socks:
        sock.close()


@pytest.mark.gen_test(timeout=30)
async def test_one_address_cannot_take_more_than_its_share(start_service, limits):
    # Given a server for 20 connections
    service = start_service(max_clients=MAX_CLIENTS)
    # When one address opens 30 POSTs whose bodies never finish
    socks, seen = await flood(service.port, ["127.0.0.2"], 30)
    try:
        # Then it holds 6 of them; the rest are refused at once with a 503 that says why
        assert seen.count(None) == PER_ADDRESS
        refused = [answer for answer in seen if answer is not None]
        assert all(answer.startswith(b"HTTP/1.1 503 ") and b"from your address" in answer for answer in refused)
        # And a dashboard and a WebSocket from another address are served meanwhile
        await dashboard_from(service.port, "127.0.0.3")
        watcher = await websocket_from(service.port, "127.0.0.3")
        assert (await watcher.next())["type"] == "hello"
        watcher.close()
    finally:
        close_all(socks)


@pytest.mark.gen_test(timeout=30)
async def test_a_dripping_body_is_cut_after_the_body_timeout(start_service, limits):
    # Given a server and three POSTs that drip a byte of their 1000-byte body every 0.2 s
    service = start_service(max_clients=MAX_CLIENTS)
    loop = asyncio.get_running_loop()
    socks = [await dripper(service.port, "127.0.0.2") for _ in range(3)]
    started = time.monotonic()

    async def drip(sock: socket.socket) -> float:
        """Drip until the server closes the connection; how long it stayed open."""
        while True:
            try:
                await loop.sock_sendall(sock, b" ")
                data = await asyncio.wait_for(loop.sock_recv(sock, 4096), DRIP_EVERY)
            except asyncio.TimeoutError:
                continue  # nothing from the server yet: drip on
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            assert data == b"", data
            return time.monotonic() - started

    try:
        # When they keep dripping
        lasted = await asyncio.wait_for(asyncio.gather(*(drip(sock) for sock in socks)), BODY_TIMEOUT + WAIT)
    finally:
        close_all(socks)
    # Then the server closes each once the body timeout is over, long before the body is complete
    assert all(BODY_TIMEOUT * 0.9 <= t <= BODY_TIMEOUT + 3.0 for t in lasted), lasted
    # And their address is served again
    await dashboard_from(service.port, "127.0.0.2")


@pytest.mark.gen_test(timeout=30)
async def test_strangers_on_many_addresses_leave_room_for_the_token_holder(start_service, limits):
    # Given a server for 20 connections, and the brewer, who opened the dashboard with the token
    # from 127.0.0.9 earlier
    service = start_service(max_clients=MAX_CLIENTS)
    holder = await websocket_from(service.port, "127.0.0.9", TEST_TOKEN)
    assert (await holder.next())["type"] == "hello"
    holder.close()
    # When strangers on eight addresses open 6 dripping POSTs each (48 attempts)
    sources = [f"127.0.1.{i}" for i in range(1, 9)]
    socks, seen = await flood(service.port, sources, PER_ADDRESS)
    try:
        # Then they hold no more than the 20 less the token holders' reserve, the rest refused with 503
        held = seen.count(None)
        reserve = MAX_CLIENTS // 10
        assert held == MAX_CLIENTS - reserve
        assert all(answer.startswith(b"HTTP/1.1 503 ") for answer in seen if answer is not None)
        # And the brewer's dashboard and its WebSocket with the token still get in
        await dashboard_from(service.port, "127.0.0.9")
        brewer = await websocket_from(service.port, "127.0.0.9", TEST_TOKEN)
        assert (await brewer.next())["type"] == "hello"
        await brewer.send({"type": "set", "id": "t", "target": 19.5})
        reply = await brewer.wait_for(lambda frame: frame.get("id") == "t")
        assert reply["type"] != "error", reply
        brewer.close()
    finally:
        close_all(socks)


@pytest.mark.gen_test(timeout=30)
async def test_an_idle_connection_is_closed_but_websockets_and_streams_stay(start_service, limits, monkeypatch):
    monkeypatch.setattr(connections, "IDLE_CONNECTION_TIMEOUT", IDLE_TIMEOUT)
    service = start_service(max_clients=MAX_CLIENTS)
    watcher = await websocket_from(service.port, "127.0.0.3")
    stream = await EventStream.open(service.port)
    idle = socket.create_connection(("127.0.0.1", service.port), timeout=IDLE_TIMEOUT + WAIT)
    started = time.monotonic()
    try:
        # When a connection sends nothing while a WebSocket and an event stream read for 4 idle timeouts
        closed = asyncio.get_running_loop().run_in_executor(None, idle.recv, 1)
        while time.monotonic() - started < 4 * IDLE_TIMEOUT:
            await watcher.next()
            await stream.next()
        # Then the silent connection was closed after the idle timeout
        assert await asyncio.wait_for(closed, WAIT) == b""
        # And the WebSocket and the stream are still served
        await watcher.send({"type": "ping", "id": "alive"})
        await watcher.wait_for(lambda frame: frame.get("id") == "alive")
        assert (await stream.next()).frame["type"] in ("reading", "state", "status")
    finally:
        idle.close()
        watcher.close()
        stream.writer.close()


@pytest.mark.gen_test(timeout=30)
async def test_a_refused_websocket_hears_503(start_service, limits):
    service = start_service(max_clients=MAX_CLIENTS)
    socks, _ = await flood(service.port, ["127.0.0.2"], PER_ADDRESS)
    try:
        with pytest.raises(HTTPClientError) as refused:
            await websocket_from(service.port, "127.0.0.2")
        assert refused.value.code == 503
    finally:
        close_all(socks)


async def served_within(deadline: float, load) -> None:
    """``load()`` once it is no longer refused (polled until ``deadline``, as a browser retries)."""
    while True:
        try:
            return await load()
        except HTTPClientError as exc:
            assert exc.code == 503 and time.monotonic() < deadline, exc
        await asyncio.sleep(0.1)  # polling with a deadline


@pytest.mark.gen_test(timeout=30)
async def test_stalled_connections_give_their_place_to_the_brewer_on_the_same_address(start_service, limits,
                                                                                      monkeypatch):
    monkeypatch.setattr(connections, "STALLED_AFTER", STALLED_AFTER)
    monkeypatch.setattr(connections, "BODY_TIMEOUT", 60.0)  # here only giving places frees any
    service = start_service(max_clients=MAX_CLIENTS)
    # Given strangers holding the share of the brewer's own address (his machine, or his home's
    # router) and all the other places but the reserve, every one with a body that never ends
    socks, seen = await flood(service.port, ["127.0.0.2"] + [f"127.0.1.{i}" for i in range(1, 5)], PER_ADDRESS)
    try:
        assert seen.count(None) == MAX_CLIENTS - MAX_CLIENTS // 10  # all but the token holders' places
        # When the brewer loads the dashboard from that address, and a newcomer from another
        deadline = time.monotonic() + WAIT
        await served_within(deadline, lambda: dashboard_from(service.port, "127.0.0.2"))
        brewer = await served_within(deadline, lambda: websocket_from(service.port, "127.0.0.2", TEST_TOKEN))
        await served_within(deadline, lambda: dashboard_from(service.port, "127.0.0.7"))
        # Then both are served once the stalled connections have stalled long enough, in their places
        assert (await brewer.next())["type"] == "hello"
        assert service.http_server.open_connections() <= MAX_CLIENTS
        closed = [answer for answer in answers(socks) if answer == b""]
        assert closed, "no stalled connection gave its place"
        brewer.close()
    finally:
        close_all(socks)
