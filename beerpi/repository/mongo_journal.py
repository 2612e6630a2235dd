"""The MongoDB roll-up journal: which spans a batch is adding to the roll-ups, until they are in.

Roll-ups are incremented by the readings a batch newly stored (``mongo_rollups``). A batch
that fails between its insert and its last bucket write would leave them short for good: when
the batch is stored again its readings are already there, so nothing counts them. So before
its insert a batch writes an entry in ``rollup_journal`` with each probe's first and last
time stamp, and deletes it once its roll-ups are in. An entry still there is repaired by
recomputing those spans from the readings (``mongo_rollups.recompute_kept``, which gives the
same answer however often it runs), then deleted:

* this store's own entries, at its next batch (it remembers them);
* anyone's entries older than ``STALE_AFTER`` (a process killed mid-batch), looked for at
  most every ``CHECK_EVERY``.

If another process repaired an entry while its batch was still at work (so the increments
that came after the recomputation count twice), the batch finds its entry gone when it ends,
and recomputes its spans itself.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from bson.datetime_ms import DatetimeMS
from pymongo.database import Database

log = logging.getLogger(__name__)

COLLECTION = "rollup_journal"
STALE_AFTER = 120.0  # s: an entry this old belongs to a batch no one is finishing
CHECK_EVERY = 60.0  # s: how often a store looks for stale entries (first at its first batch)

Spans = dict[str, tuple[int, int]]
"""Each probe's first and last time stamp (ms) in a batch."""


class RollupJournal:
    """Entries of the batches whose roll-ups are not in yet; ``recompute(probe, first, last)`` repairs."""

    def __init__(self, db: Database[dict[str, Any]], recompute: Callable[[str, int, int], None],
                 clock: Callable[[], float] = time.time) -> None:
        self._entries = db[COLLECTION]
        self._recompute = recompute
        self._clock = clock
        self._failed: dict[str, Spans] = {}  # this store's entries whose batch failed
        self._checked: float | None = None  # when stale entries were last looked for

    @contextmanager
    def entry(self, spans: Spans) -> Iterator[None]:
        """Around a batch's insert and roll-ups: an entry while they are at work, deleted when
        they are in, kept for ``repair`` if anything fails (the entry's own writes included)."""
        entry = uuid.uuid4().hex
        try:
            self._entries.insert_one({"_id": entry, "at": DatetimeMS(round(self._clock() * 1000)),
                                      "spans": [[probe, first, last] for probe, (first, last) in spans.items()]})
            yield
            if self._entries.delete_one({"_id": entry}).deleted_count == 0:
                log.warning("roll-ups of %d probes were repaired while being stored: recomputing them", len(spans))
                self.recompute(spans)
        except BaseException:
            self._failed[entry] = spans
            raise

    def repair(self) -> None:
        """Recompute the spans of this store's entries left by a failed batch, and of stale ones."""
        for entry, spans in list(self._failed.items()):
            log.info("recomputing the roll-ups of %d probes a failed batch left", len(spans))
            self.recompute(spans)
            self._entries.delete_one({"_id": entry})
            self._failed.pop(entry, None)
        now = self._clock()
        if self._checked is not None and now - self._checked < CHECK_EVERY:
            return
        self._checked = now
        for doc in self._entries.find({"at": {"$lt": DatetimeMS(round((now - STALE_AFTER) * 1000))}}):
            log.warning("recomputing the roll-ups of %d probes a batch left unfinished", len(doc["spans"]))
            self.recompute({probe: (int(first), int(last)) for probe, first, last in doc["spans"]})
            self._entries.delete_one({"_id": doc["_id"]})

    def recompute(self, spans: Mapping[str, tuple[int, int]]) -> None:
        """Recompute every level over each probe's span (from the readings, and the minutes pruning left)."""
        for probe, (first, last) in spans.items():
            self._recompute(probe, first, last)
