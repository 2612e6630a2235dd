"""How the writer batches: how long readings wait in memory, and how a batch is split into writes.

A transaction costs the SD card whole database pages however few readings it holds (about
1 KiB, for each of the readings table, its index and six roll-up levels), so readings are
written in batches of ``BATCH_SAMPLES`` samples: at the default 5 s interval, one transaction
every 5 minutes instead of every sample. Events and settings changes end a batch within
``EVENT_DELAY``, so a heater switch or a fault is on its way to the database at once, and a
history read asks for what waits first (``WriteBehind.history``), so a chart is never stale.
See docs/reliability.md for what a power cut can lose.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from beerpi.hardware.probe import Reading
from beerpi.repository.base import Event
from beerpi.repository.spool import Item, SettingsChange

BATCH_SAMPLES = 60  # samples per transaction: 5 minutes at the default 5 s interval
MAX_BATCH_DELAY = 300.0  # seconds a reading may wait in memory, whatever the interval
BATCH_DELAY = 0.5  # seconds, without an interval to scale by (tools, tests)
EVENT_DELAY = 0.5  # seconds an event or a settings change may wait for its batch
BATCH_READINGS = 500  # readings per batch at most
DELIVERY_CHUNK = 1000  # readings per transaction when delivering from the spool


def batch_delay_for(interval: float) -> float:
    """How long the writer collects readings when samples come every ``interval`` seconds.

    Half an interval short of a whole number of samples (``BATCH_SAMPLES``, fewer when they
    would take longer than MAX_BATCH_DELAY), so a batch holds the same samples whatever the
    interval: also under ``--speed``, where the interval is compressed, so the benchmark's
    compressed day commits as often per sample as a real one.
    """
    samples = max(1, min(BATCH_SAMPLES, int(MAX_BATCH_DELAY // interval)))
    return min(MAX_BATCH_DELAY, (samples - 0.5) * interval)


@dataclass(frozen=True, slots=True)
class StorageStatus:
    backlog: int  # readings accepted but not yet confirmed by the database
    ok: bool  # False from a failed write until a write succeeds again, or while error stands
    dropped: int  # readings given up since start because the spool or the queue was full
    error: str | None = None  # what is wrong, in plain words, while something is
    durable: bool = True  # False while readings waiting for the database are in memory only (no spool file)

    def as_dict(self) -> dict[str, Any]:
        return {"backlog": self.backlog, "ok": self.ok, "dropped": self.dropped, "error": self.error,
                "durable": self.durable}


def groups(items: Sequence[Item]) -> Iterator[tuple[int, str, Any]]:
    """Split items into writes: every reading in runs of at most DELIVERY_CHUNK, then each event,
    then the settings changes merged into one (the later value of a key wins). Yields (end,
    kind, payload), ``end`` being how many of the items, from the first, are written once that
    write is: 0 while an earlier item still waits.

    Readings are not split at an event or a settings change: at a compressed speed a profile
    saves its position every sample, and a write per sample costs a MongoDB server a roll-up
    aggregation per probe and level, more than the samples' own pace (the soak's finding).
    Readings and events are stored idempotently, and settings keep their order among themselves.
    """
    written = [False] * len(items)
    prefix = 0

    def done(indices: Sequence[int]) -> int:
        nonlocal prefix
        for index in indices:
            written[index] = True
        while prefix < len(items) and written[prefix]:
            prefix += 1
        return prefix

    readings = [index for index, item in enumerate(items) if isinstance(item, Reading)]
    for first in range(0, len(readings), DELIVERY_CHUNK):
        run = readings[first:first + DELIVERY_CHUNK]
        yield done(run), "readings", [items[index] for index in run]
    changes: list[int] = []
    for index, item in enumerate(items):
        if isinstance(item, Event):
            yield done([index]), "event", item
        elif not isinstance(item, Reading):
            changes.append(index)
    if changes:
        merged: dict[str, Any] = {}
        for index in changes:
            merged.update(items[index].values)  # type: ignore[union-attr]
        yield done(changes), "settings", SettingsChange(merged)
