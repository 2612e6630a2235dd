"""One load-client worker process for bench/fanout.py: many real WebSocket clients on one epoll loop.

The opening handshake is the ``websockets`` library's (sans-I/O ``ClientProtocol``: it writes
the request and checks the server's answer). After it, frames are read by a few lines of
header parsing instead of the library's parser, which costs about 10 µs a frame in Python:
at 100 000 frames/s that would make the load client, not the server, the bottleneck. A
connection that negotiated an extension (permessage-deflate) is read by the library's own
parser instead, so a compressed frame is never misread.

Each received frame is recorded as (payload, receive time); payloads are parsed as JSON
once per distinct payload at the end, so a reading's latency is its receive time minus
its ``ts``, on the same wall clock as the server's. The receive time is the kernel's
(``SO_TIMESTAMPNS``): when the bytes reached the client's socket, so that a load client
busy with its other connections does not count as the server's delay. When one read takes
several segments, the kernel gives the last one's time: the figure errs on the slow side.
How late the client itself reads is reported apart (``read_lag``).
"""

from __future__ import annotations

import errno
import json
import os
import resource
import select
import socket
import struct
import time
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.protocol import State
from websockets.uri import parse_uri

RECV_BYTES = 256 * 1024
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; the socket module does not name it
TIMESPEC = struct.Struct("qq")
PONG_EMPTY = b"\x8a\x80\x00\x00\x00\x00"  # a masked, empty pong: the mask key is zero, the payload unchanged


@dataclass
class Client:
    sock: socket.socket
    protocol: ClientProtocol
    state: str = "connecting"  # connecting, handshake, open, closed
    head: bytes = b""  # the handshake response read so far
    rest: bytes = b""  # an incomplete frame carried over to the next read
    compressed: bool = False
    seen: dict[bytes, list[float]] = field(default_factory=dict)  # receive times of each payload


@dataclass
class Recording:
    """When to record the frames each client receives."""

    start: float = float("inf")
    end: float = float("inf")


def record(seen: dict[bytes, list[float]], payload: bytes, now: float) -> None:
    times = seen.get(payload)
    if times is None:
        seen[payload] = [now]
    else:
        times.append(now)


def pin(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def parse_frames(client: Client, data: bytes, now: float, recording: bool) -> None:
    """Split ``data`` into frames; record text payloads, answer pings, notice a close."""
    buf = client.rest + data if client.rest else data
    pos, size = 0, len(buf)
    while size - pos >= 2:
        first, length = buf[pos], buf[pos + 1] & 0x7F
        start = pos + 2
        if length == 126:
            if size - pos < 4:
                break
            length, start = int.from_bytes(buf[pos + 2:pos + 4], "big"), pos + 4
        elif length == 127:
            if size - pos < 10:
                break
            length, start = int.from_bytes(buf[pos + 2:pos + 10], "big"), pos + 10
        end = start + length
        if end > size:
            break
        opcode = first & 0x0F
        if opcode == 0x1:
            if recording:
                record(client.seen, buf[start:end], now)
        elif opcode == 0x9:
            client.sock.send(PONG_EMPTY if length == 0 else ping_answer(buf[start:end]))
        elif opcode == 0x8:
            client.state = "closed"
            return
        pos = end
    client.rest = buf[pos:]


def ping_answer(payload: bytes) -> bytes:
    return bytes((0x8A, 0x80 | len(payload))) + b"\x00\x00\x00\x00" + payload


def read_compressed(client: Client, data: bytes, now: float, recording: bool) -> None:
    client.protocol.receive_data(data)
    for event in client.protocol.events_received():
        if event.opcode.value == 0x1 and recording:
            record(client.seen, event.data, now)
    outgoing = client.protocol.data_to_send()
    if outgoing:
        client.sock.send(b"".join(outgoing))
    if client.protocol.state is not State.OPEN:
        client.state = "closed"


def start_handshake(client: Client) -> None:
    request = client.protocol.connect()
    client.protocol.send_request(request)
    client.sock.send(b"".join(client.protocol.data_to_send()))
    client.state = "handshake"


def finish_handshake(client: Client, data: bytes) -> bytes | None:
    """Feed the response to the library; return the bytes after it, or None while it is incomplete."""
    client.head += data
    end = client.head.find(b"\r\n\r\n")
    if end < 0:
        return None
    head, after = client.head[:end + 4], client.head[end + 4:]
    client.head = b""
    client.protocol.receive_data(head)
    client.protocol.events_received()
    if client.protocol.state is not State.OPEN:
        raise ConnectionError(f"handshake refused: {client.protocol.handshake_exc}")
    client.compressed = bool(client.protocol.extensions)
    client.state = "open"
    return after


def summarise(clients: list[Client], t0: float, t1: float) -> dict[str, Any]:
    """Readings with ``ts`` in [t0, t1): how many times the clients got each, how many times one
    client got it (two late ticks in one millisecond can send the very same frame twice), and
    every latency in seconds."""
    counts: dict[tuple[str, float], int] = {}
    multiplicity: dict[tuple[str, float], int] = {}
    latencies = array("d")
    messages: dict[bytes, Any] = {}
    for client in clients:
        mine: dict[tuple[str, float], int] = {}
        for payload, times in client.seen.items():
            message = messages.get(payload)
            if message is None:
                message = messages[payload] = json.loads(payload)
            if message.get("type") != "reading" or not t0 <= message["ts"] < t1:
                continue
            key = (message["probe"], message["ts"])
            mine[key] = mine.get(key, 0) + len(times)
            ts = message["ts"]
            latencies.extend(now - ts for now in times)
        for key, count in mine.items():
            counts[key] = counts.get(key, 0) + count
            multiplicity[key] = max(multiplicity.get(key, 0), count)
    return {"counts": counts, "multiplicity": multiplicity, "latencies": latencies.tobytes()}


def run(pipe: Connection, host: str, port: int, count: int, cpu: int | None, deflate: bool,
        connect_timeout: float) -> None:
    """The worker's life: connect ``count`` clients, report, keep reading, record a window, report."""
    pin(cpu)
    raise_open_files()
    uri = parse_uri(f"ws://{host}:{port}/ws")
    extensions = [ClientPerMessageDeflateFactory()] if deflate else None
    poller = select.epoll()
    clients: dict[int, Client] = {}
    errors: dict[str, int] = {}
    dropped: list[Client] = []
    lags = array("d")  # how long after the kernel received them this client read the bytes

    def fail(client: Client, reason: str) -> None:
        errors[reason] = errors.get(reason, 0) + 1
        drop(client)

    def drop(client: Client) -> None:
        client.state = "closed"
        dropped.append(client)  # what it received still counts
        fd = client.sock.fileno()
        if fd >= 0:
            poller.unregister(fd)
            clients.pop(fd, None)
            client.sock.close()

    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        code = sock.connect_ex((host, port))
        if code not in (0, errno.EINPROGRESS):
            errors[errno.errorcode.get(code, str(code))] = errors.get(errno.errorcode.get(code, str(code)), 0) + 1
            sock.close()
            continue
        client = Client(sock, ClientProtocol(uri, extensions=extensions, max_size=None))
        clients[sock.fileno()] = client
        poller.register(sock.fileno(), select.EPOLLOUT | select.EPOLLIN)

    pipe_fd = pipe.fileno()
    poller.register(pipe_fd, select.EPOLLIN)
    recording = Recording()
    reported = False
    deadline = time.monotonic() + connect_timeout
    cpu_at_start: float | None = None
    ended_open = 0

    while True:
        pending = sum(1 for c in clients.values() if c.state != "open")
        if not reported and (pending == 0 or time.monotonic() > deadline):
            for client in [c for c in clients.values() if c.state != "open"]:
                fail(client, "timeout")
            pipe.send(("connected", len(clients), errors))
            reported = True
        now_wall = time.time()
        if now_wall >= recording.end:
            break
        events = poller.poll(0.2)
        now = time.time()
        if cpu_at_start is None and now >= recording.start:
            cpu_at_start = sum(os.times()[:2])
        recording_now = now >= recording.start
        for fd, mask in events:
            if fd == pipe_fd:
                command, t0, t1, end = pipe.recv()
                assert command == "measure"
                recording.start, recording.end = t0 - 0.5, end
                window = (t0, t1)
                continue
            client = clients.get(fd)
            if client is None:
                continue
            try:
                if client.state == "connecting":
                    code = client.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if code:
                        fail(client, errno.errorcode.get(code, str(code)))
                        continue
                    start_handshake(client)
                    poller.modify(fd, select.EPOLLIN)
                    continue
                if not mask & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR):
                    continue
                data, ancillary, _, _ = client.sock.recvmsg(RECV_BYTES, 64)
                if ancillary and recording_now:
                    sec, nsec = TIMESPEC.unpack(ancillary[-1][2])
                    arrived = sec + nsec * 1e-9
                    lags.append(now - arrived)
                else:
                    arrived = now
                if not data:
                    fail(client, "closed by server" if client.state == "open" else "closed in handshake")
                    continue
                if client.state == "handshake":
                    after = finish_handshake(client, data)
                    if after is None:
                        continue
                    data = after
                if client.compressed:
                    read_compressed(client, data, arrived, recording_now)
                else:
                    parse_frames(client, data, arrived, recording_now)
                if client.state == "closed":
                    fail(client, "closed by server")
            except BlockingIOError:
                continue
            except (OSError, ConnectionError) as exc:
                fail(client, type(exc).__name__)
    ended_open = sum(1 for c in clients.values() if c.state == "open")
    every = list(clients.values()) + dropped
    cpu = sum(os.times()[:2]) - (cpu_at_start or sum(os.times()[:2]))
    summary = summarise(every, *window)
    pipe.send(("result", summary | {"open_at_end": ended_open, "errors": errors, "cpu": cpu,
                                    "lags": lags.tobytes()}))
    for client in list(clients.values()):
        client.sock.close()
