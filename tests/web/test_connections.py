"""The connection cap: what the open-file limit allows, and a clean 503 beyond it."""

from __future__ import annotations

import logging
import resource

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from beerpi.base.errors import ConfigError
from beerpi.web.connections import DEFAULT_MAX_CLIENTS, RESERVED_FDS, client_limit, raise_open_file_limit
from tests.conftest import Client


@pytest.mark.parametrize("requested, open_files, cap", [
    pytest.param(None, 1024, DEFAULT_MAX_CLIENTS, id="default-on-a-stock-pi"),
    pytest.param(None, 524288, DEFAULT_MAX_CLIENTS, id="default-with-a-raised-limit"),
    pytest.param(None, 256, 256 - RESERVED_FDS, id="default-lowered-by-a-small-limit"),
    pytest.param(100, 1024, 100, id="requested-within-the-limit"),
    pytest.param(1024 - RESERVED_FDS, 1024, 1024 - RESERVED_FDS, id="requested-at-the-limit"),
])
def test_the_cap_keeps_descriptors_in_reserve(requested, open_files, cap):
    assert client_limit(requested, open_files) == cap


def test_a_cap_beyond_the_limit_is_lowered_and_says_so(caplog):
    with caplog.at_level(logging.WARNING):
        assert client_limit(5000, 1024) == 1024 - RESERVED_FDS
    assert "--max-clients 5000" in caplog.text and str(1024 - RESERVED_FDS) in caplog.text


def test_a_limit_too_low_for_any_client_is_a_config_error():
    with pytest.raises(ConfigError, match="ulimit -n"):
        client_limit(None, RESERVED_FDS + 1)


def test_the_soft_open_file_limit_is_raised_to_the_hard_one():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard < 2 * RESERVED_FDS:
        pytest.skip("needs a finite hard limit to lower the soft one below")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard // 2, hard))
    try:
        assert raise_open_file_limit() == hard
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.gen_test(timeout=30)
async def test_a_client_beyond_max_clients_gets_a_503_and_a_freed_place_is_served(start_service, connect):
    # Given a server for at most three connections, with three WebSocket clients
    service = start_service(max_clients=3)
    clients = [await connect(service.port) for _ in range(3)]
    for client in clients:
        assert (await client.next())["type"] == "hello"
    # When a fourth WebSocket client and a browser try
    with pytest.raises(HTTPClientError) as refused:
        await Client.connect(service.port)
    with pytest.raises(HTTPClientError) as page:
        await AsyncHTTPClient().fetch(f"http://127.0.0.1:{service.port}/")
    # Then both are refused with 503 and a short text saying why
    assert refused.value.code == page.value.code == 503
    assert b"most connections" in page.value.response.body and len(page.value.response.body) < 200
    # And the clients already connected carry on
    await clients[0].send({"type": "ping"})
    await clients[0].wait_for(lambda f: f["type"] == "pong")
    # And once one leaves, a newcomer is served (the server notices the close: poll, bounded)
    clients[2].close()
    for _ in range(200):
        try:
            newcomer = await connect(service.port)
            break
        except HTTPClientError:
            continue
    else:
        raise AssertionError("the freed place was not given to a newcomer")
    assert (await newcomer.next())["type"] == "hello"
