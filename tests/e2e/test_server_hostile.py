"""Hostile and odd frames against the real server with a real WebSocket client."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tornado.httpclient import AsyncHTTPClient

from beerpi.protocol import frames as protocol
from beerpi.web import intake
from tests.conftest import WAIT
from tests.support.process import TEST_TOKEN

HISTORY = '{"type": "history", "id": %s, "probe": "sim-wort", "since": 1, "until": 2, "points": 10}'


def is_type(*kinds: str):
    return lambda frame: frame["type"] in kinds


def tracebacks(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info]


@pytest.mark.gen_test(timeout=30)
async def test_hostile_frames_get_an_error_and_the_connection_carries_on(start_service, connect, caplog):
    # Given a connected client
    service = start_service()
    client = await connect(service.port)
    await client.wait_for(is_type("hello"))
    # When it sends a 400-digit number, JSON nested 2 000 deep (within the 4 KiB frame size) and a
    # 400-digit history bound
    hostile = [
        '{"type": "set", "target": ' + "9" * 400 + "}",
        "[" * 2_000 + "]" * 2_000,
        HISTORY.replace('"since": 1', '"since": ' + "9" * 400) % '"h1"',
    ]
    for frame in hostile:
        await client.send(frame)
    await client.send({"type": "ping"})
    # Then each gets an error frame, in order, on the same connection, and a ping still answers
    replies = [await client.wait_for(is_type("error", "pong")) for _ in range(4)]
    assert [(r["type"], r.get("code")) for r in replies] == [
        ("error", "invalid_value"), ("error", "bad_json"), ("error", "invalid_value"), ("pong", None)]
    assert replies[2]["id"] == "h1"
    # And nothing was logged as a traceback
    assert not tracebacks(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_an_oversized_frame_closes_only_its_connection(start_service, connect):
    service = start_service()
    sender, other = await connect(service.port), await connect(service.port)
    await sender.wait_for(is_type("hello"))
    await other.wait_for(is_type("hello"))
    # When one client sends a frame far larger than any command
    await sender.send('{"type": "ping", "pad": "' + "x" * 1_000_000 + '"}')
    # Then the server closes that connection as "message too big" (1009)
    for _ in range(500):  # what was already on its way, then the close
        if await asyncio.wait_for(sender.connection.read_message(), WAIT) is None:
            break
    assert sender.connection.close_code == 1009
    # And the other client is served as before
    await other.send({"type": "ping"})
    await other.wait_for(is_type("pong"))


@pytest.mark.gen_test(timeout=30)
async def test_a_history_id_with_a_lone_surrogate_gets_an_error(start_service, connect, caplog):
    service = start_service()
    client = await connect(service.port)
    await client.wait_for(is_type("hello"))
    # When the raw text spells the id as a lone surrogate, then a ping
    await client.send(HISTORY % '"\\ud800"')
    await client.send({"type": "ping"})
    # Then the history request gets an error without the id (it cannot be sent back as UTF-8),
    # before the pong
    reply = await client.wait_for(is_type("error", "history", "pong"))
    assert reply["type"] == "error" and reply["code"] == "invalid_value" and "id" not in reply
    assert "surrogate" in reply["message"]
    await client.wait_for(is_type("pong"))
    assert not tracebacks(caplog)


@pytest.mark.gen_test(timeout=30)
async def test_an_unexpected_error_is_an_internal_error_and_a_log_line(start_service, connect, caplog,
                                                                     monkeypatch):
    service = start_service()
    client = await connect(service.port)
    await client.wait_for(is_type("hello"))
    real_parse = intake.parse

    def parse(text, probes=()):  # a defect the protocol does not know of yet
        if "boom" in text:
            raise ZeroDivisionError("a defect")
        return real_parse(text, probes)

    monkeypatch.setattr(intake, "parse", parse)
    # When a frame hits a defect twice
    await client.send('{"type": "boom"}')
    await client.send('{"type": "boom"}')
    await client.send({"type": "ping"})
    # Then the client gets an internal error for each and the connection carries on
    replies = [await client.wait_for(is_type("error", "pong")) for _ in range(3)]
    assert [r.get("code") for r in replies] == ["internal", "internal", None]
    # And the log has the traceback (rate-limited where logging is configured, see logsafety)
    assert [r for r in tracebacks(caplog) if "ZeroDivisionError" in caplog.text]


@pytest.mark.gen_test(timeout=30)
async def test_a_failing_history_task_logs_and_answers(start_service, connect, caplog, monkeypatch):
    service = start_service()
    client = await connect(service.port)
    await client.wait_for(is_type("hello"))

    def history_frame(command, buckets):
        raise ZeroDivisionError("a defect")

    monkeypatch.setattr(protocol, "history_frame", history_frame)
    # When a history request fails after the query
    await client.send(HISTORY % '"h2"')
    # Then the client hears of it, with its id, and the failure is in the log
    reply = await client.wait_for(is_type("error", "history"))
    assert (reply["type"], reply["code"], reply["id"]) == ("error", "internal", "h2")
    assert any("h2" in r.getMessage() and r.exc_info for r in caplog.records)


NUL_PATHS = ["/static/%00", "/static/js/%00.js", "/static/vendor/d3.min.js%00", "/%00", "/ws%00",
             "/api/%00", "/api/readings%00", "/history/%00", "/healthz%00",
             "/events%00", "/ispindel%00"]


@pytest.mark.gen_test(timeout=30)
async def test_a_nul_byte_in_a_path_is_a_client_error_with_a_reason(start_service, caplog):
    # Given a running server
    service = start_service()
    http = AsyncHTTPClient()
    # When each route is asked for with an escaped NUL byte in its path
    answers = {}
    for path in NUL_PATHS:
        response = await http.fetch(f"http://127.0.0.1:{service.port}{path}", raise_error=False)
        answers[path] = (response.code, response.body.decode(errors="replace"))
    response = await http.fetch(f"http://127.0.0.1:{service.port}/api/chambers/%00/settings", method="POST",
                                body='{"target": 19}', headers={"Authorization": f"Bearer {TEST_TOKEN}"},
                                raise_error=False)
    answers["POST /api/chambers/%00/settings"] = (response.code, response.body.decode(errors="replace"))
    # Then every answer is a 400 or a 404 that says why, never a 500, and nothing is logged as a traceback
    assert {path: code for path, (code, _) in answers.items() if code not in (400, 404)} == {}
    assert all(len(body.strip()) > 10 for _, body in answers.values()), answers
    assert "NUL" in answers["/static/%00"][1]
    assert not tracebacks(caplog)
