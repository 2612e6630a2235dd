"""The write-behind's writer thread: collect a batch, write or spool it, deliver the spool.

``WriterThread.run`` is the ``beerpi-writer`` loop that ``WriteBehind`` (writer.py) starts.
It owns the database connection, the batch in hand, the order of what was spooled, and
the failure bookkeeping: backoff, reopening a database that could not be opened at start,
and the backlog log lines. What it shares with the callers' side is the ``Handover``.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from beerpi.base.errors import Closed, StorageCorrupt, StorageError
from beerpi.hardware.probe import Reading
from beerpi.repository.base import Event, Repository
from beerpi.repository.batching import DELIVERY_CHUNK, EVENT_DELAY
from beerpi.repository.batching import groups as _groups
from beerpi.repository.spool import Item, SettingsChange, Spool
from beerpi.repository.unavailable import Unavailable
from beerpi.repository.writer_handover import FLUSH, STOP, Handover

# The writer's messages keep the one logger name they had before it was split in modules.
log = logging.getLogger("beerpi.repository.writer")

DELIVERY_BUDGET = 1.0  # seconds of spool delivery between two looks at the queue
CARRY_READINGS = 10_000  # readings held in memory at most while the spool refuses them
STILL_FAILING_LOG_EVERY = 60.0


class WriterThread:
    """The loop of the one thread that writes to the database, and its state."""

    def __init__(self, handover: Handover, backend: Repository, spool: Spool, spool_first: bool,
                 batch_delay: float, batch_readings: int, retry: tuple[float, float],
                 clock: Callable[[], float], reopen: Callable[[], Repository] | None) -> None:
        self.handover = handover
        self.backend = backend
        self.reopen = reopen
        self.open_error = backend.reason if isinstance(backend, Unavailable) else None
        self.failure: str | None = None  # why the last write failed
        self.spool = spool
        self.spool_first = spool_first
        self.batch_delay = batch_delay
        self.batch_readings = batch_readings
        self.retry_first, self.retry_max = retry
        self.clock = clock
        self.spooled: deque[tuple[int, int]] = deque()  # (spool seq, item number) per spooled batch
        self.carry: list[tuple[int, Item]] = []  # a batch the spool refused, retried first
        self.busy_since: float | None = None  # when the writer started its current writes
        self.confirmed_at = 0.0  # when the database last confirmed a write
        self.ok = True
        self.backlog_since: float | None = None
        self.last_warning = 0.0
        self.retry_delay = self.retry_first
        self.next_attempt = 0.0
        self.in_hand: list[tuple[int, Item]] = []  # the batch being written, not yet spooled
        if self.open_error is not None:
            self.ok = False
            self.failure = self.open_error
            self.backlog_since = clock()
        if len(spool):
            log.warning("storage backlog: %d readings (%d items) left in the spool %s are delivered "
                        "first", spool.readings, len(spool), spool.path)
            self.backlog_since = clock()

    def waiting_readings(self) -> int:
        """Every reading handed over and not yet in the database."""
        return self.handover.queued_readings + self.handover.taken_readings + self.spool.readings

    def run(self) -> None:
        handover = self.handover
        stopping = False
        while not stopping and not handover.abandoned:
            batch, stopping = self._collect()
            self.busy_since = self.clock()
            try:
                if self.reopen is not None and self._due() and not stopping:
                    self._try_reopen()
                if batch:
                    self.in_hand = batch
                    self._accept(batch)
                    self.in_hand = []
                    with handover.lock:
                        handover.taken_readings = sum(isinstance(item, Reading) for _, item in self.carry)
                if len(self.spool) and (self.ok if stopping else self._due()):
                    self._deliver_spool()
            except Exception:  # a bug, not an outage: keep the thread alive
                if handover.abandoned:
                    return
                log.exception("storage writer: unexpected error")
            self.busy_since = None
            self._after_cycle()
        if not handover.abandoned and self.carry:  # the spool refused them: one last try
            carry, self.carry = self.carry, []
            self.keep([item for _, item in carry])

    def keep(self, items: Sequence[Item]) -> None:
        """Append ``items`` to the spool; what it refuses is logged and counted as dropped."""
        if not items:
            return
        try:
            self.spool.append(items)
        except (StorageError, Closed) as exc:
            lost = sum(isinstance(item, Reading) for item in items)
            settings = sum(isinstance(item, SettingsChange) for item in items)
            self.handover.dropped += lost
            log.error("READINGS LOST: the spool %s refused the last %d readings and %d other items "
                      "held in memory (%s); check the disk", self.spool.path, lost, len(items) - lost, exc)
            if settings:
                log.error("%d settings changes are among them: check the settings after the restart",
                          settings)

    def _due(self) -> bool:
        return self.handover.nudge or self.clock() >= self.next_attempt

    def _collect(self) -> tuple[list[tuple[int, Item]], bool]:
        """The next batch: what queued within ``batch_delay`` of its first item. Returns
        (batch, stop). With a backlog it does not wait past the next delivery attempt."""
        handover = self.handover
        batch, self.carry = self.carry, []
        if batch or len(self.spool):
            wait: float | None = 0.0 if self._due() else self.next_attempt - self.clock()
        else:
            wait = None  # nothing to do until something arrives
        deadline: float | None = None
        readings = 0
        while readings < self.batch_readings:
            try:
                if wait is None:
                    number, item = handover.queue.get()
                else:
                    number, item = handover.queue.get(timeout=max(0.0, wait))
            except queue.Empty:
                break
            if item is STOP:
                return batch, True
            if item is FLUSH:
                break
            if isinstance(item, list):
                with handover.lock:
                    handover.queued_readings -= len(item)
                    handover.taken_readings += len(item)
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
        handover = self.handover
        if handover.lost:
            with handover.lock:
                lost, handover.lost = handover.lost, 0
            batch.append((batch[-1][0], Event(time.time(), "readings_dropped", {
                "count": lost, "reason": "the storage queue was full"})))
        if not self.spool_first and not len(self.spool) and not isinstance(self.backend, Unavailable):
            position = 0
            try:
                for end, kind, payload in _groups([item for _, item in batch]):
                    self._write(kind, payload)
                    position = end
                    handover.confirm(_written_through(batch, end))
                return
            except Exception as exc:
                self._failed(exc)
                batch = batch[position:]
        try:
            seq = self.spool.append([item for _, item in batch])
        except (StorageError, Closed) as exc:
            if handover.abandoned:
                return
            self.carry = self._bounded(batch)
            log.error("cannot write to the spool, keeping %d items in memory: %s", len(self.carry), exc)
            return
        self.spooled.append((seq, batch[-1][0]))

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
        with self.handover.lock:
            self.handover.lost += excess
            self.handover.dropped += excess
            self.handover.taken_readings -= excess
        log.error("READINGS LOST: the spool %s refuses writes and more than %d readings wait in "
                  "memory: dropped the %d oldest; check the disk", self.spool.path, CARRY_READINGS, excess)
        return kept

    def _try_reopen(self) -> None:
        """Open the database that could not be opened at start; back off if it still fails."""
        assert self.reopen is not None
        try:
            backend = self.reopen()
        except StorageError as exc:
            self.open_error = str(exc)
            if isinstance(exc, StorageCorrupt):
                self.reopen = None  # never try a corrupt file again: it is not to be touched
                log.error("STORAGE FAILED: %s", exc)
            self._failed(exc)
            return
        log.warning("the database could be opened at last: delivering %d waiting readings",
                    self.spool.readings)
        self.backend, self.reopen, self.open_error = backend, None, None
        self._bind_spool()
        self.next_attempt = 0.0

    def _bind_spool(self) -> None:
        """Record in the spool the identity of the database opened at last, if it has none."""
        if self.spool.identity is not None:
            return
        try:
            self.spool.bind(self.backend.identity())
        except (StorageError, Closed) as exc:
            log.warning("cannot bind the spool %s to the database's identity: %s", self.spool.path, exc)

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
            if self.spool.mirror_is_trusted():
                self.spool.update_mirror(payload.values)
            else:  # the mirror is not this database's yet: all of it, read from the database
                settings = self.backend.load_settings()
                for values in self.spool.waiting_settings():
                    settings.update(values)
                self.spool.replace_mirror(settings)
        self._succeeded()

    def _confirm_spooled(self, seq: int) -> None:
        number = None
        while self.spooled and self.spooled[0][0] <= seq:
            number = self.spooled.popleft()[1]
        if number is not None:
            self.handover.confirm(number)

    def _failed(self, exc: Exception) -> None:
        if self.handover.abandoned:
            return
        now = self.clock()
        self.failure = str(exc) if isinstance(exc, StorageError) else f"unexpected error: {exc!r}"
        self.handover.nudge = False
        if self.ok:
            self.ok = False
            self.last_warning = now
            if self.backlog_since is None:
                self.backlog_since = now
            if isinstance(exc, StorageError):
                log.warning("storage backlog started: %s; readings wait in the spool %s and are "
                            "retried", exc, self.spool.path)
            else:
                log.exception("storage backlog started: unexpected error while writing", exc_info=exc)
        elif now - self.last_warning >= STILL_FAILING_LOG_EVERY:
            self.last_warning = now
            # While not ok the status counts every reading not yet stored as backlog.
            log.warning("storage still failing after %.0f s: %d readings waiting (%s)",
                        now - (self.backlog_since or now), self.waiting_readings(), exc)
        else:
            log.debug("storage retry failed: %s", exc)
        self.next_attempt = now + self.retry_delay
        self.retry_delay = min(self.retry_delay * 2, self.retry_max)

    def _succeeded(self) -> None:
        self.handover.nudge, self.confirmed_at = False, self.clock()
        if not self.ok:
            log.info("storage is reachable again: delivering %d waiting readings", self.waiting_readings())
            self.ok = True
            self.retry_delay = self.retry_first
            self.next_attempt = 0.0

    def _check_cleared(self) -> None:
        if self.backlog_since is not None and self.ok and not len(self.spool) and not self.carry:
            log.info("storage backlog cleared after %.0f s: everything waiting is in the database",
                     self.clock() - self.backlog_since)
            self.backlog_since = None

    def _after_cycle(self) -> None:
        self._check_cleared()
        self.handover.notify()


def _written_through(batch: Sequence[tuple[int, Item]], end: int) -> int:
    """The last hand-over number whose items are all among the first ``end`` of ``batch``.

    The readings of one ``add_readings`` call share a number and may take more than one write:
    it counts as stored only once its last reading is.
    """
    if end == 0:
        return 0
    number = batch[end - 1][0]
    return number - 1 if end < len(batch) and batch[end][0] == number else number
