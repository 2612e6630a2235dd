"""What only the MongoDB backend promises: BSON dates, indexes, short timeouts, clear outages."""

from __future__ import annotations

import datetime as dt
import socket
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from pymongo import MongoClient

from beerpi.base.errors import ConfigError, StorageError
from beerpi.hardware.probe import Reading
from beerpi.repository import Event, open_repository
from beerpi.repository.mongo import MongoRepository

T0 = 1_700_000_000.0


@pytest.fixture
def store(mongo_store: MongoRepository) -> MongoRepository:
    return mongo_store


@pytest.fixture
def raw(mongo_db):
    return mongo_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_readings_are_stored_as_bson_utc_dates_with_a_key_made_of_probe_and_time(store, raw):
    store.add_readings([Reading(T0 + 0.25, "wort", "Wort", 20.5, heater=True)])
    doc = raw["readings"].find_one()
    assert doc == {"_id": "wort/1700000000250", "probe": "wort", "name": "Wort", "temperature": 20.5,
                   "heater": True,
                   "ts": dt.datetime(2023, 11, 14, 22, 13, 20, 250_000, tzinfo=dt.timezone.utc)}


def test_indexes_are_made_on_first_contact(store, raw):
    assert raw.list_collection_names() == []  # opening touched nothing
    store.latest()
    assert "probe_ts" in raw["readings"].index_information()
    assert "ts_probe" in raw["readings"].index_information()
    for level in ("1m", "5m", "15m", "1h", "6h", "1d"):
        assert "probe_ts" in raw[f"rollup_{level}"].index_information()
    assert "ts_id" in raw["events"].index_information()


def test_roll_ups_hold_exact_min_max_sum_and_count(store, raw):
    store.add_readings([Reading(T0 + i, "wort", "Wort", float(i)) for i in range(0, 120, 10)])
    store.add_readings([Reading(T0 + i, "wort", "Wort", float(i)) for i in range(0, 120, 10)])  # replayed
    hour = raw["rollup_1h"].find_one()
    assert (hour["t_min"], hour["t_max"], hour["t_sum"], hour["n"]) == (0.0, 110.0, 660.0, 12)
    assert sum(doc["n"] for doc in raw["rollup_1m"].find()) == 12


def test_events_keep_their_id_and_detail_as_a_document(store, raw):
    store.add_event(Event(T0, "settings", {"source": "client", "new": {"target": 19.5}}, id="e1"))
    assert raw["events"].find_one() == {
        "_id": "e1", "kind": "settings", "detail": {"source": "client", "new": {"target": 19.5}},
        "ts": dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)}


def test_timeouts_are_short_by_default_and_the_url_can_change_them(mongo_url):
    mongo_url = urlunsplit(urlsplit(mongo_url)._replace(query=""))  # without the test server's own options
    with MongoRepository(mongo_url) as store:
        options = store._client.options
        assert (options.server_selection_timeout, options.pool_options.connect_timeout,
                options.pool_options.socket_timeout) == (2.0, 2.0, 5.0)
    with MongoRepository(mongo_url + "?serverSelectionTimeoutMS=700&socketTimeoutMS=9000") as store:
        assert store._client.options.server_selection_timeout == 0.7
        assert store._client.options.pool_options.socket_timeout == 9.0


def test_an_unreachable_server_does_not_stop_the_start_and_each_call_says_what_to_check():
    port = free_port()
    url = f"mongodb://brewer:s3cret@127.0.0.1:{port}/beerpi?serverSelectionTimeoutMS=300"
    started = time.monotonic()
    store = open_repository(url)  # does not contact the server
    assert time.monotonic() - started < 1.0
    try:
        for call in (store.ping, store.latest, lambda: store.add_readings([Reading(T0, "w", "W", 20.0)])):
            started = time.monotonic()
            with pytest.raises(StorageError) as caught:
                call()
            assert time.monotonic() - started < 5.0  # bounded by the selection timeout
            message = str(caught.value)
            assert f"127.0.0.1:{port}" in message and "300 ms" in message and "running" in message
            assert "s3cret" not in message
            assert not isinstance(caught.value.__cause__, StorageError)
    finally:
        store.close()


def test_a_server_that_comes_up_later_is_used_and_indexed_then(tmp_path):
    secantus = pytest.importorskip("secantus")
    port = free_port()
    store = open_repository(f"mongodb://127.0.0.1:{port}/beerpi?serverSelectionTimeoutMS=300")
    try:
        with pytest.raises(StorageError):
            store.add_readings([Reading(T0, "wort", "Wort", 20.0)])
        with secantus.SecantusDBServer(host="127.0.0.1", port=port, storage_path=":memory:",
                                       replica_set_name=None):
            store.add_readings([Reading(T0, "wort", "Wort", 20.0)])  # the writer's retry
            assert store.latest() == [Reading(T0, "wort", "Wort", 20.0)]
            with MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=2000) as client:
                assert "probe_ts" in client["beerpi"]["readings"].index_information()
            store.close()
    finally:
        store.close()


def test_a_malformed_url_is_a_config_error():
    with pytest.raises(ConfigError, match="MongoDB URL"):
        open_repository("mongodb://127.0.0.1:port/db")
