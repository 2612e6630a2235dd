"""Issue 19 item 11: every response carries the security headers, so no other site can frame the dashboard."""

from __future__ import annotations

import asyncio

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from tests.conftest import WAIT
from tests.support.process import TEST_TOKEN

PATHS = [
    "/", f"/?token={TEST_TOKEN}", "/static/js/main.js", "/static/style.css", "/static/nothing.js",
    "/static/%00", "/api/status", "/api/readings?probe=nope", "/api/nothing", "/healthz", "/ispindel",
    "/nothing", "/ws",
]


def assert_secure(headers, what: str) -> None:
    policy = {name: value.strip() for name, _, value in
              (part.strip().partition(" ") for part in headers.get("Content-Security-Policy", "").split(";"))}
    assert policy.get("frame-ancestors") == "'none'", (what, headers.get("Content-Security-Policy"))
    assert policy.get("script-src") == "'self'", what
    assert policy.get("object-src") == "'none'" and policy.get("base-uri") == "'none'", what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "no-referrer", what


@pytest.mark.gen_test(timeout=30)
async def test_every_answer_forbids_framing_foreign_scripts_sniffing_and_referrers(start_service):
    # Given a running server
    service = start_service()
    http = AsyncHTTPClient()
    # When pages, files, the API, errors and refusals are asked for
    for path in PATHS:
        response = await http.fetch(f"http://127.0.0.1:{service.port}{path}", raise_error=False)
        # Then each answer, whatever its status, carries the headers
        assert response.code < 599, (path, response.code)
        assert_secure(response.headers, f"{path} ({response.code})")
    # And so does a POST refused for want of a token, and the event stream's first answer
    refused = await http.fetch(f"http://127.0.0.1:{service.port}/api/chambers/main/settings", method="POST",
                               body="{}", raise_error=False)
    assert_secure(refused.headers, f"POST ({refused.code})")
    head: dict[str, str] = {}
    stream = http.fetch(HTTPRequest(f"http://127.0.0.1:{service.port}/events", request_timeout=WAIT,
                                    header_callback=lambda line: head.__setitem__(*line.strip().split(": ", 1))
                                    if ": " in line else None,
                                    streaming_callback=lambda chunk: None), raise_error=False)
    for _ in range(200):
        if "Content-Security-Policy" in head:
            break
        await asyncio.sleep(0.02)  # polling the headers read so far, bounded
    assert_secure(head, "/events")
    stream.cancel()


@pytest.mark.gen_test(timeout=30)
async def test_the_websocket_upgrade_carries_them_too(start_service):
    service = start_service()
    connection = await asyncio.wait_for(websocket_connect(f"ws://127.0.0.1:{service.port}/ws"), WAIT)
    assert_secure(connection.headers, "/ws upgrade")
    connection.close()
