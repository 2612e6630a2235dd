"""End to end: the real service on a loopback port, real WebSocket clients."""

from __future__ import annotations

import json
import logging
import re

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from beerpi.repository.sqlite import SqliteRepository
from beerpi.web.server import CHART_LIBRARY, warn_without_chart_library
from tests.support.api_client import post
from tests.support.process import TEST_TOKEN


def is_type(kind: str):
    return lambda frame: frame["type"] == kind


@pytest.mark.gen_test(timeout=30)
async def test_two_clients_get_hello_and_live_readings(start_service, connect):
    # Given a running server with simulated hardware
    service = start_service()
    # When two browsers connect
    first, second = await connect(service.port), await connect(service.port)
    # Then each is greeted with the state and probes, then receives readings of both probes
    for client in (first, second):
        hello = await client.next()
        assert hello["type"] == "hello" and hello["version"] == 1
        assert hello["state"]["mode"] == "auto" and hello["state"]["target"] == 20.0
        assert [p["id"] for p in hello["probes"]] == ["sim-wort", "sim-chamber"]
        assert [p["control"] for p in hello["probes"]] == [True, False]
        seen = set()
        while seen != {"sim-wort", "sim-chamber"}:
            reading = await client.wait_for(is_type("reading"))
            assert set(reading) == {"type", "ts", "probe", "name", "temperature"}
            assert 10.0 < reading["temperature"] < 30.0
            seen.add(reading["probe"])


@pytest.mark.gen_test(timeout=30)
async def test_a_setting_from_one_client_reaches_the_other_and_is_stored(start_service, connect, db_path):
    service = start_service()
    sender, watcher = await connect(service.port), await connect(service.port)
    await sender.wait_for(is_type("hello"))
    await watcher.wait_for(is_type("hello"))
    # When one client sets a new target and mode
    await sender.send({"type": "set", "target": 19.5, "mode": "off"})
    # Then both receive the new state
    for client in (sender, watcher):
        state = await client.wait_for(lambda f: f["type"] == "state" and f["target"] == 19.5)
        assert state["mode"] == "off" and state["heater"] is False and state["fault"] is None
    # And it is persisted (written behind: with the next batch of readings)
    assert service.store.flush(10)
    with SqliteRepository(db_path) as reader:
        stored = reader.load_settings()
    stored.pop("simulation_clock")  # the simulated profile clock's epoch, kept by --hardware sim
    assert stored == {"mode": "off", "target": 19.5, "hysteresis": 0.3}


@pytest.mark.gen_test(timeout=30)
async def test_an_invalid_setting_is_refused_to_its_sender_only(start_service, connect, db_path):
    service = start_service()
    sender, watcher = await connect(service.port), await connect(service.port)
    await sender.wait_for(is_type("hello"))
    await watcher.wait_for(is_type("hello"))
    await sender.send({"type": "set", "target": 99, "mode": "on"})
    error = await sender.wait_for(is_type("error"))
    assert error["code"] == "invalid_value" and "target" in error["message"]
    # Then nothing changed: a ping round trip proves the server has handled the frame
    await watcher.send({"type": "ping"})
    await watcher.wait_for(is_type("pong"))
    assert not [f for f in watcher.received if f["type"] in ("error",)]
    states = [f for f in sender.received + watcher.received if f["type"] == "state"]
    assert all(f["mode"] == "auto" and f["target"] != 99 for f in states)
    with SqliteRepository(db_path) as reader:
        assert reader.load_settings() == {}


@pytest.mark.gen_test(timeout=30)
async def test_a_stored_target_is_in_force_after_a_restart(start_service, connect):
    first = start_service()
    client = await connect(first.port)
    await client.wait_for(is_type("hello"))
    await client.send({"type": "set", "target": 22.5})
    await client.wait_for(lambda f: f["type"] == "state" and f["target"] == 22.5)
    first.stop()

    second = start_service(target=18.0)
    again = await connect(second.port)
    hello = await again.wait_for(is_type("hello"))
    assert hello["state"]["target"] == 22.5
    assert {r["probe"] for r in hello["readings"]} == {"sim-wort", "sim-chamber"}


@pytest.mark.gen_test(timeout=30)
async def test_a_client_that_vanishes_does_not_disturb_the_others(start_service, connect):
    service = start_service()
    leaver, stayer = await connect(service.port), await connect(service.port)
    await leaver.wait_for(is_type("hello"))
    await stayer.wait_for(is_type("hello"))
    leaver.connection.stream.close()  # abrupt: no closing handshake
    for _ in range(3):
        await stayer.wait_for(is_type("reading"))
    await stayer.send({"type": "ping"})
    await stayer.wait_for(is_type("pong"))


@pytest.mark.gen_test(timeout=30)
async def test_the_dashboard_and_its_local_d3_are_served(start_service):
    service = start_service()
    http = AsyncHTTPClient()
    page = await http.fetch(f"http://127.0.0.1:{service.port}/")
    html = page.body.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.startswith("/static/vendor/d3.min.js") for a in assets)
    assert all(a.startswith("/") and not a.startswith("//") for a in assets), "every asset is local"
    d3 = await http.fetch(f"http://127.0.0.1:{service.port}/static/vendor/d3.min.js")
    assert b"d3js.org" in d3.body and len(d3.body) > 100_000


@pytest.mark.gen_test(timeout=30)
async def test_a_change_is_stored_with_what_made_it_a_browser_a_websocket_script_or_the_api(start_service):
    service = start_service()
    url = f"ws://127.0.0.1:{service.port}/ws"
    auth = {"Authorization": f"Bearer {TEST_TOKEN}"}
    # When a browser (it sends an Origin), a script over the WebSocket and one over HTTP each set a target
    for target, headers in ((18.5, {**auth, "Origin": f"http://127.0.0.1:{service.port}"}), (18.6, auth)):
        connection = await websocket_connect(HTTPRequest(url, headers=headers))
        await connection.write_message(json.dumps({"type": "set", "target": target, "id": "s"}))
        while json.loads(await connection.read_message()).get("id") != "s":
            pass
        connection.close()
    await post(service.port, "/api/chambers/main/settings", {"target": 18.7})
    # Then each change is stored with its maker
    assert service.store.flush(10)
    events = [e for e in service.store.events_between(0, 2e9) if e.kind == "settings"]
    assert [(e.detail["new"]["target"], e.detail["source"]) for e in events] == [
        (18.5, "dashboard"), (18.6, "websocket"), (18.7, "api")]
def test_a_start_without_the_chart_library_says_so_in_the_log(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="beerpi.server"):
        assert warn_without_chart_library(tmp_path) is True  # an install without make
    assert "the chart library" in caplog.text and "run make" in caplog.text
    (tmp_path / CHART_LIBRARY).parent.mkdir(parents=True)
    (tmp_path / CHART_LIBRARY).write_text("/* d3 */")
    caplog.clear()
    assert warn_without_chart_library(tmp_path) is False
    assert caplog.text == ""
