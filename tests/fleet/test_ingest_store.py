"""The hub's storing step on real databases: node-qualified ids, each reading once, marks that
are stored before they are acknowledged."""

from __future__ import annotations

import sqlite3

import pytest

from beerpi.fleet.ingest_inbox import Message
from beerpi.fleet.ingest_store import LinkStore
from beerpi.fleet.wire import Ack, events_link, readings_link, to_ms
from beerpi.hardware.probe import Reading
from beerpi.repository import Event
from beerpi.repository import sqlite as sqlite_backend
from beerpi.repository.sqlite import SqliteRepository

T0 = 1_763_712_000.0
EVERY = 5.0
SERIES = "readings/28-0001"


def readings(start: int, count: int, probe: str = "28-0001") -> list[Reading]:
    return [Reading(T0 + i * EVERY, probe, "beer", 18.0 + i / 100, i % 2 == 0) for i in range(start, start + count)]


def link(node: str, start: int, count: int, probe: str = "28-0001") -> Message:
    """Readings ``start`` … ``start + count - 1`` of ``probe``, chained to the one before (or starting it)."""
    after = None if start == 0 else to_ms(T0 + (start - 1) * EVERY)
    return Message(node, "readings", readings_link(readings(start, count, probe), after, start == 0).encode())


def ms(i: int) -> int:
    return to_ms(T0 + i * EVERY)


@pytest.fixture
def links(each_backend):
    return LinkStore(each_backend)


def test_two_nodes_with_the_same_probe_are_stored_apart(links, each_backend):
    moved = links.store_batch([link("garage", 0, 10), link("cellar", 0, 4)])
    assert moved == {"garage", "cellar"}
    garage = each_backend.readings_between(0, T0 + 1000, "garage/28-0001")
    cellar = each_backend.readings_between(0, T0 + 1000, "cellar/28-0001")
    assert [r.temperature for r in garage] == [r.temperature for r in readings(0, 10)]
    assert [r.temperature for r in cellar] == [r.temperature for r in readings(0, 4)]
    assert each_backend.readings_between(0, T0 + 1000, "28-0001") == []
    assert links.marks("garage") == {SERIES: ms(9)} and links.marks("cellar") == {SERIES: ms(3)}


def test_a_link_received_twice_is_stored_once_and_moves_nothing_more(links, each_backend):
    links.store_batch([link("garage", 0, 5), link("garage", 0, 5)])
    assert links.store_batch([link("garage", 0, 5)]) == set()
    assert len(each_backend.readings_between(0, T0 + 1000)) == 5


def test_a_gap_holds_the_mark_until_the_missing_link_comes(links, each_backend):
    links.store_batch([link("garage", 0, 5)])
    assert links.store_batch([link("garage", 10, 5)]) == set()  # 5…9 lost on the way
    assert links.marks("garage") == {SERIES: ms(4)}
    assert links.store_batch([link("garage", 5, 5)]) == {"garage"}
    assert links.marks("garage") == {SERIES: ms(14)}
    assert each_backend.load_marks("ack/") == {f"ack/garage/{SERIES}": ms(14)}
    assert len(each_backend.readings_between(0, T0 + 1000)) == 15


def test_events_keep_their_id_and_say_their_node_and_chamber(links, each_backend):
    event = Event(T0, "settings", {"chamber": "main", "target": 19.0})
    moved = links.store_batch([Message("garage", "events", events_link([event], start=True).encode())])
    assert moved == {"garage"}
    [stored] = each_backend.events_between(0, T0 + 1)
    assert stored.id == event.id and stored.detail == {"chamber": "garage/main", "target": 19.0, "node": "garage"}
    assert links.marks("garage") == {"events": to_ms(T0)}


def test_a_bad_message_is_counted_and_the_rest_of_the_batch_is_stored(links, each_backend):
    moved = links.store_batch([Message("garage", "readings", b"{not json"), link("garage", 0, 3),
                               Message("garage", "events", b'{"type": "events", "events": []}')])
    assert moved == {"garage"} and links.counts.bad == 2
    assert len(each_backend.readings_between(0, T0 + 1000)) == 3


def test_a_restarted_hub_takes_its_marks_from_storage(each_backend):
    LinkStore(each_backend).store_batch([link("garage", 0, 5)])
    restarted = LinkStore(each_backend)
    restarted.load()
    assert restarted.marks("garage") == {SERIES: ms(4)}
    assert restarted.store_batch([link("garage", 5, 5)]) == {"garage"}  # joins on the stored mark
    assert restarted.marks("garage") == {SERIES: ms(9)}


def test_a_link_joins_on_a_mark_another_hub_stored(each_backend):
    # Given two hubs on one database, each getting some of the node's links
    first, second = LinkStore(each_backend), LinkStore(each_backend)
    first.load()
    second.load()
    first.store_batch([link("garage", 0, 5)])
    # When the second gets the next link: it does not join on anything the second has seen
    assert second.store_batch([link("garage", 5, 5)]) == {"garage"}
    # Then it read the first hub's mark back and the link joined on it
    assert second.marks("garage") == {SERIES: ms(9)}
    assert each_backend.load_marks("ack/") == {f"ack/garage/{SERIES}": ms(9)}


def test_links_of_several_nodes_join_on_the_marks_another_hub_stored(each_backend):
    # Given another hub stored the first links of three nodes (and this one a fourth's, alone)
    first, second = LinkStore(each_backend), LinkStore(each_backend)
    first.store_batch([link(node, 0, 5) for node in ("garage", "cellar", "attic")])
    second.store_batch([link("shed", 0, 5)])
    # When this hub gets the next link of each of the three in one batch
    assert second.store_batch([link(node, 5, 5) for node in ("garage", "cellar", "attic")]) == {
        "garage", "cellar", "attic"}
    # Then each joined on the other hub's mark, and no other node's marks moved
    assert {node: second.marks(node) for node in ("garage", "cellar", "attic", "shed")} == {
        "garage": {SERIES: ms(9)}, "cellar": {SERIES: ms(9)}, "attic": {SERIES: ms(9)}, "shed": {SERIES: ms(4)}}


def test_another_hubs_ack_joins_what_waits_here(links, each_backend):
    links.store_batch([link("garage", 5, 5)])  # waits: 0…4 went to another hub
    peer = Message("garage", "ack", Ack({SERIES: ms(4)}).encode().encode())
    assert links.store_batch([peer]) == {"garage"}
    assert links.marks("garage") == {SERIES: ms(9)}
    assert each_backend.load_marks("ack/") == {f"ack/garage/{SERIES}": ms(9)}


def test_a_batch_that_cannot_be_stored_is_not_acknowledged(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_backend, "BUSY_TIMEOUT", 0.1)
    path = tmp_path / "hub.sqlite3"
    with SqliteRepository(path) as store:
        links = LinkStore(store)
        links.store_batch([link("garage", 0, 5)])
        # Given another program holds the database's write lock
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        assert links.store_batch([link("garage", 5, 5)]) == set()
        assert links.marks("garage") == {SERIES: ms(4)} and links.counts.failed_batches == 1
        other.execute("ROLLBACK")
        other.close()
        # When the Pi sends the link again
        assert links.store_batch([link("garage", 5, 5)]) == {"garage"}
        assert links.marks("garage") == {SERIES: ms(9)}
        assert len(store.readings_between(0, T0 + 1000)) == 10


@pytest.mark.parametrize("backend", ["sqlite_url", "mongo_url"])
def test_two_hubs_count_each_reading_once_without_storing_anything_again(backend, request):
    """Two hubs on one database store readings of one probe and bucket, some of them both (a Pi
    sent a link again after the broker gave it to the other hub): each reading is counted once
    in every roll-up as soon as it is stored, with no second store to repair anything."""
    from beerpi.repository import open_repository
    url = request.getfixturevalue(backend)
    with open_repository(url) as store, open_repository(url) as other_store:
        first, second = LinkStore(store), LinkStore(other_store)
        # Given one hub stores readings 0…5 and the other 4…9 (4 and 5 on both)
        first.store_batch([link("garage", 0, 6)])
        second.store_batch([Message("garage", "ack", Ack({SERIES: ms(3)}).encode().encode()), link("garage", 4, 6)])
        # Then every level counts ten readings, at once, on either hub's store
        for repository in (store, other_store):
            for points in (1, 48, 2_880):  # days, hours, minutes
                buckets = repository.history("garage/28-0001", T0 - 86_400, T0 + 86_400, points)
                assert sum(bucket.count for bucket in buckets) == 10, points
        assert len(store.readings_between(0, T0 + 1000)) == 10
        assert first.marks("garage") == {SERIES: ms(5)} and second.marks("garage") == {SERIES: ms(9)}
