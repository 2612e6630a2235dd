"""Host and Origin checks: unit rules, then the real service refusing DNS rebinding and foreign pages."""

from __future__ import annotations

import asyncio
import socket

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from beerpi.web.hosts import HostCheck, host_name, is_own_address
from tests.conftest import WAIT, Client
from tests.support.process import TEST_TOKEN


@pytest.mark.parametrize("header, name", [
    ("127.0.0.1:8888", "127.0.0.1"), ("[::1]:8888", "::1"), ("BeerPi.local.", "beerpi.local"),
    ("raspberrypi", "raspberrypi"), ("::1", "::1"),
])
def test_the_name_in_a_host_header(header, name):
    assert host_name(header) == name


def test_the_servers_names_and_addresses_pass_and_others_do_not():
    hosts = HostCheck.for_server("0.0.0.0", allow_hosts=["brew.example.org"])
    for header in (f"{socket.gethostname()}:8888", f"{socket.gethostname()}.local", "localhost:8888",
                   "127.0.0.1:8888", "[::1]:8888", "brew.example.org"):
        assert hosts.host_ok(header), header
    for header in ("evil.example", "evil.example:8888", "192.0.2.77:8888", "", "brew.example.org.evil"):
        assert not hosts.host_ok(header), header


def test_an_address_is_the_machines_own_when_it_can_be_bound():
    assert is_own_address("127.0.0.1") and is_own_address("::1")
    assert not is_own_address("192.0.2.77")  # TEST-NET-1: never assigned
    assert not is_own_address("raspberrypi")


def test_an_origin_passes_when_it_is_the_requests_own_or_allowed():
    hosts = HostCheck(["127.0.0.1"], allow_origins=["https://brew.example.org/", "phone.example"])
    assert hosts.origin_ok("http://127.0.0.1:8888", "127.0.0.1:8888")
    assert not hosts.origin_ok("http://127.0.0.1:9999", "127.0.0.1:8888")  # another app on the machine
    assert not hosts.origin_ok("http://evil.example", "127.0.0.1:8888")
    assert not hosts.origin_ok("null", "127.0.0.1:8888")
    assert hosts.origin_ok("https://brew.example.org", "127.0.0.1:8888")
    assert hosts.origin_ok("http://phone.example:3000", "127.0.0.1:8888")


async def upgrade(port: int, **headers: str) -> Client:
    request = HTTPRequest(f"ws://127.0.0.1:{port}/ws", headers={"Authorization": f"Bearer {TEST_TOKEN}",
                                                              **headers})
    return Client(await asyncio.wait_for(websocket_connect(request), WAIT))


async def refused(port: int, **headers: str) -> int:
    with pytest.raises(HTTPClientError) as caught:
        await upgrade(port, **headers)
    return caught.value.code


@pytest.mark.gen_test(timeout=30)
async def test_a_dns_rebinding_page_is_refused(start_service):
    # Given evil.example, made to resolve to this machine: its page's requests carry its own name
    service = start_service()
    evil = {"Host": f"evil.example:{service.port}", "Origin": f"http://evil.example:{service.port}"}
    # Then neither the WebSocket, nor the page, nor its files are served, even with the token
    assert await refused(service.port, **evil) == 403
    for path in ("/", "/static/js/main.js"):
        with pytest.raises(HTTPClientError) as caught:
            await AsyncHTTPClient().fetch(f"http://127.0.0.1:{service.port}{path}", headers=evil)
        assert caught.value.code == 403
        assert "--allow-host" in caught.value.response.body.decode()


@pytest.mark.gen_test(timeout=30)
async def test_a_page_from_another_site_may_not_open_the_websocket(start_service):
    service = start_service()
    assert await refused(service.port, Origin="http://evil.example") == 403


@pytest.mark.gen_test(timeout=30)
async def test_the_servers_own_page_a_raw_client_and_allowed_names_connect(start_service):
    service = start_service(allow_origin=("https://brew.example.org",), allow_host=("brew.example.org",))
    port = service.port
    clients = [await upgrade(port, Origin=f"http://127.0.0.1:{port}"),  # the dashboard
               await upgrade(port, Host=f"localhost:{port}", Origin=f"http://localhost:{port}"),
               await upgrade(port),  # a script: no Origin
               await upgrade(port, Host="brew.example.org", Origin="https://brew.example.org")]
    try:
        for client in clients:
            assert (await client.wait_for(lambda f: f["type"] == "hello"))["version"] == 1
    finally:
        for client in clients:
            client.close()
    page = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{port}/", headers={"Host": "brew.example.org"})
    assert page.code == 200
