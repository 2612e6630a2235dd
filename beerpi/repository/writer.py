"""Write-behind storage: the monitor hands its writes over and never waits for the database.

``WriteBehind`` is a Repository wrapped around a backend:

- ``add_readings``, ``add_event`` and ``save_settings`` put the item on a bounded queue and
  return at once. One writer thread (``beerpi-writer``) takes what queued for up to
  ``batch_delay`` or ``batch_readings`` readings and writes it in one transaction. The
  service sets ``batch_delay`` to ``batching.batch_delay_for(interval)``: 60 samples, just
  under 5 minutes at the default 5 s interval, because every transaction rewrites whole
  pages of the SD card. An event or a settings change ends its batch within 0.5 s, and a
  read (``history``, ``latest``…) first asks for what waits, so reads are never stale.
- ``spool_first`` (remote databases): every batch is appended to the spool file first, then
  delivered from the spool oldest first and deleted once the database confirms it, so a
  restart during an outage loses nothing. Without it (a local SQLite file, where a second
  copy on the same card adds nothing) a batch is written directly, and only a batch that
  failed goes to the spool; every later batch follows it there until the spool is empty,
  so the order is kept.
- A failed write is retried with exponential backoff, 0.5 s doubling up to 30 s. Backends
  store readings idempotently on (probe, ts) and events on their id, so a batch that was
  stored but not confirmed does no harm when it is delivered again.
- Reads (``latest``, ``readings_between``, ``history``, …) go straight to the backend and
  show what it has: readings still waiting are not in them yet.
- What is in memory is lost only if the process dies without ``close()`` (``kill -9``, power
  loss): at most one batch while the database keeps up (``batch_delay`` of readings, about
  5 minutes at the default interval; events 0.5 s); during an outage also what arrives while
  one delivery attempt waits for its timeout (2 s by default for MongoDB). A power cut can
  also lose what the kernel has not yet written back (SQLite's ``synchronous=NORMAL``; about
  30 s on Raspberry Pi OS). ``close()`` puts what is in memory into the spool, even when the
  writer is stuck in a database call.
- If the spool refuses writes too (a full disk), at most ``CARRY_READINGS`` wait in memory;
  older ones are dropped. Every reading given up is logged and counted in ``status.dropped``.
- ``save_settings`` is durable before it returns: the change is appended to the spool (and
  its mirror) with ``synchronous=FULL`` in the caller's thread, then queued like the rest, so
  it is written in order. If it cannot be kept it is still queued and ``NotSaved`` is raised.
  ``load_settings`` returns the backend's settings with the waiting changes on top or, when
  the backend is unreachable, the mirror kept in the spool, if it is this database's.

This module is the side the callers use; writer_thread.py is the writer thread's loop, and
writer_handover.py the queue and counts the two share.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from beerpi.base.errors import Closed, NotSaved, StorageError
from beerpi.batches.model import Batch, BatchNote
from beerpi.hardware.probe import Reading
from beerpi.repository.base import Bucket, Event, Identity, MinuteRollup, Repository
from beerpi.repository.batching import BATCH_DELAY, BATCH_READINGS, StorageStatus
from beerpi.repository.profiles import SavedProfile
from beerpi.repository.spool import SettingsChange, Spool
from beerpi.repository.writer_handover import FLUSH, QUEUE_ITEMS, STOP, Handover
from beerpi.repository.writer_thread import CARRY_READINGS, DELIVERY_BUDGET, STILL_FAILING_LOG_EVERY, WriterThread

__all__ = ["WriteBehind", "CARRY_READINGS", "DELIVERY_BUDGET", "QUEUE_ITEMS", "READ_FLUSH_TIMEOUT",
           "RETRY_FIRST", "RETRY_MAX", "STILL_FAILING_LOG_EVERY", "STUCK_AFTER"]

log = logging.getLogger(__name__)

READ_FLUSH_TIMEOUT = 2.0  # seconds a read waits for the batch in memory to be written
RETRY_FIRST, RETRY_MAX = 0.5, 30.0
STUCK_AFTER = 30.0  # seconds in a write cycle without a confirmed write before status says so


def _writer_setting(name: str, doc: str) -> property:
    """An attribute of the writer thread, read and set through the façade."""
    return property(lambda self: getattr(self._writer, name),
                    lambda self, value: setattr(self._writer, name, value), doc=doc)


class WriteBehind(Repository):
    """A Repository whose writes are queued, batched, spooled and retried by one thread."""

    backend = _writer_setting("backend", "The database (the writer replaces a stand-in once it opens).")
    spool_first = _writer_setting("spool_first", "Every batch goes to the spool before the database.")
    batch_delay = _writer_setting("batch_delay", "Seconds a batch of readings collects at most.")
    batch_readings = _writer_setting("batch_readings", "Readings that end a batch early.")
    retry_first = _writer_setting("retry_first", "Seconds before the first retry of a failed write.")
    retry_max = _writer_setting("retry_max", "Seconds between retries at most.")
    clock = _writer_setting("clock", "The monotonic clock of batching, backoff and status.")

    def __init__(self, backend: Repository, spool: Spool, spool_first: bool = True,
                 batch_delay: float = BATCH_DELAY, batch_readings: int = BATCH_READINGS,
                 retry: tuple[float, float] = (RETRY_FIRST, RETRY_MAX), queue_items: int = QUEUE_ITEMS,
                 clock: Callable[[], float] = time.monotonic,
                 reopen: Callable[[], Repository] | None = None, spool_error: str | None = None) -> None:
        """``reopen`` opens the database again when ``backend`` is an ``Unavailable`` stand-in
        (None: do not retry, as for a corrupt file); ``spool_error`` says why ``spool`` is a
        stand-in in memory."""
        self.spool = spool
        self._spool_error = spool_error
        self._handover = Handover(queue_items)
        self._writer = WriterThread(self._handover, backend, spool, spool_first, batch_delay,
                                    batch_readings, retry, clock, reopen)
        self._thread = threading.Thread(target=self._writer.run, name="beerpi-writer", daemon=True)
        self._thread.start()

    # -- the monitor's side: never blocks ----------------------------------------------

    def add_readings(self, readings: Sequence[Reading]) -> None:
        if readings:
            self._handover.put(list(readings), len(readings), self.spool.path)

    def add_event(self, event: Event) -> None:
        self._handover.put(event, 0, self.spool.path)

    def save_settings(self, settings: Mapping[str, Any]) -> None:
        """Keep the change in the spool, synced to disk, before returning; then queue it for the
        database. Raises NotSaved (after queueing it) if it could not be kept durably."""
        change = SettingsChange(dict(settings))
        problem = None
        if self._spool_error is not None:
            problem = "the spool is in memory only"
        else:
            try:
                # In the caller's thread (the monitor's, never the IOLoop): the user's change
                # must survive a power cut once acknowledged. The copy queued below keeps the
                # writer's order and bookkeeping; writing the same values twice is harmless.
                self.spool.append_durably([change])
            except (StorageError, Closed) as exc:
                problem = str(exc)
        try:
            self._handover.put(change, 0, self.spool.path)
        except StorageError:
            if problem is not None:
                raise
            # The writer is stuck, but the change is in the spool: it is delivered from there.
        if problem is not None:
            log.error("the settings change %s is in force but could not be saved (%s): it is lost "
                      "if BeerPi restarts before the database has it", dict(settings), problem)
            raise NotSaved(f"the change is in force but could not be saved ({problem}): it is lost "
                           "if BeerPi restarts before the database has it")

    @property
    def status(self) -> StorageStatus:
        """``backlog`` counts the readings waiting beyond the normal batching delay: 0 while the
        database keeps up, every reading not yet stored once it fails or falls behind."""
        writer = self._writer
        busy_since = writer.busy_since
        now = writer.clock()
        waited = 0.0 if busy_since is None else now - max(busy_since, writer.confirmed_at)
        stuck = waited > STUCK_AFTER and f"no write confirmed by the database for {waited:.0f} s"
        backlog = 0
        if not writer.ok or stuck or writer.backlog_since is not None or (
                busy_since is not None and now - busy_since > writer.batch_delay):
            backlog = writer.waiting_readings()
        problems = [None if writer.ok else writer.failure, stuck, self._spool_error]
        return StorageStatus(backlog, writer.ok and not stuck and self._spool_error is None,
                             self._handover.dropped + self.spool.dropped,
                             "; ".join(p for p in problems if p) or None, self._spool_error is None)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything handed over so far is in the database; False if not within ``timeout``."""
        handover = self._handover
        with handover.lock:
            target = handover.accepted
        handover.nudge = True
        try:
            handover.queue.put_nowait((0, FLUSH))
        except queue.Full:
            pass  # the writer has plenty to wake up for
        with handover.progress:
            return handover.progress.wait_for(lambda: handover.done >= target, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what can be delivered within ``timeout``, leave the rest in the spool, and close."""
        with self._handover.lock:
            if self._handover.closed:
                return
            self._handover.closed = True
        if self._writer.ok:
            self.flush(timeout)
        try:
            self._handover.queue.put((0, STOP), timeout=timeout)
        except queue.Full:
            pass
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._take_over(timeout)
        if len(self.spool):
            log.warning("%d readings wait in the spool %s; they are delivered at the next start",
                        self.spool.readings, self.spool.path)
        self.spool.close()
        self.backend.close()

    def _take_over(self, timeout: float) -> None:
        """The writer is stuck in a database call: put what it holds in memory into the spool.

        What the writer was writing may also reach the database when the call returns: stored
        twice is harmless (writes are idempotent), lost is not.
        """
        with self._handover.lock:
            self._handover.abandoned = True
        items = list(self._writer.in_hand) + list(self._writer.carry) + self._handover.drain()
        self._handover.queue.put_nowait((0, STOP))  # the writer ends when its call returns
        log.error("the storage writer is still waiting on the database after %.0f s: saving the %d "
                  "items it holds in memory to the spool", timeout, len(items))
        self._writer.keep([item for _, item in sorted(items, key=lambda pair: pair[0])])

    # -- reads and settings -------------------------------------------------------------

    def ping(self) -> None:
        self.backend.ping()

    def identity(self) -> Identity:
        return self.backend.identity()

    def _catch_up(self) -> None:
        """Before a read, hand the database what waits in memory (a long batch), briefly."""
        handover = self._handover
        if self._writer.ok and not handover.closed and (handover.queued_readings or handover.taken_readings
                                                        or not handover.queue.empty()):
            self.flush(READ_FLUSH_TIMEOUT)

    def latest(self) -> list[Reading]:
        self._catch_up()
        return self.backend.latest()

    def readings_between(self, since: float, until: float, probe: str | None = None) -> list[Reading]:
        self._catch_up()
        return self.backend.readings_between(since, until, probe)

    def iter_readings(self, since: float | None = None, until: float | None = None,
                      probe: str | None = None) -> Iterator[Reading]:
        self._catch_up()
        return self.backend.iter_readings(since=since, until=until, probe=probe)

    def history(self, probe: str, since: float, until: float, points: int) -> list[Bucket]:
        self._catch_up()
        return self.backend.history(probe, since, until, points)

    def prune_raw(self, before: float, limit: int) -> int:
        """Straight to the database, from the caller's thread (see retention.py)."""
        return self.backend.prune_raw(before, limit)

    def raw_kept_from(self) -> float | None:
        return self.backend.raw_kept_from()

    def iter_minute_rollups(self, until: float) -> Iterator[MinuteRollup]:
        self._catch_up()
        return self.backend.iter_minute_rollups(until)

    def add_minute_rollups(self, rows: Sequence[MinuteRollup]) -> None:
        """Straight to the database, from the caller's thread, like ``prune_raw``: they are
        a copy's history, not readings to batch."""
        self.backend.add_minute_rollups(rows)

    def events_between(self, since: float, until: float) -> list[Event]:
        self._catch_up()
        return self.backend.events_between(since, until)

    # Saved profiles go straight to the database from the caller's thread, like ``prune_raw``:
    # a brewer saving one waits for the answer, and they are no part of the readings' order.

    def list_profiles(self) -> list[SavedProfile]:
        return self.backend.list_profiles()

    def save_profile(self, profile: SavedProfile) -> None:
        self.backend.save_profile(profile)

    def delete_profile(self, name: str) -> bool:
        return self.backend.delete_profile(name)

    def seed_profiles(self, profiles: Sequence[SavedProfile]) -> bool:
        return self.backend.seed_profiles(profiles)

    # Batches and their notes too: the brewer waits for the answer (a second open batch is refused).

    def save_batch(self, batch: Batch) -> None:
        self.backend.save_batch(batch)

    def get_batch(self, batch_id: str) -> Batch | None:
        return self.backend.get_batch(batch_id)

    def list_batches(self, name: str | None = None, open_only: bool = False) -> list[Batch]:
        return self.backend.list_batches(name, open_only)

    def add_batch_note(self, note: BatchNote) -> None:
        self.backend.add_batch_note(note)

    def notes_of(self, batch_id: str) -> list[BatchNote]:
        return self.backend.notes_of(batch_id)

    def delete_batch(self, batch_id: str) -> bool:
        return self.backend.delete_batch(batch_id)

    def delete_batch_note(self, note_id: str) -> bool:
        return self.backend.delete_batch_note(note_id)

    def raise_marks(self, marks: Mapping[str, int]) -> None:
        self.backend.raise_marks(marks)

    def load_marks(self, prefix: str = "") -> dict[str, int]:
        return self.backend.load_marks(prefix)

    def load_settings(self) -> dict[str, Any]:
        """The backend's settings with the changes still waiting applied; if it is unreachable,
        the spool's mirror of them, or only the waiting changes if the mirror is not this
        database's (the caller's configured settings then apply)."""
        try:
            settings = self.backend.load_settings()
        except StorageError as exc:
            mirror = self.spool.trusted_mirror()
            if mirror is not None:
                settings = mirror
                log.warning("cannot read the settings from the database (%s): using the last known "
                            "settings %s", exc, settings or "(none)")
            else:
                settings = {}
                for values in self.spool.waiting_settings():
                    settings.update(values)
                log.warning("cannot read the settings from the database (%s), and no settings kept in "
                            "the spool %s are known to be this database's: using the configured settings%s",
                            exc, self.spool.path, f" with the changes waiting for it {settings}" if settings else "")
        else:
            for values in self.spool.waiting_settings():
                settings.update(values)
            try:
                self.spool.replace_mirror(settings)
            except (StorageError, Closed) as exc:
                log.warning("cannot keep the settings in the spool (%s): a start while the database "
                            "is unreachable uses the configured ones", exc)
        with self._handover.lock:
            for _, values in self._handover.waiting_settings:
                settings.update(values)
        return settings
