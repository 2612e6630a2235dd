"""Fixtures of the storage tests: a switchable SQLite backend and write-behind stores on it; the MongoDB
backend on the test's database, and that database as pymongo sees it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymongo import MongoClient

from beerpi.repository import open_repository
from beerpi.repository.mongo import MongoRepository
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


@pytest.fixture
def mongo_store(mongo_url: str) -> Iterator[MongoRepository]:
    repository = open_repository(mongo_url)
    assert isinstance(repository, MongoRepository)
    yield repository
    repository.close()


@pytest.fixture
def mongo_db(mongo_url: str):
    """The test's database through a plain pymongo client: what is really stored."""
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5000, tz_aware=True) as client:
        yield client.get_default_database()
