"""Shared fixtures: simulated hardware, temporary databases, a running server, WebSocket clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from beerpi.app.service import Service
from beerpi.config import Config
from beerpi.repository.sqlite import SqliteRepository
from beerpi.sim.fermenter import simulated_hardware
from tests.support.process import TEST_TOKEN

pytest_plugins = ["tests.support.conftest_storage", "tests.support.mqtt_broker", "tests.support.http_inbox",
                  "tests.support.fake_gpio", "tests.support.hub_process", "tests.support.controllable_store",
                  "tests.support.dashboard_browser"]
# MongoDB wire server, Mosquitto broker, alert inboxes, GPIO log, hub processes, a database that fails on cue, Chromium

WAIT = 10.0  # seconds: the upper bound of every wait in the tests


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "beerpi.sqlite3"


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


@pytest.fixture
def store(db_path: Path):
    repository = SqliteRepository(db_path)
    yield repository
    repository.close()


@pytest.fixture
def sim():
    """The standard simulated rig with a fixed noise seed: (probes, heater, fermenter)."""
    return simulated_hardware(speed=1.0, seed=42)


@pytest.fixture
def start_service(io_loop, db_url: str):
    """Start the real service on a free loopback port; stopped at the end of the test."""
    services: list[Service] = []

    def start(**overrides: Any) -> Service:
        options = {"host": "127.0.0.1", "port": 0, "db": db_url, "hardware": "sim",
                   "interval": 0.05, "speed": 60.0, "token": TEST_TOKEN} | overrides
        service = Service(Config(**options))
        service.start()
        services.append(service)
        return service

    yield start
    for service in services:
        service.stop()


class Client:
    """A real WebSocket client that reads JSON frames with a bounded wait."""

    def __init__(self, connection: WebSocketClientConnection) -> None:
        self.connection = connection
        self.received: list[dict[str, Any]] = []

    @classmethod
    async def connect(cls, port: int, token: str | None = TEST_TOKEN) -> Client:
        """Connect, presenting ``token`` as ``Authorization: Bearer`` (None: no token, watch only)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = HTTPRequest(f"ws://127.0.0.1:{port}/ws", headers=headers)
        connection = await asyncio.wait_for(websocket_connect(request), WAIT)
        return cls(connection)

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.connection.write_message(message if isinstance(message, str) else json.dumps(message))

    async def next(self) -> dict[str, Any]:
        text = await asyncio.wait_for(self.connection.read_message(), WAIT)
        assert text is not None, "the server closed the connection"
        frame = json.loads(text)
        self.received.append(frame)
        return frame

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], limit: int = 500) -> dict[str, Any]:
        """The first frame from now on that satisfies ``predicate`` (at most ``limit`` frames)."""
        for _ in range(limit):
            frame = await self.next()
            if predicate(frame):
                return frame
        raise AssertionError(f"no matching frame among the next {limit}")

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def connect():
    clients: list[Client] = []

    async def open_client(port: int, token: str | None = TEST_TOKEN) -> Client:
        client = await Client.connect(port, token)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()


FAKES = Path(__file__).resolve().parent / "support" / "fakes"


@pytest.fixture
def fake_gpio(monkeypatch):
    """RPi.GPIO replaced at its import boundary by the recording fake; returns the fake module."""
    import importlib.util
    import sys

    package_spec = importlib.util.spec_from_file_location("RPi", FAKES / "RPi" / "__init__.py")
    package = importlib.util.module_from_spec(package_spec)
    package_spec.loader.exec_module(package)
    spec = importlib.util.spec_from_file_location("RPi.GPIO", FAKES / "RPi" / "GPIO.py")
    gpio = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpio)
    package.GPIO = gpio
    monkeypatch.setitem(sys.modules, "RPi", package)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", gpio)
    return gpio


@pytest.fixture
def w1_tree(tmp_path: Path):
    """An empty 1-wire devices directory; add probes with ``.set(id, °C)``."""
    from tests.support.w1tree import W1Tree
    return W1Tree(tmp_path / "w1" / "devices")


@pytest.fixture(autouse=True)
def private_runtime_directory(tmp_path_factory, monkeypatch) -> Path:
    """Every test's lock files (GPIO pins, MongoDB databases) in a directory of its own, never
    the machine's /run/beerpi: test runs side by side on one machine must not see each other.
    Servers started as subprocesses inherit it (systemd sets the same variable)."""
    directory = tmp_path_factory.mktemp("run")
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(directory))
    return directory
