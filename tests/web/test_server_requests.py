"""Requests over the real WebSocket: ids carried back, get_temp, events, ping, and the limits."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from beerpi.protocol.rate_limit import ABUSE_REFUSED, BURST, COMMANDS_PER_SECOND
from tests.conftest import WAIT


def is_type(*kinds: str):
    return lambda frame: frame["type"] in kinds


def replies_to(request_id):
    return lambda frame: frame.get("id") == request_id


@pytest.mark.gen_test(timeout=30)
async def test_a_set_with_an_id_is_answered_with_ok_and_the_new_state(start_service, connect):
    service = start_service()
    client, watcher = await connect(service.port), await connect(service.port, token=None)
    await client.wait_for(is_type("hello"))
    await watcher.wait_for(is_type("hello"))
    # When a client sets a target with an id
    await client.send({"type": "set", "id": "t-1", "target": 21.5})
    # Then it is answered with ok, its id and the chamber's new state
    ok = await client.wait_for(replies_to("t-1"))
    assert ok["type"] == "ok" and ok["request"] == "set" and ok["chamber"] == "main"
    assert ok["state"]["target"] == 21.5
    # And the others get the state frame as before, without the ok
    await watcher.wait_for(lambda f: f["type"] == "state" and f["target"] == 21.5)
    assert not [f for f in watcher.received if f["type"] == "ok"]


@pytest.mark.gen_test(timeout=30)
async def test_every_refusal_of_a_request_carries_its_id(start_service, connect):
    service = start_service()
    client, watcher = await connect(service.port), await connect(service.port, token=None)
    await client.wait_for(is_type("hello"))
    await watcher.wait_for(is_type("hello"))
    cases = [
        (client, {"type": "set", "id": 1, "target": 99}, "invalid_value"),
        (client, {"type": "set", "id": 2, "colour": "red"}, "unknown_field"),
        (client, {"type": "nonsense", "id": 3}, "unknown_type"),
        (client, {"type": "profile", "id": 4, "action": "explode"}, "invalid_value"),
        (client, {"type": "events", "id": 5, "since": 10, "until": 5}, "invalid_value"),
        (client, {"type": "events", "id": 6, "since": 0, "until": 5, "chamber": "garage"}, "invalid_value"),
        (watcher, {"type": "set", "id": 7, "target": 18}, "unauthorized"),
        (watcher, {"type": "profile", "id": 8, "action": "stop"}, "unauthorized"),
    ]
    for sender, frame, code in cases:
        await sender.send(frame)
        error = await sender.wait_for(replies_to(frame["id"]))
        assert (error["type"], error["code"]) == ("error", code), frame
    # And a ping with an id is answered with a pong carrying it
    await watcher.send({"type": "ping", "id": "p"})
    assert (await watcher.wait_for(replies_to("p")))["type"] == "pong"


@pytest.mark.gen_test(timeout=30)
async def test_get_temp_reads_the_probes_now_and_answers_the_asker(start_service, connect):
    # Given a server that samples only every 30 s, and its first sample taken
    service = start_service(interval=30.0)
    asker, other = await connect(service.port, token=None), await connect(service.port, token=None)
    hello = await asker.wait_for(is_type("hello"))
    await other.wait_for(is_type("hello"))
    probes = {probe["id"] for probe in hello["probes"]}
    # When a watching client (no token needed) asks for the temperature
    asked_at = time.time()
    await asker.send({"type": "get_temp", "id": "now"})
    # Then it gets a fresh reading of every probe with its id, long before the next tick, then ok
    fresh = []
    while True:
        frame = await asker.wait_for(replies_to("now"))
        if frame["type"] == "ok":
            break
        fresh.append(frame)
    assert frame["request"] == "get_temp" and frame["missing"] == []
    assert {f["probe"] for f in fresh} == probes
    assert all(f["type"] == "reading" and f["ts"] >= asked_at - 0.01 for f in fresh)
    assert time.time() - asked_at < 5.0
    # And the other client received the same tick as ordinary readings, without the asker's id
    await other.wait_for(lambda f: f["type"] == "reading" and f["ts"] == fresh[0]["ts"])
    assert not [f for f in other.received if "id" in f]


@pytest.mark.gen_test(timeout=30)
async def test_events_lists_what_happened_filtered_by_kind_and_chamber(start_service, connect):
    service = start_service()
    client = await connect(service.port)
    await client.wait_for(is_type("hello"))
    start = time.time() - 1
    await client.send({"type": "set", "id": "a", "target": 20.5})
    await client.wait_for(replies_to("a"))
    await client.send({"type": "set", "id": "b", "mode": "off"})
    await client.wait_for(replies_to("b"))
    # When the events of the last minute are asked for, settings only, of the main chamber
    query = {"type": "events", "id": "ev", "since": start, "until": time.time() + 60,
             "kinds": ["settings"], "chamber": "main"}
    deadline = time.monotonic() + WAIT
    while True:  # settings events reach the database through the writer thread
        await client.send(query)
        reply = await client.wait_for(replies_to("ev"))
        if len(reply["events"]) >= 2 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)  # poll again (the deadline bounds it)
    # Then both changes are there, in order, saying what changed
    assert reply["type"] == "events" and reply["truncated"] is False
    assert [e["kind"] for e in reply["events"]] == ["settings", "settings"]
    assert [e["chamber"] for e in reply["events"]] == ["main", "main"]
    assert reply["events"][0]["detail"]["new"]["target"] == 20.5
    assert reply["events"][1]["detail"]["new"]["mode"] == "off"
    # And a limit of one says that more were left out
    await client.send(query | {"id": "ev1", "limit": 1})
    reply = await client.wait_for(replies_to("ev1"))
    assert len(reply["events"]) == 1 and reply["truncated"] is True
    # And a kind that did not happen gives an empty list
    await client.send(query | {"id": "ev2", "kinds": ["clock_jump"]})
    assert (await client.wait_for(replies_to("ev2")))["events"] == []


@pytest.mark.gen_test(timeout=30)
async def test_a_frame_over_4_kib_closes_the_connection_with_1009(start_service, connect):
    service = start_service()
    sender = await connect(service.port)
    await sender.wait_for(is_type("hello"))
    # A frame just within the limit is answered
    await sender.send('{"type": "ping", "id": "' + "x" * 50 + '", "pad": "' + "y" * 3900 + '"}')
    assert (await sender.wait_for(is_type("pong")))["id"] == "x" * 50
    # One just over it closes the connection as "message too big"
    await sender.send('{"type": "ping", "pad": "' + "y" * 4100 + '"}')
    for _ in range(500):
        if await asyncio.wait_for(sender.connection.read_message(), WAIT) is None:
            break
    assert sender.connection.close_code == 1009


@pytest.mark.gen_test(timeout=60)
async def test_a_command_flood_is_refused_then_closed_while_others_are_served(start_service, connect):
    service = start_service()
    flooder, watcher = await connect(service.port), await connect(service.port, token=None)
    await flooder.wait_for(is_type("hello"))
    await watcher.wait_for(is_type("hello"))
    # When one authorised client sends far more set commands than 20 a second
    sent = BURST + ABUSE_REFUSED + 50
    started = time.monotonic()
    for n in range(sent):
        await flooder.send({"type": "set", "id": n, "target": 10 + (n % 20)})
    # Then the excess is refused with too_fast and the connection is closed with 1008
    codes = []
    while (text := await asyncio.wait_for(flooder.connection.read_message(), WAIT)) is not None:
        codes.append(text)
    assert flooder.connection.close_code == 1008
    flooding = time.monotonic() - started
    refused = sum('"too_fast"' in text for text in codes)
    assert all('"id":' in text for text in codes if '"too_fast"' in text)  # each says which it refused
    applied = sum('"type":"ok"' in text for text in codes)
    assert refused >= ABUSE_REFUSED - 1
    # The burst, and what the rate refilled while the flood lasted (longer on a loaded machine)
    assert applied <= BURST + COMMANDS_PER_SECOND * flooding + 1 < sent - ABUSE_REFUSED
    # And the other client is still served promptly
    asked = time.monotonic()
    await watcher.send({"type": "ping", "id": "still"})
    await watcher.wait_for(replies_to("still"), limit=5000)
    assert time.monotonic() - asked < 2.0


@pytest.mark.gen_test(timeout=60)
async def test_get_temp_from_a_watcher_does_not_multiply_the_stored_readings(start_service, connect, db_path):
    # Given a server that stores a sample every 3 s
    interval = 3.0
    service = start_service(interval=interval)
    started = time.monotonic()
    watcher = await connect(service.port, token=None)
    await watcher.wait_for(is_type("hello"))
    # When a watcher asks for the temperature every 50 ms for 7.5 s
    answered, n = 0, 0
    while time.monotonic() - started < 7.5:
        await watcher.send({"type": "get_temp", "id": n})
        n += 1
        await asyncio.sleep(0.05)  # the watcher's pace, not a synchronisation
        while True:  # take what arrived, without waiting for more
            try:
                frame = await asyncio.wait_for(watcher.connection.read_message(), 0.001)
            except asyncio.TimeoutError:
                break
            if frame is not None and '"ok"' in frame:
                answered += 1
    elapsed = time.monotonic() - started
    service.stop()  # the writer hands everything to the file before it ends
    # Then it was answered (a fresh sample about once a second) ...
    assert answered >= 3
    # ... but the database holds about one sample per interval, not one per answer
    with sqlite3.connect(db_path) as db:
        stored = dict(db.execute("SELECT probe, count(*) FROM readings GROUP BY probe").fetchall())
    assert stored and max(stored.values()) <= elapsed / interval + 2, (stored, elapsed)
