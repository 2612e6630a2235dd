"""Storage fixtures: a real MongoDB wire-protocol server for the session, a fresh database per test.

Set ``BEERPI_TEST_MONGO_URI`` (for example ``mongodb://127.0.0.1:27017/``) to run against
a real MongoDB instead of the in-process SecantusDB server started here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

MONGO_URI_VARIABLE = "BEERPI_TEST_MONGO_URI"


def with_database(uri: str, name: str) -> str:
    """``uri`` pointing at database ``name``, its options kept."""
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path=f"/{name}"))


def with_options(uri: str, **options: str) -> str:
    """``uri`` with these query options added."""
    parts = urlsplit(uri)
    added = "&".join(f"{key}={value}" for key, value in options.items())
    return urlunsplit(parts._replace(query=f"{parts.query}&{added}" if parts.query else added))


@pytest.fixture(scope="session")
def mongo_server_uri() -> Iterator[str]:
    """The URI of a MongoDB server for this test session (no database in it)."""
    uri = os.environ.get(MONGO_URI_VARIABLE)
    if uri:
        yield uri
        return
    secantus = pytest.importorskip("secantus", reason="the dev extra (secantusdb) is not installed")
    # Standalone (no replica set): like a single mongod, and no oplog to write.
    with secantus.SecantusDBServer(host="127.0.0.1", port=0, storage_path=":memory:",
                                   replica_set_name=None) as server:
        # It answers from this test process, whose GIL it shares with the test and the server
        # under test: on a loaded machine a big aggregation can pass BeerPi's 5 s socket timeout
        # for a real mongod, which no test of the data means to try.
        yield with_options(server.uri, socketTimeoutMS="30000")


@pytest.fixture
def mongo_url(mongo_server_uri: str) -> Iterator[str]:
    """A ``mongodb://`` storage URL of a database of its own, dropped afterwards."""
    from pymongo import MongoClient

    name = f"beerpi_test_{uuid.uuid4().hex[:12]}"
    yield with_database(mongo_server_uri, name)
    with MongoClient(mongo_server_uri, serverSelectionTimeoutMS=5000) as client:
        client.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'beerpi.sqlite3'}"


@pytest.fixture(params=["sqlite", "mongodb"])
def each_backend(request: pytest.FixtureRequest):
    """An open store of each backend in turn (the Repository contract's tests run on both)."""
    from beerpi.repository import open_repository

    url = request.getfixturevalue({"sqlite": "sqlite_url", "mongodb": "mongo_url"}[request.param])
    repository = open_repository(url)
    yield repository
    repository.close()
