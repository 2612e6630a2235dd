"""The hub's live view of every Pi's batches: each chamber's open batch for the hello, and which
batch changes are news for the hub's clients.

IOLoop only, apart from ``load`` (a blocking read, on the executor). A Pi's batch changes reach
every hub on its live connection (``live.py``), resent ones too: a change older than the last one
seen of its batch (``ingest_batches.is_news``, by the versions the storing step keeps in the
database, read at start) is not news, so a resent ``started`` never reopens an ended batch on the
page. A change the live connection missed (it was down) is in the database once a hub stored it:
``refresh`` takes from there whatever is newer than what was heard live.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from beerpi.batches.model import Batch
from beerpi.fleet.ingest_batches import DELETED, is_news, load_versions
from beerpi.fleet.wire import to_ms
from beerpi.repository import Repository
from beerpi.repository.batch_events import BatchChanged


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

    def refresh(self, stored: LiveBatches) -> bool:
        """Take each batch ``stored`` (``load``) holds a newer version of than was heard live; whether
        the open batches changed. A chamber keeps the later started of two open batches."""
        before = {chamber: batch.id for chamber, batch in self.open.items()}
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
        return before != {chamber: batch.id for chamber, batch in self.open.items()}

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
