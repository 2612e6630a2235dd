"""The hub's live view of the open batches, put right from its database after a change it missed."""

from __future__ import annotations

from beerpi.batches.model import Batch
from beerpi.fleet.ingest_batches import DELETED
from beerpi.fleet.live_batches import LiveBatches, Missed
from beerpi.fleet.wire import to_ms
from beerpi.repository.batch_events import BatchChanged

T0 = 1_763_712_000.0
PALE = Batch("b1", "garage/main", "Pale Ale", T0)
STOUT = Batch("b2", "garage/main", "Stout", T0 + 600)


def heard(*changes: BatchChanged) -> LiveBatches:
    live = LiveBatches()
    for changed in changes:
        live.heard("garage", changed)
    return live


def test_a_start_missed_live_is_taken_from_the_database():
    live = LiveBatches()
    stored = LiveBatches({"garage/main": PALE}, {"garage/b1": to_ms(T0)})
    assert live.refresh(stored) == [Missed("started", PALE)]
    assert live.open == {"garage/main": PALE}


def test_an_end_missed_live_closes_the_batch_and_a_later_start_takes_the_chamber():
    live = heard(BatchChanged.of("started", PALE, None, T0))
    stored = LiveBatches({"garage/main": STOUT}, {"garage/b1": to_ms(T0 + 500), "garage/b2": to_ms(T0 + 600)})
    assert live.refresh(stored) == [Missed("started", STOUT)]  # the chamber's one change: its open batch
    assert live.open == {"garage/main": STOUT}


def test_what_was_heard_live_and_is_not_stored_yet_stands():
    # Given the end of the Pale Ale heard live, before the database has it
    ended = PALE.edited(ended=T0 + 500)
    live = heard(BatchChanged.of("started", PALE, None, T0), BatchChanged.of("ended", ended, None, T0 + 500))
    # When the database is read, still with the batch open
    stored = LiveBatches({"garage/main": PALE}, {"garage/b1": to_ms(T0)})
    # Then it stays ended
    assert live.refresh(stored) == []
    assert live.open == {}


def test_a_batch_deleted_in_the_database_leaves_the_page_and_never_comes_back():
    live = heard(BatchChanged.of("started", PALE, None, T0))
    assert live.refresh(LiveBatches({}, {"garage/b1": DELETED})) == [Missed("deleted", PALE)]
    assert live.open == {}
    assert live.heard("garage", BatchChanged.of("started", PALE, None, T0)) is False


def test_an_end_missed_live_is_told_as_the_batch_heard_open_to_be_read_again():
    live = heard(BatchChanged.of("started", PALE, None, T0))
    assert live.refresh(LiveBatches({}, {"garage/b1": to_ms(T0 + 500)})) == [Missed("ended", PALE)]
    assert live.open == {}


def test_an_edit_missed_live_is_told_and_what_did_not_change_is_not():
    cellar = Batch("b7", "cellar/main", "Lager", T0)
    live = heard(BatchChanged.of("started", PALE, None, T0))
    live.heard("cellar", BatchChanged.of("started", cellar, None, T0))
    renamed = PALE.edited(name="Pale Ale #2")
    stored = LiveBatches({"garage/main": renamed, "cellar/main": cellar},
                         {"garage/b1": to_ms(T0 + 60), "cellar/b7": to_ms(T0)})
    assert live.refresh(stored) == [Missed("edited", renamed)]
