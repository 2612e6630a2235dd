"""The hub's batches: each Pi's batch changes, which arrive as ``batch`` events, applied to the hub's own.

A Pi stores every change to a batch as an event (``repository/batch_events.py``) and its events
reach the hub with acknowledgements, sent again until stored, in any order and any number of
times. The hub keeps each batch as the Pi's latest change says, under the chamber's hub id
(``<node>/<chamber>``) and the Pi's batch id: a change older than the one applied is ignored,
so a resent ``started`` never reopens an ended batch. How far each batch is applied is a mark
(``batch/<node>/<batch id>``, the change's time in ms; marks only rise, and are kept in the
database, so a restarted hub or a second hub agrees); a deleted batch's mark is ``DELETED``,
above any time, and a deleted note gets a mark of its own, so neither comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace

from beerpi.batches.model import Batch, OpenBatchConflict
from beerpi.fleet.remote import qualified
from beerpi.fleet.wire import to_ms
from beerpi.repository import Event, Repository
from beerpi.repository.batch_events import BatchChanged, batch_change_of

log = logging.getLogger(__name__)

VERSIONS = "batch/"  # batch/<node>/<batch id> → ms of the change applied
DELETED_NOTES = "batchnote/"  # batchnote/<node>/<note id> → DELETED
DELETED = 2**53 - 1  # above any change's time


def version_name(node: str, batch_id: str) -> str:
    return f"{VERSIONS}{node}/{batch_id}"


def for_hub(node: str, changed: BatchChanged) -> BatchChanged:
    """A Pi's change with its batch's chamber as the hub names it."""
    batch = replace(changed.batch, chamber=qualified(node, changed.batch.chamber))
    return replace(changed, batch=batch)


def is_news(changed: BatchChanged, version: int | None) -> bool:
    """Whether ``changed`` is newer than the batch's applied ``version`` (None: none applied)."""
    return version is None or (version != DELETED and to_ms(changed.event.ts) >= version)


def apply_batch_events(store: Repository, node: str, events: Iterable[Event]) -> list[BatchChanged]:
    """Apply the ``batch`` events among ``events`` of ``node`` to the hub's batches, oldest first;
    the changes that were news (blocking: the storing thread)."""
    changes = sorted((found for event in events if (found := batch_change_of(event)) is not None),
                     key=lambda changed: (changed.event.ts, changed.event.id))
    if not changes:
        return []
    versions = {name.removeprefix(version_name(node, "")): value
                for name, value in store.load_marks(version_name(node, "")).items()}
    gone = set(store.load_marks(f"{DELETED_NOTES}{node}/"))
    applied = []
    for changed in (for_hub(node, found) for found in changes):
        batch, note = changed.batch, changed.note
        if versions.get(batch.id) == DELETED:
            continue
        if changed.change == "deleted":
            store.delete_batch(batch.id)
            _raise(store, versions, version_name(node, batch.id), batch.id, DELETED)
            applied.append(changed)
            continue
        if note is not None and changed.change == "note_deleted":
            store.delete_batch_note(note.id)
            store.raise_marks({f"{DELETED_NOTES}{node}/{note.id}": DELETED})
            gone.add(f"{DELETED_NOTES}{node}/{note.id}")
        elif note is not None and f"{DELETED_NOTES}{node}/{note.id}" not in gone:
            store.add_batch_note(note)
        news = is_news(changed, versions.get(batch.id))
        if news:
            _save(store, batch)
            _raise(store, versions, version_name(node, batch.id), batch.id, to_ms(changed.event.ts))
        if news or changed.change in ("noted", "note_deleted"):
            applied.append(changed)
    return applied


def _raise(store: Repository, versions: dict[str, int], name: str, batch_id: str, value: int) -> None:
    store.raise_marks({name: value})
    versions[batch_id] = max(value, versions.get(batch_id, value))


def _save(store: Repository, batch: Batch) -> None:
    """Store the batch as the Pi has it. Another batch still open in its chamber here is one whose
    end has not arrived yet (the Pi keeps one open at most): it is ended where this one starts,
    until its own ``ended`` arrives and says when."""
    try:
        store.save_batch(batch)
    except OpenBatchConflict:
        for other in store.list_batches(open_only=True):
            if other.chamber == batch.chamber and other.id != batch.id:
                log.info("hub: the batch %r in %s is ended where %r starts: its end is on its way",
                         other.name, other.chamber, batch.name)
                store.save_batch(replace(other, ended=max(other.started, batch.started)))
        store.save_batch(batch)


def load_versions(store: Repository) -> Mapping[str, int]:
    """Every batch's applied version, by ``<node>/<batch id>`` (a hub's start, for its live view)."""
    return {name.removeprefix(VERSIONS): value for name, value in store.load_marks(VERSIONS).items()}
