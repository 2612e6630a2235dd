"""The batch part of the Repository contract, run unchanged against every backend over a real connection."""

from __future__ import annotations

import threading

import pytest

from beerpi.base.errors import Closed, ConfigError
from beerpi.batches.model import Batch, BatchNote, OpenBatchConflict
from beerpi.repository import Repository, open_repository

T0 = 1_700_000_000.0
DAY = 86_400.0


@pytest.fixture
def store(each_backend: Repository) -> Repository:
    return each_backend


def batch(batch_id: str = "b1", chamber: str = "ferm", name: str = "Pale Ale", started: float = T0,
          **fields) -> Batch:
    return Batch(batch_id, chamber, name, started, **fields)


def test_a_batch_round_trips_with_every_field_to_the_millisecond(store):
    full = batch(name="Kölsch #2", started=T0 + 0.1236, ended=T0 + 9 * DAY, style="Kölsch",
                 notes="WLP029\nfermented cool", hydrometer="Tilt red", og=1.048, fg=1.009)
    bare = batch("b2", "lager", "Helles", T0 + DAY)
    store.save_batch(full)
    store.save_batch(bare)
    assert store.get_batch("b1") == batch(name="Kölsch #2", started=round(T0 + 0.1236, 3), ended=T0 + 9 * DAY,
                                          style="Kölsch", notes="WLP029\nfermented cool", hydrometer="Tilt red",
                                          og=1.048, fg=1.009)
    assert store.get_batch("b2") == bare and store.get_batch("b2").open
    assert store.get_batch("nope") is None


def test_batches_are_listed_newest_first_and_a_save_replaces_by_id(store):
    store.save_batch(batch("b1", "ferm", "Pale Ale", T0, ended=T0 + DAY))
    store.save_batch(batch("b3", "ferm", "Stout", T0 + 2 * DAY))
    store.save_batch(batch("b2", "lager", "Helles", T0 + DAY))
    assert [b.id for b in store.list_batches()] == ["b3", "b2", "b1"]
    # When one is edited and ended
    store.save_batch(batch("b3", "ferm", "Dry Stout", T0 + 2 * DAY, ended=T0 + 3 * DAY, fg=1.012))
    assert store.get_batch("b3") == batch("b3", "ferm", "Dry Stout", T0 + 2 * DAY, ended=T0 + 3 * DAY, fg=1.012)
    assert len(store.list_batches()) == 3


def test_a_chamber_has_at_most_one_open_batch(store):
    # Given an open batch in the fermenter
    store.save_batch(batch("b1", "ferm", "Pale Ale", T0))
    # Then a second one there is refused, and nothing of it is stored
    with pytest.raises(OpenBatchConflict, match="'ferm' already has an open batch"):
        store.save_batch(batch("b2", "ferm", "Stout", T0 + DAY))
    assert store.get_batch("b2") is None
    # While another chamber, an ended batch, and editing the open one are all fine
    store.save_batch(batch("b3", "lager", "Helles", T0))
    store.save_batch(batch("b4", "ferm", "Old Ale", T0 - 30 * DAY, ended=T0 - 20 * DAY))
    store.save_batch(batch("b1", "ferm", "Pale Ale #2", T0))
    # And reopening an ended batch beside the open one is refused too
    with pytest.raises(OpenBatchConflict):
        store.save_batch(batch("b4", "ferm", "Old Ale", T0 - 30 * DAY))
    assert store.get_batch("b4").ended == T0 - 20 * DAY
    # Once the open one has ended, the next may start
    store.save_batch(batch("b1", "ferm", "Pale Ale #2", T0, ended=T0 + 5 * DAY))
    store.save_batch(batch("b2", "ferm", "Stout", T0 + 6 * DAY))
    assert sorted(b.id for b in store.list_batches(open_only=True)) == ["b2", "b3"]


def test_two_processes_starting_a_batch_in_one_chamber_at_once_make_one(store, request):
    # Given two more connections to the same database (as two processes would have)
    url = request.getfixturevalue("mongo_url" if type(store).__name__ == "MongoRepository" else "sqlite_url")
    stores = [open_repository(url) for _ in range(2)]
    try:
        outcomes: list[str] = []
        start = threading.Barrier(2)

        def begin(index: int) -> None:
            start.wait(timeout=10)
            try:
                stores[index].save_batch(batch(f"b{index}", "ferm", f"Beer {index}", T0 + index))
                outcomes.append("started")
            except OpenBatchConflict:
                outcomes.append("conflict")

        threads = [threading.Thread(target=begin, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert sorted(outcomes) == ["conflict", "started"]
        assert len(store.list_batches(open_only=True)) == 1
    finally:
        for other in stores:
            other.close()


@pytest.mark.parametrize(("search", "found"), [
    ("ale", ["b4", "b1"]), ("KÖLSCH", ["b2"]), ("kölsch", ["b2"]), ("(v2", ["b3"]), (".*", []),
    ("", ["b4", "b3", "b2", "b1"]), (None, ["b4", "b3", "b2", "b1"]),
])
def test_the_search_finds_a_part_of_the_name_whatever_its_case(store, search, found):
    for index, name in enumerate(["Pale Ale", "Kölsch", "IPA (v2)", "Brown ALE"], start=1):
        store.save_batch(batch(f"b{index}", f"c{index}", name, T0 + index * DAY))
    assert [b.id for b in store.list_batches(search)] == found


def test_notes_come_back_in_time_order_per_batch_and_a_replayed_note_is_stored_once(store):
    store.save_batch(batch())
    notes = [BatchNote("n2", "b1", T0 + 3600, "dry hop 100 g Citra"),
             BatchNote("n1", "b1", T0 + 60, "gravity by refractometer", 1.052),
             BatchNote("n3", "b1", T0 + 3600, "", 1.030), BatchNote("x1", "other", T0, "not this batch's")]
    for note in notes + notes[:2]:
        store.add_batch_note(note)
    assert store.notes_of("b1") == [notes[1], notes[0], notes[2]]
    assert store.notes_of("nope") == []


def test_deleting_a_batch_takes_its_notes_with_it_and_leaves_the_others(store):
    # Given two batches with notes
    store.save_batch(batch("b1", "ferm", "Pale Ale", T0, ended=T0 + DAY))
    store.save_batch(batch("b2", "lager", "Helles", T0))
    store.add_batch_note(BatchNote("n1", "b1", T0 + 60, "pitched"))
    store.add_batch_note(BatchNote("n2", "b1", T0 + 120, "", 1.040))
    store.add_batch_note(BatchNote("n3", "b2", T0 + 60, "pitched"))
    # When the first is deleted
    assert store.delete_batch("b1") is True
    # Then it and its notes are gone, the other is untouched, and deleting again finds nothing
    assert store.get_batch("b1") is None and store.notes_of("b1") == []
    assert [b.id for b in store.list_batches()] == ["b2"] and [n.id for n in store.notes_of("b2")] == ["n3"]
    assert store.delete_batch("b1") is False


def test_deleting_an_open_batch_frees_its_chamber_for_the_next(store):
    store.save_batch(batch("b1", "ferm", "Pale Ale", T0))
    assert store.delete_batch("b1")
    store.save_batch(batch("b2", "ferm", "Stout", T0 + DAY))
    assert [b.id for b in store.list_batches(open_only=True)] == ["b2"]


def test_one_note_is_deleted_by_its_id(store):
    store.save_batch(batch())
    store.add_batch_note(BatchNote("n1", "b1", T0 + 60, "pitched"))
    store.add_batch_note(BatchNote("n2", "b1", T0 + 120, "dry hop"))
    assert store.delete_batch_note("n1") is True
    assert [n.id for n in store.notes_of("b1")] == ["n2"]
    assert store.delete_batch_note("n1") is False
    # And a note deleted and sent again (a replay) is stored again: deleting is not remembered
    store.add_batch_note(BatchNote("n1", "b1", T0 + 60, "pitched"))
    assert [n.id for n in store.notes_of("b1")] == ["n1", "n2"]


@pytest.mark.parametrize("bad", [batch(name=""), batch(og=1050), batch(ended=T0 - 1), batch(notes="\x00")])
def test_a_batch_breaking_a_rule_is_refused_and_nothing_is_stored(store, bad):
    with pytest.raises(ConfigError):
        store.save_batch(bad)
    assert store.list_batches() == []


def test_a_note_breaking_a_rule_is_refused_and_nothing_is_stored(store):
    with pytest.raises(ConfigError, match="needs text, a gravity, or both"):
        store.add_batch_note(BatchNote("n1", "b1", T0, " "))
    assert store.notes_of("b1") == []


@pytest.mark.parametrize("call", [
    lambda s: s.save_batch(batch()), lambda s: s.get_batch("b1"), lambda s: s.list_batches(),
    lambda s: s.add_batch_note(BatchNote("n1", "b1", T0, "x")), lambda s: s.notes_of("b1"),
    lambda s: s.delete_batch("b1"), lambda s: s.delete_batch_note("n1"),
])
def test_a_closed_store_refuses_batch_work(store, call):
    store.close()
    with pytest.raises(Closed):
        call(store)
