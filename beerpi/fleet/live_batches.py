"""The hub's live view of every Pi's batches: each chamber's open batch for the hello, and which
batch changes are news for the hub's clients.

IOLoop only, apart from ``load`` (a blocking read at start). A Pi's batch changes reach every hub
on its live connection (``live.py``), resent ones too: a change older than the last one seen of
its batch (``ingest_batches.is_news``, by the versions the storing step keeps in the database,
read at start) is not news, so a resent ``started`` never reopens an ended batch on the page.
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
        """What the hub's database holds (blocking)."""
        return cls({batch.chamber: batch for batch in store.list_batches(open_only=True)},
                   dict(load_versions(store)))

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
