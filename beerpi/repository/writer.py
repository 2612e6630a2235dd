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
  the backend is unreachable, the mirror kept in the spool.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ..errors import Closed, NotSaved, StorageCorrupt, StorageError
from ..probe import Reading
from .base import Bucket, Event, MinuteRollup, Repository
from .batching import (BATCH_DELAY, BATCH_READINGS, DELIVERY_CHUNK, EVENT_DELAY, StorageStatus,
                       groups as _groups)
from .spool import Item, SettingsChange, Spool
from .unavailable import Unavailable

log = logging.getLogger(__name__)

DELIVERY_BUDGET = 1.0  # seconds of spool delivery between two looks at the queue
READ_FLUSH_TIMEOUT = 2.0  # seconds a read waits for the batch in memory to be written
QUEUE_ITEMS = 10_000  # add_readings/add_event calls held in memory at most
CARRY_READINGS = 10_000  # readings held in memory at most while the spool refuses them
RETRY_FIRST, RETRY_MAX = 0.5, 30.0
STILL_FAILING_LOG_EVERY = 60.0
STUCK_AFTER = 30.0  # seconds in a write cycle without a confirmed write before status says so

_FLUSH = object()  # ends a batch early and asks for a delivery attempt now
_STOP = object()


class WriteBehind(Repository):
    """A Repository whose writes are queued, batched, spooled and retried by one thread."""

    def __init__(self, backend: Repository, spool: Spool, spool_first: bool = True,
                 batch_delay: float = BATCH_DELAY, batch_readings: int = BATCH_READINGS,
                 retry: tuple[float, float] = (RETRY_FIRST, RETRY_MAX), queue_items: int = QUEUE_ITEMS,
                 clock: Callable[[], float] = time.monotonic,
                 reopen: Callable[[], Repository] | None = None, spool_error: str | None = None) -> None:
        """``reopen`` opens the database again when ``backend`` is an ``Unavailable`` stand-in
        (None: do not retry, as for a corrupt file); ``spool_error`` says why ``spool`` is a
        stand-in in memory."""
        self.backend = backend
        self._reopen = reopen
        self._open_error = backend.reason if isinstance(backend, Unavailable) else None
        self._spool_error = spool_error
        self._failure: str | None = None  # why the last write failed
        self.spool = spool
        self.spool_first = spool_first
        self.batch_delay = batch_delay
        self.batch_readings = batch_readings
        self.retry_first, self.retry_max = retry
        self.clock = clock
        self._queue: queue.Queue[Any] = queue.Queue(queue_items)
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._accepted = 0  # items handed over, numbered from 1
        self._done = 0  # every item up to this number is in the database (or was dropped)
        self._queued_readings = 0
        self._spooled: deque[tuple[int, int]] = deque()  # (spool seq, item number) per spooled batch
        self._waiting_settings: list[tuple[int, Mapping[str, Any]]] = []
        self._carry: list[tuple[int, Item]] = []  # a batch the spool refused, retried first
        self._taken_readings = 0  # out of the queue, neither confirmed nor spooled yet
        self._busy_since: float | None = None  # when the writer started its current writes
        self._confirmed_at = 0.0  # when the database last confirmed a write
        self._lost = 0  # readings refused by a full queue, not yet reported by an event
        self._dropped = 0
        self._ok = True
        self._backlog_since: float | None = None
        self._last_warning = 0.0
        self._retry_delay = self.retry_first
        self._next_attempt = 0.0
        self._nudge = False
        self._closed = False
        self._abandoned = False  # close() gave up waiting for the writer and took what it held
        self._in_hand: list[tuple[int, Item]] = []  # the batch being written, not yet spooled
        if self._open_error is not None:
            self._ok = False
            self._failure = self._open_error
            self._backlog_since = clock()
        if len(spool):
            log.warning("storage backlog: %d readings (%d items) left in the spool %s are delivered "
                        "first", spool.readings, len(spool), spool.path)
            self._backlog_since = clock()
        self._thread = threading.Thread(target=self._run, name="beerpi-writer", daemon=True)
        self._thread.start()

    # -- the monitor's side: never blocks ----------------------------------------------

    def add_readings(self, readings: Sequence[Reading]) -> None:
        if readings:
            self._put(list(readings), len(readings))

    def add_event(self, event: Event) -> None:
        self._put(event, 0)

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
            self._put(change, 0)
        except StorageError:
            if problem is not None:
                raise
            # The writer is stuck, but the change is in the spool: it is delivered from there.
        if problem is not None:
            log.error("the settings change %s is in force but could not be saved (%s): it is lost "
                      "if BeerPi restarts before the database has it", dict(settings), problem)
            raise NotSaved(f"the change is in force but could not be saved ({problem}): it is lost "
                           "if BeerPi restarts before the database has it")

    def _put(self, item: object, readings: int) -> None:
        with self._lock:
            if self._closed:
                raise Closed("storage is closed")
            number = self._accepted + 1
            try:
                self._queue.put_nowait((number, item))
            except queue.Full:
                if not self._lost:
                    log.error("STORAGE QUEUE FULL: the writer is stuck; dropping new readings until "
                              "it catches up (check the disk holding the spool %s)", self.spool.path)
                self._lost += readings
                self._dropped += readings
                raise StorageError("the storage queue is full") from None
            self._accepted = number
            self._queued_readings += readings
            if isinstance(item, SettingsChange):
                self._waiting_settings.append((number, item.values))

    @property
    def status(self) -> StorageStatus:
        """``backlog`` counts the readings waiting beyond the normal batching delay: 0 while the
        database keeps up, every reading not yet stored once it fails or falls behind."""
        busy_since = self._busy_since
        now = self.clock()
        waited = 0.0 if busy_since is None else now - max(busy_since, self._confirmed_at)
        stuck = waited > STUCK_AFTER and f"no write confirmed by the database for {waited:.0f} s"
        backlog = 0
        if not self._ok or stuck or self._backlog_since is not None or (
                busy_since is not None and now - busy_since > self.batch_delay):
            backlog = self._queued_readings + self._taken_readings + self.spool.readings
        problems = [None if self._ok else self._failure, stuck, self._spool_error]
        return StorageStatus(backlog, self._ok and not stuck and self._spool_error is None,
                             self._dropped + self.spool.dropped, "; ".join(p for p in problems if p) or None)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything handed over so far is in the database; False if not within ``timeout``."""
        with self._lock:
            target = self._accepted
        self._nudge = True
        try:
            self._queue.put_nowait((0, _FLUSH))
        except queue.Full:
            pass  # the writer has plenty to wake up for
        with self._progress:
            return self._progress.wait_for(lambda: self._done >= target, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what can be delivered within ``timeout``, leave the rest in the spool, and close."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._ok:
            self.flush(timeout)
        try:
            self._queue.put((0, _STOP), timeout=timeout)
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
        with self._lock:
            self._abandoned = True
        items = list(self._in_hand) + list(self._carry)
        while True:
            try:
                number, item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, list):
                items.extend((number, reading) for reading in item)
            elif item is not _FLUSH and item is not _STOP:
                items.append((number, item))
        self._queue.put_nowait((0, _STOP))  # the writer ends when its call returns
        log.error("the storage writer is still waiting on the database after %.0f s: saving the %d "
                  "items it holds in memory to the spool", timeout, len(items))
        self._keep([item for _, item in sorted(items, key=lambda pair: pair[0])])

    def _keep(self, items: Sequence[Item]) -> None:
        """Append ``items`` to the spool; what it refuses is logged and counted as dropped."""
        if not items:
            return
        try:
            self.spool.append(items)
        except (StorageError, Closed) as exc:
            lost = sum(isinstance(item, Reading) for item in items)
            settings = sum(isinstance(item, SettingsChange) for item in items)
            self._dropped += lost
            log.error("READINGS LOST: the spool %s refused the last %d readings and %d other items "
                      "held in memory (%s); check the disk", self.spool.path, lost, len(items) - lost, exc)
            if settings:
                log.error("%d settings changes are among them: check the settings after the restart",
                          settings)

    # -- reads and settings -------------------------------------------------------------

    def ping(self) -> None:
        self.backend.ping()

    def _catch_up(self) -> None:
        """Before a read, hand the database what waits in memory (a long batch), briefly."""
        if self._ok and not self._closed and (self._queued_readings or self._taken_readings
                                              or not self._queue.empty()):
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

    def load_settings(self) -> dict[str, Any]:
        """The backend's settings with the changes still waiting applied; the mirror if unreachable."""
        try:
            settings = self.backend.load_settings()
            self.spool.update_mirror(settings)
            for values in self.spool.waiting_settings():
                settings.update(values)
        except StorageError as exc:
            settings = self.spool.mirror()
            log.warning("cannot read the settings from the database (%s): using the last known "
                        "settings %s", exc, settings or "(none)")
        with self._lock:
            for _, values in self._waiting_settings:
                settings.update(values)
        return settings

    # -- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping and not self._abandoned:
            batch, stopping = self._collect()
            self._busy_since = self.clock()
            try:
                if self._reopen is not None and self._due() and not stopping:
                    self._try_reopen()
                if batch:
                    self._in_hand = batch
                    self._accept(batch)
                    self._in_hand = []
                    with self._lock:
                        self._taken_readings = sum(isinstance(item, Reading) for _, item in self._carry)
                if len(self.spool) and (self._ok if stopping else self._due()):
                    self._deliver_spool()
            except Exception:  # a bug, not an outage: keep the thread alive
                if self._abandoned:
                    return
                log.exception("storage writer: unexpected error")
            self._busy_since = None
            self._after_cycle()
        if not self._abandoned and self._carry:  # the spool refused them: one last try
            carry, self._carry = self._carry, []
            self._keep([item for _, item in carry])

    def _due(self) -> bool:
        return self._nudge or self.clock() >= self._next_attempt

    def _collect(self) -> tuple[list[tuple[int, Item]], bool]:
        """The next batch: what queued within ``batch_delay`` of its first item. Returns
        (batch, stop). With a backlog it does not wait past the next delivery attempt."""
        batch, self._carry = self._carry, []
        if batch or len(self.spool):
            wait: float | None = 0.0 if self._due() else self._next_attempt - self.clock()
        else:
            wait = None  # nothing to do until something arrives
        deadline: float | None = None
        readings = 0
        while readings < self.batch_readings:
            try:
                if wait is None:
                    number, item = self._queue.get()
                else:
                    number, item = self._queue.get(timeout=max(0.0, wait))
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            if item is _FLUSH:
                break
            if isinstance(item, list):
                with self._lock:
                    self._queued_readings -= len(item)
                    self._taken_readings += len(item)
                readings += len(item)
                batch.extend((number, reading) for reading in item)
            else:
                batch.append((number, item))
            # An event or a settings change matters more than the pages a transaction costs
            limit = self.batch_delay if isinstance(item, list) else min(self.batch_delay, EVENT_DELAY)
            end = self.clock() + limit
            deadline = end if deadline is None else min(deadline, end)
            wait = deadline - self.clock()
        return batch, False

    def _accept(self, batch: list[tuple[int, Item]]) -> None:
        """Write a new batch directly, or append it to the spool."""
        if self._lost:
            with self._lock:
                lost, self._lost = self._lost, 0
            batch.append((batch[-1][0], Event(time.time(), "readings_dropped", {
                "count": lost, "reason": "the storage queue was full"})))
        if not self.spool_first and not len(self.spool) and not isinstance(self.backend, Unavailable):
            position = 0
            try:
                for end, kind, payload in _groups([item for _, item in batch]):
                    self._write(kind, payload)
                    position = end
                    self._confirm(_written_through(batch, end))
                return
            except Exception as exc:
                self._failed(exc)
                batch = batch[position:]
        try:
            seq = self.spool.append([item for _, item in batch])
        except (StorageError, Closed) as exc:
            if self._abandoned:
                return
            self._carry = self._bounded(batch)
            log.error("cannot write to the spool, keeping %d items in memory: %s", len(self._carry), exc)
            return
        self._spooled.append((seq, batch[-1][0]))

    def _bounded(self, batch: list[tuple[int, Item]]) -> list[tuple[int, Item]]:
        """``batch`` with its oldest readings dropped, counted and logged, beyond CARRY_READINGS."""
        held = sum(isinstance(item, Reading) for _, item in batch)
        if held <= CARRY_READINGS:
            return batch
        # In chunks of a tenth of the bound, like the spool, so the log is not flooded
        excess = min(held, max(held - CARRY_READINGS, CARRY_READINGS // 10))
        kept: list[tuple[int, Item]] = []
        skipped = 0
        for number, item in batch:
            if skipped < excess and isinstance(item, Reading):
                skipped += 1
                continue
            kept.append((number, item))
        with self._lock:
            self._lost += excess
            self._dropped += excess
            self._taken_readings -= excess
        log.error("READINGS LOST: the spool %s refuses writes and more than %d readings wait in "
                  "memory: dropped the %d oldest; check the disk", self.spool.path, CARRY_READINGS, excess)
        return kept

    def _try_reopen(self) -> None:
        """Open the database that could not be opened at start; back off if it still fails."""
        assert self._reopen is not None
        try:
            backend = self._reopen()
        except StorageError as exc:
            self._open_error = str(exc)
            if isinstance(exc, StorageCorrupt):
                self._reopen = None  # never try a corrupt file again: it is not to be touched
                log.error("STORAGE FAILED: %s", exc)
            self._failed(exc)
            return
        log.warning("the database could be opened at last: delivering %d waiting readings",
                    self.spool.readings)
        self.backend, self._reopen, self._open_error = backend, None, None
        self._next_attempt = 0.0

    def _deliver_spool(self) -> None:
        """Deliver the spool oldest first for up to DELIVERY_BUDGET seconds."""
        deadline = self.clock() + DELIVERY_BUDGET
        try:
            while len(self.spool) and self.clock() < deadline:
                rows = self.spool.head(DELIVERY_CHUNK)
                for end, kind, payload in _groups([item for _, item in rows]):
                    self._write(kind, payload)
                    if not end:
                        continue
                    self.spool.remove_through(rows[end - 1][0])
                    self._check_cleared()
                    self._confirm_spooled(rows[end - 1][0])
        except Exception as exc:
            self._failed(exc)

    def _write(self, kind: str, payload: Any) -> None:
        if kind == "readings":
            self.backend.add_readings(payload)
        elif kind == "event":
            self.backend.add_event(payload)
        else:
            self.backend.save_settings(payload.values)
            self.spool.update_mirror(payload.values)
        self._succeeded()

    def _confirm(self, number: int) -> None:
        with self._progress:
            self._done = max(self._done, number)
            self._waiting_settings = [(n, v) for n, v in self._waiting_settings if n > self._done]
            self._progress.notify_all()

    def _confirm_spooled(self, seq: int) -> None:
        number = None
        while self._spooled and self._spooled[0][0] <= seq:
            number = self._spooled.popleft()[1]
        if number is not None:
            self._confirm(number)

    def _failed(self, exc: Exception) -> None:
        if self._abandoned:
            return
        now = self.clock()
        self._failure = str(exc) if isinstance(exc, StorageError) else f"unexpected error: {exc!r}"
        self._nudge = False
        if self._ok:
            self._ok = False
            self._last_warning = now
            if self._backlog_since is None:
                self._backlog_since = now
            if isinstance(exc, StorageError):
                log.warning("storage backlog started: %s; readings wait in the spool %s and are "
                            "retried", exc, self.spool.path)
            else:
                log.exception("storage backlog started: unexpected error while writing", exc_info=exc)
        elif now - self._last_warning >= STILL_FAILING_LOG_EVERY:
            self._last_warning = now
            log.warning("storage still failing after %.0f s: %d readings waiting (%s)",
                        now - (self._backlog_since or now), self.status.backlog, exc)
        else:
            log.debug("storage retry failed: %s", exc)
        self._next_attempt = now + self._retry_delay
        self._retry_delay = min(self._retry_delay * 2, self.retry_max)

    def _succeeded(self) -> None:
        self._nudge, self._confirmed_at = False, self.clock()
        if not self._ok:
            log.info("storage is reachable again: delivering %d waiting readings", self.status.backlog)
            self._ok = True
            self._retry_delay = self.retry_first
            self._next_attempt = 0.0

    def _check_cleared(self) -> None:
        if self._backlog_since is not None and self._ok and not len(self.spool) and not self._carry:
            log.info("storage backlog cleared after %.0f s: everything waiting is in the database",
                     self.clock() - self._backlog_since)
            self._backlog_since = None

    def _after_cycle(self) -> None:
        self._check_cleared()
        with self._progress:
            self._progress.notify_all()


def _written_through(batch: Sequence[tuple[int, Item]], end: int) -> int:
    """The last hand-over number whose items are all among the first ``end`` of ``batch``.

    The readings of one ``add_readings`` call share a number and may take more than one write:
    it counts as stored only once its last reading is.
    """
    if end == 0:
        return 0
    number = batch[end - 1][0]
    return number - 1 if end < len(batch) and batch[end][0] == number else number
