"""A real SQLite repository a test can switch off, and a real service on it (fixture ``controllable_service``)."""

from __future__ import annotations

import threading

import pytest

from beerpi.app.service import Service
from beerpi.base.errors import StorageError
from beerpi.config import Config
from beerpi.repository.sqlite import SqliteRepository
from tests.support.process import TEST_TOKEN

WAIT = 10.0


class Controllable(SqliteRepository):
    """A real SQLite repository whose history can be held back and whose writes can fail."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.history_gate = threading.Event()
        self.history_gate.set()
        self.down = threading.Event()

    def history(self, probe, since, until, points):
        assert self.history_gate.wait(WAIT)
        if self.down.is_set():
            raise StorageError("the test switched the database off")
        return super().history(probe, since, until, points)

    def add_readings(self, readings):
        if self.down.is_set():
            raise StorageError("the test switched the database off")
        super().add_readings(readings)


@pytest.fixture
def controllable_service(io_loop, db_path):
    """Start a simulated service on a Controllable store: returns (service, store)."""
    services: list[Service] = []

    def start() -> tuple[Service, Controllable]:
        store = Controllable(db_path)
        config = Config(host="127.0.0.1", port=0, db=f"sqlite:///{db_path}", hardware="sim",
                        interval=0.05, speed=60.0, token=TEST_TOKEN)
        service = Service(config, store=store)
        service.start()
        services.append(service)
        return service, store

    yield start
    for service in services:
        service.stop()
