"""A Pi's batch changes reaching the hub as events, on real databases: in any order, any number of
times, the hub's batches end as the Pi's latest change says, under the chamber's hub id."""

from __future__ import annotations

import random

import pytest

from beerpi.batches.model import Batch, BatchNote
from beerpi.fleet.ingest_batches import apply_batch_events
from beerpi.fleet.ingest_inbox import Message
from beerpi.fleet.ingest_store import LinkStore
from beerpi.fleet.wire import events_link
from beerpi.repository.batch_events import BatchChanged

T0 = 1_763_712_000.0
PALE = Batch("b1", "main", "Pale Ale", T0, og=1.050)
NOTE = BatchNote("n1", "b1", T0 + 60, "dry hop")
TYPO = BatchNote("n2", "b1", T0 + 90, "dry hop 1000 g")


def life_of_a_batch() -> list[BatchChanged]:
    """Started, noted twice, a note deleted, renamed, ended: as the Pi stores them."""
    return [BatchChanged.of("started", PALE, None, T0),
            BatchChanged.of("noted", PALE, NOTE, T0 + 60),
            BatchChanged.of("noted", PALE, TYPO, T0 + 90),
            BatchChanged.of("note_deleted", PALE, TYPO, T0 + 100),
            BatchChanged.of("edited", PALE.edited(name="Pale Ale #2"), None, T0 + 200),
            BatchChanged.of("ended", PALE.edited(name="Pale Ale #2", ended=T0 + 300, fg=1.010), None, T0 + 300)]


def test_a_batch_lived_on_a_pi_is_on_the_hub_under_its_node(each_backend):
    # When its changes arrive in order
    applied = apply_batch_events(each_backend, "garage", [c.event for c in life_of_a_batch()])
    # Then the hub keeps it ended, renamed, in the chamber garage/main, with the one note left
    assert len(applied) == 6
    assert each_backend.get_batch("b1") == Batch("b1", "garage/main", "Pale Ale #2", T0, T0 + 300, og=1.050,
                                                 fg=1.010)
    assert [note.id for note in each_backend.notes_of("b1")] == ["n1"]


@pytest.mark.parametrize("seed", range(4))
def test_changes_arriving_shuffled_and_twice_end_the_same(each_backend, seed):
    # Given every change sent twice, in any order (a live link lost, then sent again from the mark)
    events = [c.event for c in life_of_a_batch()] * 2
    random.Random(seed).shuffle(events)
    # When they arrive in three parts
    for part in (events[:4], events[4:9], events[9:]):
        apply_batch_events(each_backend, "garage", part)
    # Then the batch is as the last change says: a resent "started" did not reopen it, the deleted note stayed so
    assert each_backend.get_batch("b1").ended == T0 + 300 and each_backend.get_batch("b1").name == "Pale Ale #2"
    assert [note.id for note in each_backend.notes_of("b1")] == ["n1"]
    assert each_backend.list_batches(open_only=True) == []


def test_a_deleted_batch_never_comes_back(each_backend):
    changes = life_of_a_batch()
    deleted = BatchChanged.of("deleted", changes[-1].batch, None, T0 + 400)
    apply_batch_events(each_backend, "garage", [c.event for c in changes] + [deleted.event])
    assert each_backend.get_batch("b1") is None and each_backend.notes_of("b1") == []
    apply_batch_events(each_backend, "garage", [c.event for c in changes])  # all sent again
    assert each_backend.get_batch("b1") is None and each_backend.notes_of("b1") == []


def test_a_batch_whose_end_is_late_is_ended_where_the_next_starts(each_backend):
    # Given the hub has a batch open in garage/main and its end has not arrived
    apply_batch_events(each_backend, "garage", [BatchChanged.of("started", PALE, None, T0).event])
    stout = Batch("b2", "main", "Stout", T0 + 500)
    # When the next batch of that chamber starts
    apply_batch_events(each_backend, "garage", [BatchChanged.of("started", stout, None, T0 + 500).event])
    # Then both are kept, one open
    assert [b.id for b in each_backend.list_batches(open_only=True)] == ["b2"]
    assert each_backend.get_batch("b1").ended == T0 + 500
    # And the real end, once it arrives, says when
    ended = PALE.edited(ended=T0 + 450)
    apply_batch_events(each_backend, "garage", [BatchChanged.of("ended", ended, None, T0 + 450).event])
    assert each_backend.get_batch("b1").ended == T0 + 450


def test_the_storing_step_applies_the_batch_events_of_each_node(each_backend):
    links = LinkStore(each_backend)
    cellar = Batch("c1", "main", "Kölsch", T0)
    links.store_batch([Message("garage", "events", events_link([life_of_a_batch()[0].event], None, True).encode()),
                       Message("cellar", "events", events_link([BatchChanged.of("started", cellar, None, T0).event],
                                                               None, True).encode())])
    assert sorted(b.chamber for b in each_backend.list_batches(open_only=True)) == ["cellar/main", "garage/main"]
    assert links.counts.batch_changes == 2
    # And the events themselves are stored as the Pi's, under its node
    assert {e.detail["chamber"] for e in each_backend.events_between(0, T0 + 1)} == {"garage/main", "cellar/main"}
