"""Server-sent events: one event's text, then GET /events against the real service."""

from __future__ import annotations

import asyncio
import time

import pytest

from beerpi.protocol.wire import encode
from beerpi.web import sse
from beerpi.web.sse import event_text
from tests.conftest import WAIT
from tests.support.api_client import hub_of, post
from tests.support.process import TEST_TOKEN
from tests.support.sse_client import EventStream

# -- one event, without I/O --------------------------------------------------------------

def test_an_event_is_one_data_line():
    text = event_text("ab-3", encode({"type": "reading", "note": "two\nlines"}))
    assert text.count("\n") == 3 and text.startswith("id: ab-3\ndata: {") and text.endswith("}\n\n")


# -- against the real service ---------------------------------------------------------------

@pytest.fixture
def streams():
    opened: list[EventStream] = []

    async def open_stream(port: int, **kwargs) -> EventStream:
        stream = await EventStream.open(port, **kwargs)
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        stream.close()


def is_type(kind: str):
    return lambda event: event.frame["type"] == kind


@pytest.mark.gen_test(timeout=30)
async def test_the_stream_starts_with_hello_then_carries_readings(start_service, streams):
    service = start_service()
    stream = await streams(service.port)
    assert stream.status == 200 and stream.headers["content-type"].startswith("text/event-stream")
    hello = await stream.next()
    assert hello.frame["type"] == "hello" and hello.frame["chambers"][0]["id"] == "main"
    assert stream.retry == sse.RETRY_MS
    status = await stream.next()
    assert status.frame["type"] == "status" and status.id == hello.id
    reading = await stream.wait_for(is_type("reading"))
    assert reading.frame["probe"] in ("sim-wort", "sim-chamber") and reading.sequence > hello.sequence
    following = await stream.wait_for(is_type("reading"))
    assert following.sequence > reading.sequence


@pytest.mark.gen_test(timeout=30)
async def test_changes_by_websocket_and_http_clients_reach_the_stream(start_service, streams, connect):
    service = start_service()
    stream = await streams(service.port)
    await stream.wait_for(is_type("hello"))
    client = await connect(service.port)
    await client.send({"type": "set", "target": 23.5})
    by_websocket = await stream.wait_for(lambda e: e.frame["type"] == "state" and e.frame["target"] == 23.5)
    assert (await post(service.port, "/api/chambers/main/settings", {"target": 17.5})).status == 200
    by_http = await stream.wait_for(lambda e: e.frame["type"] == "state" and e.frame["target"] == 17.5)
    assert by_http.sequence > by_websocket.sequence


@pytest.mark.gen_test(timeout=30)
async def test_a_resume_replays_the_missed_frames_without_a_hello(start_service, streams):
    # Given a stream that stays and one that goes away after a few events
    service = start_service()
    witness = await streams(service.port)
    await witness.next(), await witness.next()  # its hello and status
    leaver = await streams(service.port)
    await leaver.wait_for(is_type("hello"))
    last = await leaver.wait_for(is_type("reading"))
    leaver.close()
    deadline = time.monotonic() + WAIT
    while len(hub_of(service).streams) > 1:  # the server noticed, and forgot it
        assert time.monotonic() < deadline, "a closed stream stayed among the hub's listeners"
        await asyncio.sleep(0.01)  # polling with a deadline
    # When frames are broadcast meanwhile, and it comes back with the last id it saw
    seen = {}
    while len([n for n in seen if n > last.sequence]) < 6:
        event = await witness.next()
        seen[event.sequence] = event
    back = await streams(service.port, last_event_id=last.id)
    # Then it is sent exactly the frames the witness saw after that id, in order, and no hello
    replayed = [await back.next() for _ in range(6)]
    assert [e.sequence for e in replayed] == list(range(last.sequence + 1, last.sequence + 7))
    assert [(e.id, e.data) for e in replayed] == [(seen[e.sequence].id, seen[e.sequence].data) for e in replayed]
    assert all(e.frame["type"] != "hello" for e in replayed)


@pytest.mark.gen_test(timeout=30)
async def test_a_stale_or_foreign_last_event_id_gets_a_fresh_hello(start_service, streams):
    service = start_service()
    for last_event_id in ("deadbeef-12", "not an id"):
        stream = await streams(service.port, last_event_id=last_event_id)
        assert (await stream.next()).frame["type"] == "hello"


@pytest.mark.gen_test(timeout=30)
async def test_a_quiet_stream_gets_keep_alive_comments(start_service, streams, monkeypatch):
    monkeypatch.setattr(sse, "KEEPALIVE_SECONDS", 0.05)
    service = start_service(interval=5.0)  # few readings: the comment is what keeps it alive
    stream = await streams(service.port)
    assert await stream.comment() == "keep-alive"


@pytest.mark.gen_test(timeout=60)
async def test_a_stream_that_does_not_read_is_dropped_and_the_others_carry_on(start_service, streams):
    # Given a stream whose client never reads (a small receive window) and one that reads
    service = start_service()
    hub = hub_of(service)
    reader = await streams(service.port)
    await reader.wait_for(is_type("hello"))
    stuck = await streams(service.port, receive_buffer=4096)
    deadline = time.monotonic() + 2 * WAIT
    while len(hub.streams) < 2:
        assert time.monotonic() < deadline, "the streams did not start"
        await asyncio.sleep(0.01)  # polling with a deadline
    # When big frames are broadcast
    big = encode({"type": "test", "padding": "x" * 64 * 1024})
    sent = 0
    while len(hub.streams) == 2:
        assert sent < 1000 and time.monotonic() < deadline, "the stuck stream was never dropped"
        hub.broadcast(big)
        sent += 1
        await asyncio.sleep(0)  # let the loop write and read
    # Then the stuck one was dropped, with a bounded backlog, and the reader got every frame
    assert len(hub.streams) == 1
    with pytest.raises((EOFError, asyncio.IncompleteReadError)):  # what reached it, then the end
        for _ in range(sent + 10):
            await stuck.next()
    received = 0
    while received < sent:
        event = await reader.next()
        received += event.frame["type"] == "test"
    assert received == sent


@pytest.mark.gen_test(timeout=30)
async def test_streams_count_toward_max_clients(start_service, streams):
    service = start_service(max_clients=2)
    first = await streams(service.port)
    second = await streams(service.port)
    await first.wait_for(is_type("hello"))
    await second.wait_for(is_type("hello"))
    third = await streams(service.port)
    assert third.status == 503
    first.close()
    deadline = time.monotonic() + WAIT
    while True:  # the freed descriptor is noticed at the next connection
        again = await streams(service.port)
        if again.status == 200:
            break
        assert time.monotonic() < deadline, "a closed stream never freed its place"
        await asyncio.sleep(0.05)  # polling with a deadline


@pytest.mark.gen_test(timeout=30)
async def test_a_foreign_host_or_a_missing_read_token_is_refused(start_service, streams):
    service = start_service(read_token_required=True)
    foreign = await streams(service.port, token=TEST_TOKEN, host="evil.example")
    assert foreign.status == 403 and "evil.example" in await foreign.body()
    anonymous = await streams(service.port)
    assert anonymous.status == 401 and "unauthorized" in await anonymous.body()
    allowed = await streams(service.port, token=TEST_TOKEN)
    assert allowed.status == 200 and (await allowed.next()).frame["type"] == "hello"
