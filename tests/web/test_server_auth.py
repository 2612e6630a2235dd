"""The control token end to end: the real service on a loopback port, real WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from beerpi.protocol.access import Access, FailureLimiter
from beerpi.repository.sqlite import SqliteRepository
from tests.conftest import WAIT, Client
from tests.support.process import TEST_TOKEN, ws_url

WRONG = "wrong-token-1234"


def is_type(kind: str):
    return lambda frame: frame["type"] == kind


def refusal(frame: dict) -> bool:
    """The answer to an auth (or a refused command): never a state broadcast, which the
    simulated chamber sends whenever its heater switches."""
    return frame["type"] in ("error", "auth")


async def handled(client: Client) -> None:
    """A ping round trip: every frame sent before it has been handled."""
    await client.send({"type": "ping"})
    await client.wait_for(is_type("pong"))


@pytest.mark.gen_test(timeout=30)
async def test_without_the_token_a_client_watches_but_changes_nothing(start_service, connect, db_path):
    # Given a client that connects without the token
    service = start_service()
    client = await connect(service.port, token=None)
    hello = await client.wait_for(is_type("hello"))
    await client.wait_for(is_type("reading"))
    # When it tries to change a setting and to start a profile
    await client.send({"type": "set", "target": 25.0, "mode": "off"})
    settings_refused = await client.wait_for(lambda f: refusal(f) or f["type"] == "state" and f["target"] == 25.0)
    await client.send({"type": "profile", "action": "start", "steps": [{"kind": "hold", "target": 12.0, "duration": 600}]})
    profile_refused = await client.wait_for(lambda f: refusal(f) or f["type"] == "state" and f["profile"])
    await client.send({"type": "history", "id": 1, "probe": "sim-wort", "since": hello["ts"] - 3600, "until": hello["ts"] + 60,
                       "points": 10})
    history = await client.wait_for(lambda f: f["type"] in ("history", "error"))
    await handled(client)
    # Then both are refused, saying what to do, and nothing changed; history is still answered
    for frame in (settings_refused, profile_refused):
        assert frame["type"] == "error" and frame["code"] == "unauthorized"
        assert "token" in frame["message"]
    assert history["type"] == "history"
    assert all(f["target"] == 20.0 and f["mode"] == "auto" and f["profile"] is None
               for f in client.received if f["type"] == "state")
    assert service.monitor.chambers[hello["chambers"][0]["id"]].settings.target == 20.0
    assert service.store.flush(10)
    with SqliteRepository(db_path) as reader:
        assert set(reader.load_settings()) <= {"simulation_clock"}


async def change_target(client: Client, target: float) -> dict:
    await client.send({"type": "set", "target": target})
    return await client.wait_for(lambda f: f["type"] == "error" or f["type"] == "state" and f["target"] == target)


@pytest.mark.gen_test(timeout=30)
async def test_the_token_as_a_bearer_header_or_on_the_url_allows_changes(start_service, connect):
    service = start_service()
    with_header = await connect(service.port)  # Authorization: Bearer
    state = await change_target(with_header, 21.0)
    assert state["type"] == "state"
    connection = await asyncio.wait_for(websocket_connect(ws_url(service.port)), WAIT)
    on_url = Client(connection)
    try:
        state = await change_target(on_url, 22.0)
        assert state["type"] == "state"
    finally:
        on_url.close()


@pytest.mark.gen_test(timeout=30)
async def test_an_auth_frame_authorises_a_connection_that_was_refused(start_service, connect):
    service = start_service()
    client = await connect(service.port, token=None)
    await client.wait_for(is_type("hello"))
    assert (await change_target(client, 23.0))["code"] == "unauthorized"
    # When it sends the token in an auth frame
    await client.send({"type": "auth", "token": TEST_TOKEN})
    # Then it is told so and may change settings
    assert await client.wait_for(refusal) == {"type": "auth", "ok": True}
    assert (await change_target(client, 23.0))["type"] == "state"


@pytest.mark.gen_test(timeout=30)
async def test_a_wrong_token_is_refused_and_logged_without_the_token(start_service, connect, caplog):
    caplog.set_level(logging.DEBUG)
    service = start_service()
    # A wrong token on the URL, a wrong token in a frame, the right token on the URL and on the page
    connection = await asyncio.wait_for(websocket_connect(ws_url(service.port, WRONG)), WAIT)
    wrong = Client(connection)
    try:
        await wrong.wait_for(is_type("hello"))
        assert (await wrong.wait_for(refusal))["code"] == "unauthorized"
        await wrong.send({"type": "auth", "token": WRONG + "x"})
        assert (await wrong.wait_for(refusal))["code"] == "unauthorized"
        assert (await change_target(wrong, 24.0))["code"] == "unauthorized"
    finally:
        wrong.close()
    right = Client(await asyncio.wait_for(websocket_connect(ws_url(service.port)), WAIT))
    try:
        assert (await change_target(right, 24.0))["type"] == "state"
    finally:
        right.close()
    page = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{service.port}/?token={TEST_TOKEN}")
    assert page.code == 200
    # Then each failure is logged with the address, and no token appears in any log line but the
    # link printed at start
    failures = [r.getMessage() for r in caplog.records if "wrong token" in r.getMessage()]
    assert failures == ["wrong token from 127.0.0.1"] * 2
    assert not [r for r in caplog.records if WRONG in r.getMessage()]
    showing = [r for r in caplog.records if TEST_TOKEN in r.getMessage()]
    assert [r.name for r in showing] == ["beerpi.service"]
    assert showing[0].getMessage().startswith(f"open http://127.0.0.1:{service.port}/?token={TEST_TOKEN} ")
    assert any("GET /?token=REDACTED" in r.getMessage() for r in caplog.records if r.name == "tornado.access")


@pytest.mark.gen_test(timeout=30)
async def test_repeated_wrong_tokens_lock_the_address_out_but_never_the_right_token(start_service, connect,
                                                                                   caplog):
    service = start_service()
    client = await connect(service.port, token=None)
    await client.wait_for(is_type("hello"))
    for _ in range(5):
        await client.send({"type": "auth", "token": WRONG})
        assert (await client.wait_for(refusal))["code"] == "unauthorized"
    # Then further wrong tokens from that address are refused for a while
    await client.send({"type": "auth", "token": WRONG})
    assert (await client.wait_for(refusal))["code"] == "rate_limited"
    assert any("refusing its wrong tokens" in r.getMessage() for r in caplog.records)
    # But the right token from the same address (the brewer behind the same NAT) still gets in
    await client.send({"type": "auth", "token": TEST_TOKEN})
    assert await client.wait_for(refusal) == {"type": "auth", "ok": True}
    other = await connect(service.port)  # the same address, with the right Bearer token
    assert (await change_target(other, 24.0))["type"] == "state"


def access_of(service) -> Access:
    """The Access a running service's handlers share."""
    for rule in service.http_server.request_callback.wildcard_router.rules:
        if rule.target_kwargs and "access" in rule.target_kwargs:
            return rule.target_kwargs["access"]
    raise AssertionError("no handler was given the access rules")


async def status_from(port: int, source: str, token: str) -> int:
    """GET /api/status from the loopback address ``source`` with ``token``: the HTTP status."""
    request = HTTPRequest(f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"Bearer {token}"},
                          network_interface=source, request_timeout=WAIT, connect_timeout=WAIT)
    response = await AsyncHTTPClient().fetch(request, raise_error=False)
    assert response.code != 599, f"no answer: {response.error}"
    return response.code


@pytest.mark.gen_test(timeout=30)
async def test_guesses_from_many_addresses_share_one_budget_and_the_right_token_always_passes(start_service):
    # Given a server whose limits are lowered: 3 wrong tokens per address, 6 an hour from all
    # addresses together, 4 addresses remembered
    service = start_service()
    access_of(service).limiter = FailureLimiter(allowed=3, guesses=6, guess_window=3600.0, max_addresses=4)
    # When one address guesses until it is locked out, and others guess once each
    locked = [await status_from(service.port, "127.0.0.2", WRONG) for _ in range(4)]
    others = [await status_from(service.port, f"127.0.0.{n}", WRONG) for n in range(3, 9)]
    # Then the address is locked, and new addresses do not guess any faster than it did
    assert locked == [401, 401, 401, 429]
    assert others == [401, 401, 401, 429, 429, 429]
    # And the locked address was not forgotten to make room for the others
    assert await status_from(service.port, "127.0.0.2", WRONG) == 429
    # And the right token passes from every address, the locked one too
    assert [await status_from(service.port, f"127.0.0.{n}", TEST_TOKEN) for n in range(2, 10)] == [200] * 8
    hydrometer = {"name": "red", "angle": 52.1, "temperature": 20.25, "gravity": 1.0473, "token": TEST_TOKEN}
    request = HTTPRequest(f"http://127.0.0.1:{service.port}/ispindel", method="POST", body=json.dumps(hydrometer),
                          network_interface="127.0.0.2", request_timeout=WAIT, connect_timeout=WAIT)
    assert (await AsyncHTTPClient().fetch(request, raise_error=False)).code == 200


@pytest.mark.gen_test(timeout=30)
async def test_with_read_token_required_a_client_without_the_token_is_refused(start_service, connect):
    service = start_service(read_token_required=True)
    with pytest.raises(HTTPClientError) as refused:
        await connect(service.port, token=None)
    assert refused.value.code == 401
    with pytest.raises(HTTPClientError) as wrong:
        await asyncio.wait_for(websocket_connect(ws_url(service.port, WRONG)), WAIT)
    assert wrong.value.code == 401
    client = await connect(service.port)
    assert (await client.wait_for(is_type("hello")))["version"] == 1
    page = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{service.port}/")
    assert page.code == 200  # the page holds no readings; it brings the token from the link
