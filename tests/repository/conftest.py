"""Fixtures of the storage tests: a switchable SQLite backend and write-behind stores on it."""

from __future__ import annotations

import pytest

from beerpi.repository.spool import Spool
from beerpi.repository.writer import WriteBehind
from tests.support.write_behind import Switchable


@pytest.fixture
def backend(tmp_path):
    repository = Switchable(tmp_path / "beerpi.sqlite3")
    yield repository
    repository.close()


@pytest.fixture
def make_store(tmp_path):
    stores: list[WriteBehind] = []

    def make(backend, spool_first: bool = True, **options) -> WriteBehind:
        options = {"batch_delay": 0.05, "retry": (0.05, 0.2)} | options
        store = WriteBehind(backend, Spool(tmp_path / "spool.sqlite3", options.pop("max_readings", 1000)),
                            spool_first=spool_first, **options)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close(timeout=2)
