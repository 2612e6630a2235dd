"""The hand-over between the write-behind's callers and its writer thread.

One bounded queue of items, numbered from 1 as they are handed over, and the counts both
sides keep under one lock: what was handed over, what is in the database, what waits and
what was dropped. ``WriteBehind`` (writer.py) puts and waits; ``WriterThread``
(writer_thread.py) takes and confirms.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping
from typing import Any

from beerpi.base.errors import Closed, StorageError
from beerpi.repository.spool import Item, SettingsChange

# The writer's messages keep the one logger name they had before it was split in modules.
log = logging.getLogger("beerpi.repository.writer")

QUEUE_ITEMS = 10_000  # add_readings/add_event calls held in memory at most

FLUSH = object()  # ends a batch early and asks for a delivery attempt now
STOP = object()


class Handover:
    """The queue and the counts shared by the callers' side and the writer thread."""

    def __init__(self, queue_items: int = QUEUE_ITEMS) -> None:
        self.queue: queue.Queue[Any] = queue.Queue(queue_items)
        self.lock = threading.Lock()
        self.progress = threading.Condition(self.lock)
        self.accepted = 0  # items handed over, numbered from 1
        self.done = 0  # every item up to this number is in the database (or was dropped)
        self.queued_readings = 0
        self.waiting_settings: list[tuple[int, Mapping[str, Any]]] = []
        self.taken_readings = 0  # out of the queue, neither confirmed nor spooled yet
        self.lost = 0  # readings refused by a full queue, not yet reported by an event
        self.dropped = 0
        self.nudge = False
        self.closed = False
        self.abandoned = False  # close() gave up waiting for the writer and took what it held

    def put(self, item: object, readings: int, spool_path: str) -> None:
        """Queue ``item`` without waiting; StorageError if the queue is full, Closed after close."""
        with self.lock:
            if self.closed:
                raise Closed("storage is closed")
            number = self.accepted + 1
            try:
                self.queue.put_nowait((number, item))
            except queue.Full:
                if not self.lost:
                    log.error("STORAGE QUEUE FULL: the writer is stuck; dropping new readings until "
                              "it catches up (check the disk holding the spool %s)", spool_path)
                self.lost += readings
                self.dropped += readings
                raise StorageError("the storage queue is full") from None
            self.accepted = number
            self.queued_readings += readings
            if isinstance(item, SettingsChange):
                self.waiting_settings.append((number, item.values))

    def confirm(self, number: int) -> None:
        """Everything handed over up to ``number`` is in the database: wake who waits for it."""
        with self.progress:
            self.done = max(self.done, number)
            self.waiting_settings = [(n, v) for n, v in self.waiting_settings if n > self.done]
            self.progress.notify_all()

    def notify(self) -> None:
        with self.progress:
            self.progress.notify_all()

    def drain(self) -> list[tuple[int, Item]]:
        """Take every item still queued, the readings of one call one by one."""
        items: list[tuple[int, Item]] = []
        while True:
            try:
                number, item = self.queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, list):
                items.extend((number, reading) for reading in item)
            elif item is not FLUSH and item is not STOP:
                items.append((number, item))
        return items
