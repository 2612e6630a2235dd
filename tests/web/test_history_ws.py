"""History and storage status over a real WebSocket, against the real service."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from beerpi.app.service import Service
from beerpi.repository.sqlite import SqliteRepository
from beerpi.web.hub import Hub
from tests.support.chambers import one_chamber_monitor

WAIT = 10.0


def is_type(kind: str):
    return lambda frame: frame["type"] == kind


async def wait_stored(service: Service, count: int) -> None:
    """Poll (bounded) until the store holds ``count`` readings of the wort probe."""
    deadline = time.monotonic() + WAIT
    while len(service.store.readings_between(0, time.time() + 1, "sim-wort")) < count:
        assert time.monotonic() < deadline, "readings were not stored in time"
        await asyncio.sleep(0.05)


@pytest.mark.gen_test(timeout=30)
async def test_history_of_a_probe_by_name_answers_with_buckets_and_the_id(start_service, connect):
    service = start_service()
    client = await connect(service.port)
    await client.wait_for(is_type("hello"))
    await wait_stored(service, 10)
    until = time.time() + 1
    stored = service.store.readings_between(0, until, "sim-wort")
    # When the client asks for the wort's history in 100 buckets
    await client.send({"type": "history", "id": "chart-1", "probe": "beer", "since": until - 3600,
                       "until": until, "points": 100})
    reply = await client.wait_for(is_type("history"))
    # Then every stored reading is counted in a bucket, and the reply carries the id
    assert reply["id"] == "chart-1" and reply["probe"] == "sim-wort"
    assert reply["since"] == until - 3600 and reply["until"] == until
    buckets = reply["buckets"]
    assert 1 <= len(buckets) <= 100
    assert sum(b["count"] for b in buckets) >= len(stored)
    assert all(b["min"] <= b["mean"] <= b["max"] for b in buckets)
    assert [b["ts"] for b in buckets] == sorted(b["ts"] for b in buckets)
    assert min(r.temperature for r in stored) >= min(b["min"] for b in buckets)


@pytest.mark.gen_test(timeout=30)
async def test_a_bad_history_request_is_refused_with_its_id(start_service, connect):
    service = start_service()
    client = await connect(service.port)
    await client.wait_for(is_type("hello"))
    await client.send({"type": "history", "id": 7, "probe": "cellar", "since": 0, "until": 10, "points": 10})
    error = await client.wait_for(is_type("error"))
    assert error["code"] == "invalid_value" and error["id"] == 7 and "cellar" in error["message"]


@pytest.mark.gen_test(timeout=30)
async def test_a_client_may_run_two_history_queries_at_once_and_pings_still_answer(controllable_service, connect):
    service, store = controllable_service()
    client = await connect(service.port)
    await client.wait_for(is_type("hello"))
    store.history_gate.clear()  # the database is slow
    now = time.time()
    for n in (1, 2, 3):
        await client.send({"type": "history", "id": n, "probe": "sim-wort", "since": now - 60,
                           "until": now, "points": 10})
    busy = await client.wait_for(lambda f: f["type"] in ("error", "history"))
    assert busy["type"] == "error" and busy["code"] == "busy" and busy["id"] == 3
    await client.send({"type": "ping"})
    await client.wait_for(is_type("pong"))
    store.history_gate.set()
    answered = {(await client.wait_for(is_type("history")))["id"] for _ in range(2)}
    assert answered == {1, 2}


@pytest.mark.gen_test(timeout=30)
async def test_the_storage_status_goes_to_clients_and_an_outage_shows_in_it(controllable_service, connect):
    service, store = controllable_service()
    client = await connect(service.port)
    await client.wait_for(is_type("hello"))
    status = await client.wait_for(is_type("status"))
    assert status["storage"]["ok"] is True and status["storage"]["dropped"] == 0
    # When the database fails, clients are told, and readings keep streaming
    store.down.set()
    down = await client.wait_for(lambda f: f["type"] == "status" and not f["storage"]["ok"])
    growing = await client.wait_for(lambda f: f["type"] == "status" and f["storage"]["backlog"] > down["storage"]["backlog"])
    assert growing["storage"]["ok"] is False
    await client.wait_for(is_type("reading"))
    # A history request meanwhile is answered with an error carrying its id
    now = time.time()
    await client.send({"type": "history", "id": "h", "probe": "sim-wort", "since": now - 60, "until": now,
                       "points": 10})
    error = await client.wait_for(is_type("error"))
    assert error["code"] == "unavailable" and error["id"] == "h"
    # When it is back, the backlog is delivered and the status says so
    store.down.clear()
    await client.wait_for(lambda f: f["type"] == "status" and f["storage"] == {"backlog": 0, "ok": True, "dropped": 0, "error": None, "durable": True},
                          limit=2000)


class Frames:
    """Stands in for a WebSocket handler in the Hub: keeps what it is sent."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def write_message(self, frame: str) -> None:
        self.sent.append(json.loads(frame))

    def statuses(self) -> list[dict]:
        return [f["storage"] for f in self.sent if f["type"] == "status"]


@pytest.mark.gen_test
async def test_a_status_change_reaches_every_client_even_when_another_joined_since(sim, store):
    probes, heater, _ = sim
    monitor = one_chamber_monitor(probes, heater, store, publish=lambda event: None)
    status = {"backlog": 0, "ok": True, "dropped": 0, "error": None}
    hub = Hub(monitor, [], store=store, storage_status=lambda: dict(status))
    first, second = Frames(), Frames()
    hub.join(first)
    # When the status changes and a second client joins before the next check
    status.update(ok=False, backlog=3)
    hub.join(second)
    hub.check_status()
    # Then both know the new status, and nobody hears it twice
    assert first.statuses() == [{"backlog": 0, "ok": True, "dropped": 0, "error": None}, {"backlog": 3, "ok": False, "dropped": 0, "error": None}]
    assert second.statuses()[-1] == {"backlog": 3, "ok": False, "dropped": 0, "error": None}
    hub.check_status()
    assert len(first.statuses()) == 2
    hub.leave(first)
    hub.leave(second)


@pytest.mark.gen_test(timeout=30)
async def test_history_says_its_bucket_width_and_where_only_roll_ups_are_left(start_service, connect, db_path):
    # Given a store whose raw readings older than an hour were deleted by --keep-raw
    from beerpi.hardware.probe import Reading
    now = time.time()
    old = SqliteRepository(db_path)
    old.add_readings([Reading(now - 7200 + i * 5, "sim-wort", "wort", 18.0 + i % 7 / 10) for i in range(1400)])
    while old.prune_raw(now - 3600, 500) == 500:
        pass
    raw_from = old.raw_kept_from()
    old.close()
    service = start_service()
    client = await connect(service.port)
    await client.wait_for(is_type("hello"))
    # When a chart asks for the last two hours in 720 points (10 s buckets where raw readings are kept)
    await client.send({"type": "history", "id": 1, "probe": "beer", "since": now - 7200, "until": now,
                       "points": 720})
    pruned = await client.wait_for(lambda f: f["type"] == "history" and f["id"] == 1)
    # Then the reply says readings before raw_from are gone and its buckets are whole minutes
    assert pruned["raw_from"] == raw_from and now - 3660 < raw_from <= now - 3600
    assert pruned["width"] == 60
    assert sum(b["count"] for b in pruned["buckets"]) >= 1400  # every reading ever stored, from the roll-ups
    # And a range after it has raw readings at the width it asked for, and no raw_from
    await client.send({"type": "history", "id": 2, "probe": "beer", "since": now - 1800, "until": now,
                       "points": 200})
    recent = await client.wait_for(lambda f: f["type"] == "history" and f["id"] == 2)
    assert recent["width"] == 10 and "raw_from" not in recent
