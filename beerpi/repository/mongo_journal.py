"""The MongoDB roll-up journal: which spans a batch is adding to the roll-ups, until they are in,
and the lease that keeps a repair of them apart from every other process's batches.

Roll-ups are incremented by the readings a batch newly stored (``mongo_rollups``). A batch
that fails between its insert and its last bucket write would leave them short for good: when
the batch is stored again its readings are already there, so nothing counts them. So before
its insert a batch writes an entry in ``rollup_journal`` with each probe's first and last
time stamp, and deletes it once its roll-ups are in. An entry still there is repaired by
recomputing those spans from the readings (``mongo_rollups.recompute_kept``, which gives the
same answer however often it runs), then deleted:

* this store's own entries, at its next batch (it remembers them, and marks them ``failed``
  in the journal so that no one waits for them);
* anyone's entries older than ``STALE_AFTER`` (a process killed mid-batch), looked for at
  most every ``CHECK_EVERY``.

A recomputation replaces buckets that another process (a second hub on the same database) may
be incrementing at that moment: a reading it inserted before the recomputation read the level
below and counted after it was written would count twice; one inserted after the read and
counted before the write would be lost. So a repair runs only under the journal's lease (one
document, ``_id`` ``repairing``), and only once no other process's batch is at work; a batch
writes its entry first, then looks for a lease, and while there is one it deletes its entry and
waits. Each side writes before it looks, so of a batch and a repair that overlap, at least one
sees the other (the batch steps aside, or the repair waits for it to end). The lease and the
ages are told by each process's own clock: hubs sharing a database want their clocks set (NTP).

If another process repaired an entry while its batch was still at work (it took it for stale),
the batch finds its entry gone when it ends, and has its spans recomputed at its next batch.
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
from pymongo.errors import DuplicateKeyError, PyMongoError

from beerpi.base.errors import StorageError

log = logging.getLogger(__name__)

COLLECTION = "rollup_journal"
LEASE = "repairing"  # the _id of the repair's lease in the journal
STALE_AFTER = 120.0  # s: an entry this old belongs to a batch no one is finishing
CHECK_EVERY = 60.0  # s: how often a store looks for stale entries (first at its first batch)
IN_FLIGHT_FOR = 30.0  # s: a repair waits at most this long for a batch at work (each write times out in 5)
LEASE_FOR = 30.0  # s: a lease not renewed this long belongs to a repair no one is finishing
POLL = 0.05  # s between two looks at the journal while waiting

Spans = dict[str, tuple[int, int]]
"""Each probe's first and last time stamp (ms) in a batch."""


class RollupJournal:
    """Entries of the batches whose roll-ups are not in yet; ``recompute(probe, first, last)`` repairs."""

    def __init__(self, db: Database[dict[str, Any]], recompute: Callable[[str, int, int], None],
                 clock: Callable[[], float] = time.time, pause: Callable[[float], None] = time.sleep) -> None:
        self._entries = db[COLLECTION]
        self._recompute = recompute
        self._clock = clock
        self._pause = pause
        self._owner = uuid.uuid4().hex  # this store, as the holder of the lease
        self._failed: dict[str, Spans] = {}  # this store's entries whose batch failed
        self._checked: float | None = None  # when stale entries were last looked for

    @contextmanager
    def entry(self, spans: Spans) -> Iterator[None]:
        """Around a batch's insert and roll-ups: an entry while they are at work, deleted when
        they are in, kept for ``repair`` if anything fails (its delete included). Before the
        batch, waits while another process repairs (StorageError if that takes over ``LEASE_FOR``);
        an entry written then but never deleted (the server failed) is repaired once stale."""
        entry = uuid.uuid4().hex
        self._enter(entry, spans)
        try:
            yield
            if self._entries.delete_one({"_id": entry}).deleted_count == 0:
                log.warning("roll-ups of %d probes were repaired while being stored: recomputed at the next batch",
                            len(spans))
                self._failed[entry] = spans
        except BaseException:
            self._failed[entry] = spans
            try:
                self._entries.update_one({"_id": entry}, {"$set": {"failed": True}})
            except PyMongoError:
                pass  # marked at the next repair
            raise

    def _enter(self, entry: str, spans: Spans) -> None:
        """Write the entry, then look for a repair at work: while there is one, step aside."""
        deadline = self._clock() + LEASE_FOR
        while True:
            self._entries.insert_one({"_id": entry, "at": self._ms(self._clock()),
                                      "spans": [[probe, first, last] for probe, (first, last) in spans.items()]})
            lease = self._fresh_lease()
            if lease is None or lease.get("owner") == self._owner:
                return
            self._entries.delete_one({"_id": entry})
            while lease is not None:
                if self._clock() >= deadline:
                    raise StorageError(f"the roll-ups have been repaired by another process for over {LEASE_FOR:g} "
                                       "s: this batch is not stored (it is sent again)")
                self._pause(POLL)
                lease = self._fresh_lease()

    def repair(self) -> None:
        """Recompute the spans of this store's entries left by a failed batch, and of stale ones,
        under the lease once no other process's batch is at work (or later, if another holds it)."""
        now = self._clock()
        if self._failed:
            self._entries.update_many({"_id": {"$in": list(self._failed)}}, {"$set": {"failed": True}})
        stale: list[dict[str, Any]] = []
        if self._checked is None or now - self._checked >= CHECK_EVERY:
            stale = list(self._entries.find({"_id": {"$ne": LEASE}, "at": {"$lt": self._ms(now - STALE_AFTER)}}))
            if not stale:
                self._checked = now
        if not (self._failed or stale) or not self._take_lease():
            return
        try:
            self._wait_for_batches()
            for entry, spans in list(self._failed.items()):
                log.info("recomputing the roll-ups of %d probes a failed batch left", len(spans))
                self._recompute_leased(spans)
                self._entries.delete_one({"_id": entry})
                self._failed.pop(entry, None)
            for doc in stale:
                log.warning("recomputing the roll-ups of %d probes a batch left unfinished", len(doc["spans"]))
                self._recompute_leased({probe: (int(first), int(last)) for probe, first, last in doc["spans"]})
                self._entries.delete_one({"_id": doc["_id"]})
            self._checked = now
        finally:
            self._entries.delete_one({"_id": LEASE, "owner": self._owner})

    def _recompute_leased(self, spans: Mapping[str, tuple[int, int]]) -> None:
        """Recompute every level over each probe's span, renewing the lease as it goes."""
        for probe, (first, last) in spans.items():
            self._recompute(probe, first, last)
            self._entries.update_one({"_id": LEASE, "owner": self._owner},
                                     {"$set": {"at": self._ms(self._clock())}})  # still at work

    def _take_lease(self) -> bool:
        """Hold the lease (taking over a stale one); False if another process holds it."""
        try:
            self._entries.insert_one({"_id": LEASE, "owner": self._owner, "at": self._ms(self._clock())})
            return True
        except DuplicateKeyError:
            lease = self._fresh_lease()
            if lease is not None:
                return lease.get("owner") == self._owner  # ours, if letting it go failed
            log.warning("taking over a roll-up repair no one is finishing")
            now = self._clock()
            return self._entries.update_one({"_id": LEASE, "at": {"$lt": self._ms(now - LEASE_FOR)}},
                                            {"$set": {"owner": self._owner, "at": self._ms(now)}}).modified_count == 1

    def _wait_for_batches(self) -> None:
        """Until no other process's batch is at work (an entry neither failed nor older than
        ``IN_FLIGHT_FOR``), or ``IN_FLIGHT_FOR`` has passed."""
        deadline = self._clock() + IN_FLIGHT_FOR
        while True:
            now = self._clock()
            busy = self._entries.count_documents({"_id": {"$nin": [LEASE, *self._failed]}, "failed": {"$ne": True},
                                                  "at": {"$gte": self._ms(now - IN_FLIGHT_FOR)}})
            if not busy:
                return
            if now >= deadline:
                log.warning("repairing roll-ups while %d batches of other processes seem at work", busy)
                return
            self._pause(POLL)

    def _fresh_lease(self) -> dict[str, Any] | None:
        """The lease, unless there is none or it has not been renewed for ``LEASE_FOR``."""
        return self._entries.find_one({"_id": LEASE, "at": {"$gte": self._ms(self._clock() - LEASE_FOR)}})

    @staticmethod
    def _ms(seconds: float) -> DatetimeMS:
        return DatetimeMS(round(seconds * 1000))
