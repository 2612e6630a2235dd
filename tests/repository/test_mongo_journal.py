"""The MongoDB roll-up journal: a batch whose roll-ups failed after its readings were stored is
repaired, whether it comes again or not, and a process killed mid-batch is caught up after."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from bson.datetime_ms import DatetimeMS
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from beerpi.base.errors import StorageError
from beerpi.hardware.probe import Reading
from beerpi.repository import open_repository, rollup
from beerpi.repository.mongo import MongoRepository
from beerpi.repository.mongo_docs import _reading_doc
from beerpi.repository.mongo_journal import COLLECTION, IN_FLIGHT_FOR, LEASE, LEASE_FOR, STALE_AFTER, RollupJournal

T0 = 1_700_000_000.0
DAY = 86_400.0


@pytest.fixture
def store(mongo_store: MongoRepository) -> MongoRepository:
    return mongo_store


@pytest.fixture
def client(mongo_url: str) -> Iterator[MongoClient]:
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5000) as connection:
        yield connection


@pytest.fixture
def fail_next_update(client) -> Iterator[None]:
    """The next ``update`` command of BeerPi's connections (appname beerpi) fails on the server."""
    try:
        client.admin.command({"configureFailPoint": "failCommand", "mode": {"times": 1},
                              "data": {"failCommands": ["update"], "errorCode": 50, "appName": "beerpi"}})
    except OperationFailure:
        pytest.skip("this server takes no failpoints (a mongod needs enableTestCommands)")
    yield
    client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


def batch(probes: int, start: float, count: int = 6) -> list[Reading]:
    return [Reading(start + i * 5, f"pi{p}/28-0001", "Beer", 18.0 + p + i / 10)
            for i in range(count) for p in range(probes)]


def counted(store: MongoRepository, probe: str) -> int:
    """How many readings a chart of a day says ``probe`` has (from the day roll-up)."""
    return sum(b.count for b in store.history(probe, T0 - DAY, T0 + DAY, 1))


def test_a_batch_whose_roll_ups_failed_is_repaired_when_it_is_stored_again(store, fail_next_update):
    # Given a batch whose readings went in but whose roll-ups failed
    readings = batch(5, T0)
    with pytest.raises(StorageError):
        store.add_readings(readings)
    assert len(store.readings_between(0, T0 + DAY)) == 30
    assert counted(store, "pi0/28-0001") == 0
    # When it is stored again, as a Pi or the writer thread does after an error
    store.add_readings(readings)
    # Then every chart counts every reading once
    assert [counted(store, f"pi{p}/28-0001") for p in range(5)] == [6] * 5
    assert store.history("pi1/28-0001", T0, T0 + 60, 1)[0].max == pytest.approx(19.5)


def test_a_batch_whose_roll_ups_failed_is_repaired_by_the_next_one_even_if_it_never_comes_again(
        store, fail_next_update):
    with pytest.raises(StorageError):
        store.add_readings(batch(5, T0))
    # When another batch is stored (the failed one is not sent again)
    store.add_readings(batch(5, T0 + 3600))
    # Then both are counted, once
    assert [counted(store, f"pi{p}/28-0001") for p in range(5)] == [12] * 5


def left_by_a_killed_process(client, readings: list[Reading], age: float) -> None:
    """What a store killed between its insert and its roll-ups leaves: readings and a journal entry."""
    db = client.get_default_database()
    db["readings"].insert_many([_reading_doc(r) for r in readings])
    spans = {}
    for r in readings:
        ms = rollup.to_ms(r.ts)
        first, last = spans.get(r.probe, (ms, ms))
        spans[r.probe] = (min(first, ms), max(last, ms))
    db[COLLECTION].insert_one({"_id": f"killed-{age}", "at": DatetimeMS(round((time.time() - age) * 1000)),
                               "spans": [[probe, first, last] for probe, (first, last) in spans.items()]})


def test_a_batch_a_killed_process_left_unfinished_is_repaired_once_it_is_stale(store, client):
    # Given the readings of a batch whose store was killed before it counted them, long ago,
    # and those of one another store's batch left a moment ago (its store repairs it)
    left_by_a_killed_process(client, batch(3, T0), age=STALE_AFTER + 60)
    left_by_a_killed_process(client, batch(3, T0 + 600), age=IN_FLIGHT_FOR + 10)
    # When a store stores its first batch
    store.add_readings(batch(3, T0 + 3600))
    # Then the stale batch is counted; the recent one is left to its store
    assert [counted(store, f"pi{p}/28-0001") for p in range(3)] == [12] * 3
    assert [doc["_id"] for doc in client.get_default_database()[COLLECTION].find()] == [f"killed-{IN_FLIGHT_FOR + 10}"]


def test_an_entry_repaired_by_another_store_meanwhile_is_recomputed_by_its_own(client):
    repaired = []
    journal = RollupJournal(client.get_default_database(), lambda *span: repaired.append(span))
    with journal.entry({"pi0/28-0001": (1000, 2000)}):
        # Given a batch at work whose journal entry another store took for stale and repaired
        client.get_default_database()[COLLECTION].delete_many({})
        # When the batch's increments are in
    assert repaired == []
    # Then it recomputes its spans at its next batch, which then count every reading once
    journal.repair()
    assert repaired == [("pi0/28-0001", 1000, 2000)]


def test_a_failed_batch_is_repaired_once_and_an_ended_one_not_at_all(client):
    repaired = []
    journal = RollupJournal(client.get_default_database(), lambda *span: repaired.append(span))
    with journal.entry({"pi0/28-0001": (1000, 2000)}):
        pass
    with pytest.raises(StorageError), journal.entry({"pi1/28-0001": (3000, 4000)}):
        raise StorageError("the roll-ups could not be written")
    journal.repair()
    journal.repair()
    assert repaired == [("pi1/28-0001", 3000, 4000)]
    assert client.get_default_database()[COLLECTION].count_documents({}) == 0


def test_a_repair_waits_for_another_stores_batch_at_work_so_its_reading_counts_once(
        store, mongo_url, client, monkeypatch, fail_next_update):
    """Two hubs on one database: one repairs a failed batch while the other is between storing a
    reading of the same minute and counting it. Recomputed then, the bucket would hold that
    reading, and the other hub's increment would count it a second time."""
    import beerpi.repository.mongo as mongo_module
    journal = client.get_default_database()[COLLECTION]
    increments = mongo_module.add_increments
    at_work = threading.Event()

    def counted_once_a_repair_is_under_way(*args, **kwargs):
        if threading.current_thread().name == "other hub":
            at_work.set()
            deadline = time.monotonic() + 5  # (without a lease, as if the repair came first)
            while journal.find_one({"_id": LEASE}) is None and time.monotonic() < deadline:
                time.sleep(0.01)
        increments(*args, **kwargs)

    monkeypatch.setattr(mongo_module, "add_increments", counted_once_a_repair_is_under_way)
    # Given a batch of this hub whose readings went in but whose roll-ups failed
    with pytest.raises(StorageError):
        store.add_readings(batch(1, T0))
    with open_repository(mongo_url) as other_hub:
        # and the other hub storing a reading of the same minute, not counted yet
        other = threading.Thread(target=other_hub.add_readings, args=([Reading(T0 + 30, "pi0/28-0001", "Beer", 30.0)],),
                                 name="other hub")
        other.start()
        assert at_work.wait(10)
        # When this hub stores its next batch (its failed one repaired first)
        store.add_readings(batch(1, T0 + 3600))
        other.join(15)
        assert not other.is_alive()
    # Then every reading of either hub counts once
    assert counted(store, "pi0/28-0001") == 13
    assert store.history("pi0/28-0001", T0, T0 + 60, 1)[0].max == 30.0
    assert journal.count_documents({}) == 0


def test_a_batch_steps_aside_while_another_store_repairs(client):
    # Given another store holds the lease of a repair
    journal = client.get_default_database()[COLLECTION]
    journal.insert_one({"_id": LEASE, "owner": "another store", "at": DatetimeMS(round(time.time() * 1000))})
    seen = []

    def pause(seconds: float) -> None:  # while the batch waits, the repair ends
        seen.append(sorted(doc["_id"] for doc in journal.find()))
        journal.delete_one({"_id": LEASE})

    repaired = []
    batches = RollupJournal(client.get_default_database(), lambda *span: repaired.append(span), pause=pause)
    # When a batch is stored
    with batches.entry({"pi0/28-0001": (1000, 2000)}):
        seen.append("stored")
    # Then it waited, its entry out of the journal, until the repair ended, and went on
    assert seen == [[LEASE], "stored"]
    assert journal.count_documents({}) == 0 and repaired == []


def test_a_repair_no_one_finishes_holds_nothing_up_for_long(client):
    # Given a lease its store stopped renewing long ago, and a batch of this store that failed
    journal = client.get_default_database()[COLLECTION]
    journal.insert_one({"_id": LEASE, "owner": "a killed store",
                        "at": DatetimeMS(round((time.time() - LEASE_FOR - 10) * 1000))})
    repaired = []
    batches = RollupJournal(client.get_default_database(), lambda *span: repaired.append(span),
                            pause=lambda seconds: pytest.fail("waited for a dead repair"))
    with pytest.raises(StorageError), batches.entry({"pi1/28-0001": (3000, 4000)}):
        raise StorageError("the roll-ups could not be written")
    # When the store repairs
    batches.repair()
    # Then it took the lease over, recomputed, and let it go
    assert repaired == [("pi1/28-0001", 3000, 4000)]
    assert journal.count_documents({}) == 0
