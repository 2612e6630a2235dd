"""Watchers cannot slow what matters: bulk reads and stalled downloads against the live page's chart.

The real service on a loopback port with a real SQLite file; strangers are raw sockets from
other loopback addresses (127.0.0.2, …), so each counts as another address.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
import tracemalloc

import pytest

from beerpi.hardware.probe import Reading
from beerpi.web.api import csv_download as api_csv
from beerpi.web.read_lanes import BULK_PER_ADDRESS, LIVE_POINTS
from tests.conftest import WAIT
from tests.support.api_client import hub_of

OLD = 1_600_000_000.0  # a range in 2020, before the simulation's readings
DAY = 86400.0
STEP = 10.0  # s between stored readings of the range
CHART = {"type": "history", "probe": "sim-wort", "since": OLD + DAY, "until": OLD + 2 * DAY, "points": 600}


def is_type(kind: str):
    return lambda frame: frame["type"] == kind


def two_days(service) -> None:
    """Two days of both probes' readings, every STEP seconds, in the database."""
    readings = [Reading(OLD + i * STEP + offset, probe, name, 18.0 + (i % 100) / 100)
                for i in range(int(2 * DAY / STEP))
                for probe, name, offset in (("sim-wort", "wort", 0.0), ("sim-chamber", "chamber", 0.5))]
    for start in range(0, len(readings), 5000):
        service.store.add_readings(readings[start:start + 5000])
    assert service.store.flush(WAIT * 3)


async def chart_read(client, request_id: int) -> float:
    """Seconds the live page waits for its 24 h chart."""
    asked = time.monotonic()
    await client.send(CHART | {"id": request_id})
    reply = await client.wait_for(lambda f: f.get("id") == request_id)
    assert reply["type"] == "history" and reply["buckets"], reply
    return time.monotonic() - asked


async def median_chart(client, first_id: int, times: int = 9) -> float:
    return statistics.median([await chart_read(client, first_id + n) for n in range(times)])


async def get(port: int, source: str, path: str, read: bool = True) -> tuple[asyncio.StreamReader,
                                                                               asyncio.StreamWriter]:
    """A raw GET from ``source`` (a loopback address); its answer is read to the end unless ``read`` is False."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    if read:
        while await reader.read(1 << 16):
            pass
        writer.close()
    return reader, writer


async def stranger(port: int, source: str, path: str, stop: asyncio.Event) -> int:
    """Fetch ``path`` from ``source`` again and again, as fast as answers come, until ``stop``; how many."""
    done = 0
    while not stop.is_set():
        await get(port, source, path)
        done += 1
    return done


@pytest.mark.gen_test(timeout=120)
async def test_downloads_and_big_histories_from_strangers_do_not_delay_the_live_chart(start_service, connect):
    # Given two days of stored readings and the live page reading its 24 h chart
    service = start_service(interval=1.0)
    two_days(service)
    page = await connect(service.port, token=None)
    await page.wait_for(is_type("hello"))
    await chart_read(page, 0)  # warm the caches
    alone = await median_chart(page, 100)
    # When strangers on six other addresses download the whole range as CSV and ask for the most
    # buckets there are, again and again, as fast as they are answered
    csv = f"/api/readings.csv?since={OLD}&until={OLD + 2 * DAY}"
    big = f"/api/readings?probe=sim-wort&since={OLD}&until={OLD + 2 * DAY}&points=5000"
    stop = asyncio.Event()
    load = [asyncio.ensure_future(stranger(service.port, f"127.0.0.{n}", csv if n % 2 else big, stop))
            for n in range(2, 8)]
    try:
        await asyncio.sleep(0.5)  # let the strangers' requests queue up (the load, not a synchronisation)
        loaded = await median_chart(page, 200)
    finally:
        stop.set()
        served = await asyncio.wait_for(asyncio.gather(*load), WAIT * 3)
    # Then the chart comes about as fast as it did alone (the strangers were served meanwhile)
    assert sum(served) >= 6
    assert loaded <= 3 * alone + 0.05, f"the chart took {loaded * 1000:.0f} ms under load, " \
                                       f"{alone * 1000:.0f} ms alone"


@pytest.mark.gen_test(timeout=120)
async def test_stalled_downloads_hold_little_memory_and_are_dropped(start_service, connect, monkeypatch):
    monkeypatch.setattr(api_csv, "STALL_TIMEOUT", 2.0)  # the test's patience, not the server's
    # Given two days of stored readings
    service = start_service(interval=1.0)
    two_days(service)
    page = await connect(service.port, token=None)
    await page.wait_for(is_type("hello"))
    csv = f"/api/readings.csv?since={OLD}&until={OLD + 2 * DAY}"
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        # When ten strangers (ten addresses) start a download each and never read it, on a tiny receive buffer
        stalled = []
        for n in range(2, 12):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.bind((f"127.0.0.{n}", 0))
            sock.connect(("127.0.0.1", service.port))
            sock.sendall(f"GET {csv} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            stalled.append(sock)
        started = time.monotonic()
        await asyncio.sleep(1.0)  # the server writes until their buffers are full (the load, not a synchronisation)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # Then the server holds little for them: about a page each, not the readings behind it
    assert held < 10 * 100_000, f"{held / 1e6:.1f} MB held by 10 stalled downloads"
    # And the live chart is still served
    assert (await chart_read(page, 1)) < 2.0
    # And the server drops them once they have taken nothing for STALL_TIMEOUT, and so is open
    # to those addresses again
    reads = hub_of(service).reads
    while reads.bulk_under_way():
        assert time.monotonic() - started < api_csv.STALL_TIMEOUT + WAIT, "a stalled download was never dropped"
        await asyncio.sleep(0.1)  # polling with a deadline
    for sock in stalled:
        sock.close()


@pytest.mark.gen_test(timeout=60)
async def test_one_address_has_at_most_two_bulk_reads_under_way(start_service, connect, monkeypatch):
    monkeypatch.setattr(api_csv, "STALL_TIMEOUT", 2.0)  # the test's patience, not the server's
    # Given two days of stored readings, and a stranger with two downloads it does not read
    service = start_service(interval=1.0)
    two_days(service)
    csv = f"/api/readings.csv?since={OLD}&until={OLD + 2 * DAY}"
    stalled = [await get(service.port, "127.0.0.2", csv, read=False) for _ in range(BULK_PER_ADDRESS)]
    reads = hub_of(service).reads
    deadline = time.monotonic() + WAIT
    while reads.bulk_under_way() < BULK_PER_ADDRESS:
        assert time.monotonic() < deadline, "the downloads did not start"
        await asyncio.sleep(0.02)  # polling with a deadline
    # When it starts a third bulk read, a download or a history of more than the chart's points
    third = await fetch_from("127.0.0.2", service.port, csv)
    bigger = await fetch_from("127.0.0.2", service.port, f"/api/readings?probe=sim-wort&since={OLD}"
                                                         f"&until={OLD + 2 * DAY}&points={LIVE_POINTS + 1}")
    # Then it is refused with 429 busy, saying why
    assert third.startswith(b"HTTP/1.1 429") and b'"busy"' in third and b"at a time" in third
    assert bigger.startswith(b"HTTP/1.1 429") and b'"busy"' in bigger
    # And another address downloads, and any address reads the chart's history
    other = await fetch_from("127.0.0.3", service.port, f"/api/readings.csv?since={OLD}&until={OLD + 60}")
    assert other.startswith(b"HTTP/1.1 200") and other.count(b"\n") > 12
    chart = await fetch_from("127.0.0.2", service.port, f"/api/readings?probe=sim-wort&since={OLD}"
                                                        f"&until={OLD + DAY}&points={LIVE_POINTS}")
    assert chart.startswith(b"HTTP/1.1 200")
    # And once its stalled downloads are dropped, the stranger may download again
    while reads.bulk_under_way():
        assert time.monotonic() < deadline + api_csv.STALL_TIMEOUT, "the stalled downloads were never dropped"
        await asyncio.sleep(0.1)  # polling with a deadline
    again = await fetch_from("127.0.0.2", service.port, f"/api/readings.csv?since={OLD}&until={OLD + 60}")
    assert again.startswith(b"HTTP/1.1 200")
    for _, writer in stalled:
        writer.close()


async def fetch_from(source: str, port: int, path: str) -> bytes:
    """The whole raw answer to a GET of ``path`` from ``source``."""
    reader, writer = await get(port, source, path, read=False)
    try:
        return await asyncio.wait_for(reader.read(), WAIT)
    finally:
        writer.close()
