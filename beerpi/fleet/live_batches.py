"""The hub's live view of every Pi's batches: each chamber's open batch for the hello, and which
batch changes are news for the hub's clients.

IOLoop only, apart from ``load`` (a blocking read, on the executor). A Pi's batch changes reach
every hub on its live connection (``live.py``), resent ones too: a change older than the last one
seen of its batch (``ingest_batches.is_news``, by the versions the storing step keeps in the
database, read at start) is not news, so a resent ``started`` never reopens an ended batch on the
page. A change the live connection missed (it was down) is in the database once a hub stored it:
``refresh`` takes from there whatever is newer than what was heard live, and says what changed in
each chamber, for the pages already open to be sent a ``batch`` frame of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from beerpi.batches.model import Batch
from beerpi.fleet.ingest_batches import DELETED, is_news, load_versions
from beerpi.fleet.remote import node_of
from beerpi.fleet.wire import to_ms
from beerpi.repository import Repository
from beerpi.repository.batch_events import BatchChanged


@dataclass(frozen=True)
class Missed:
    """A chamber's open batch changed by a refresh: ``started`` or ``edited`` (the batch open now), ``ended``
    (the batch as it was heard open: read it again from the database) or ``deleted`` (as it was heard)."""

    change: str
    batch: Batch


@dataclass
class LiveBatches:
    """``open``: each chamber's open batch by hub chamber id; ``versions``: by ``<node>/<batch id>``."""

    open: dict[str, Batch] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, store: Repository) -> LiveBatches:
        """What the hub's database holds (blocking). The versions are read first, so each open batch
        read is at least as new as its version."""
        versions = dict(load_versions(store))
        return cls({batch.chamber: batch for batch in store.list_batches(open_only=True)}, versions)

    def refresh(self, stored: LiveBatches) -> list[Missed]:
        """Take each batch ``stored`` (``load``) holds a newer version of than was heard live; what changed,
        one per chamber whose open batch did. A chamber keeps the later started of two open batches."""
        before = dict(self.open)
        stored_open = {batch.id: batch for batch in stored.open.values()}
        for key, version in stored.versions.items():
            if version <= self.versions.get(key, -1):
                continue
            self.versions[key] = version
            batch_id = key.partition("/")[2]
            for chamber in [chamber for chamber, kept in self.open.items() if kept.id == batch_id]:
                del self.open[chamber]
            batch = stored_open.get(batch_id)
            kept = self.open.get(batch.chamber) if batch is not None else None
            if batch is not None and (kept is None or kept.started <= batch.started):
                self.open[batch.chamber] = batch
        return [missed for chamber in sorted(before.keys() | self.open.keys())
                if (missed := self._missed(before.get(chamber), self.open.get(chamber))) is not None]

    def _missed(self, was: Batch | None, now: Batch | None) -> Missed | None:
        if now is not None:
            return Missed("started", now) if was is None or was.id != now.id else \
                Missed("edited", now) if was != now else None
        if was is None:
            return None
        deleted = self.versions.get(f"{node_of(was.chamber)}/{was.id}") == DELETED
        return Missed("deleted" if deleted else "ended", was)

    def heard(self, node: str, changed: BatchChanged) -> bool:
        """Take a change (its chamber a hub id); whether it is news, the open batches then updated."""
        key = f"{node}/{changed.batch.id}"
        if not is_news(changed, self.versions.get(key)):
            return False
        self.versions[key] = DELETED if changed.change == "deleted" else to_ms(changed.event.ts)
        batch = changed.batch
        kept = self.open.get(batch.chamber)
        if batch.open and changed.change != "deleted":
            self.open[batch.chamber] = batch
        elif kept is not None and kept.id == batch.id:
            del self.open[batch.chamber]
        return True
