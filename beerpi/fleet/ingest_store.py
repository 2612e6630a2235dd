"""The hub's storing step: a batch of links into the database, and how far each series is complete.

Each batch's readings go to storage in one ``add_readings`` call, under node-qualified probe ids
(``<node>/<probe>``, so two Pis with probe ``28-0001`` never mix); its events keep their id, with
``node`` added to their detail and a ``chamber`` qualified the same way; a batch change among them
is applied to the hub's batches too (``ingest_batches.py``). Only then does each link
count for its series' ``SeriesChain``; the marks that moved are raised in storage in one
``raise_marks`` call (under ``ack/<node>/<series>``) and only marks that are stored are
acknowledged, so a hub restarted from its database never acknowledges less than it did.

A batch that cannot be stored is forgotten: nothing is acknowledged, and each Pi sends it again
from its mark. Several hubs may store into one database: a link that does not join on here may
join on a mark another hub raised, so that node's marks are read back (once per batch), and the
acks the other hubs publish count as marks too.

Two hubs storing readings of one probe at the same moment need nothing more here: each backend
counts a reading in its roll-ups once, whichever hub stored it (SQLite by a trigger in the
insert's transaction; MongoDB by ``$inc`` of the readings an insert newly stored, its repair of
a failed batch fenced off from other hubs' batches: ``repository/mongo_journal.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from beerpi.base.errors import StorageError
from beerpi.fleet.chain import SeriesChain
from beerpi.fleet.ingest_batches import apply_batch_events
from beerpi.fleet.ingest_inbox import Message
from beerpi.fleet.wire import EVENTS, BadMessage, Link, parse_ack, parse_link
from beerpi.repository import Event, Repository

log = logging.getLogger(__name__)

MARKS = "ack/"  # the prefix of the hub's marks in storage
LOG_EVERY = 60.0  # s: at most one warning this often per kind of trouble


def mark_name(node: str, series: str) -> str:
    return f"{MARKS}{node}/{series}"


def parse_mark_name(name: str) -> tuple[str, str] | None:
    """``(node, series)`` of a mark's name; None for another name."""
    if not name.startswith(MARKS):
        return None
    node, _, series = name[len(MARKS):].partition("/")
    return (node, series) if node and series else None


def qualified(node: str, name: str) -> str:
    """A probe id or chamber of ``node`` as the hub stores it."""
    return f"{node}/{name}"


def event_of(node: str, event: Event) -> Event:
    """``event`` as the hub stores it: same id, ``node`` in its detail, its chamber qualified."""
    detail: dict[str, Any] = {**event.detail, "node": node}
    if isinstance(detail.get("chamber"), str):
        detail["chamber"] = qualified(node, detail["chamber"])
    return replace(event, detail=detail)


@dataclass
class Counts:
    """What the storing step has done since the hub started."""

    links: int = 0
    readings: int = 0  # sent to storage, repeats included (storage keeps each once)
    events: int = 0
    bad: int = 0
    failed_batches: int = 0
    batch_changes: int = 0  # the Pis' batch changes applied to the hub's batches


class LinkStore:
    """Stores batches of links into ``store`` and keeps every series' chain (one thread only)."""

    def __init__(self, store: Repository, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self.counts = Counts()
        self.chains: dict[tuple[str, str], SeriesChain] = {}
        self.saved: dict[str, dict[str, int]] = {}  # node → series → mark, stored in the database
        self._unsaved: dict[tuple[str, str], int] = {}  # moved here, not stored yet
        self._logged: dict[str, float] = {}
        self.error: str | None = None  # what the database said at the last failed write, until one succeeds

    def load(self, node: str | None = None) -> None:
        """Take the marks kept in storage, every node's or ``node``'s (StorageError if it cannot be read)."""
        for name, value in self.store.load_marks(MARKS if node is None else mark_name(node, "")).items():
            key = parse_mark_name(name)
            if key is not None:
                self._chain(*key).known(value)
                self._saved(*key, value)

    def nodes(self) -> list[str]:
        """Every node with an acknowledged series."""
        return sorted(self.saved)

    def marks(self, node: str) -> dict[str, int]:
        """What ``node``'s ack says: the stored mark of each of its series."""
        return dict(self.saved.get(node, {}))

    def store_batch(self, batch: Sequence[Message]) -> set[str]:
        """Store a batch; the nodes whose acknowledged marks moved."""
        links: list[tuple[str, Link]] = []
        peer_acks: list[tuple[str, bytes]] = []
        for message in batch:
            if message.what == "ack":
                peer_acks.append((message.node, message.payload))
                continue
            try:
                links.append((message.node, parse_link(message.payload)))
            except BadMessage as exc:
                self.counts.bad += 1
                self._warn("bad", "dropped a bad %s message from node %s (%s); %d bad so far",
                           message.what, message.node, exc, self.counts.bad)
        moved: set[str] = set()
        if links and self._stored(links):
            moved |= self._count(links)
        for node, payload in peer_acks:
            try:
                moved |= self._known(node, parse_ack(payload).marks)
            except BadMessage:
                self.counts.bad += 1
        return moved | self._save()

    def _stored(self, links: Sequence[tuple[str, Link]]) -> bool:
        readings = [replace(reading, probe=qualified(node, reading.probe))
                    for node, link in links if link.series != EVENTS for reading in link.items]
        events = [event_of(node, event) for node, link in links if link.series == EVENTS for event in link.items]
        try:
            if readings:
                self.store.add_readings(readings)
            for event in events:
                self.store.add_event(event)
            for node in sorted({node for node, link in links if link.series == EVENTS}):
                self.counts.batch_changes += len(apply_batch_events(self.store, node, [
                    event for sender, link in links if sender == node and link.series == EVENTS
                    for event in link.items]))
        except StorageError as exc:
            self.error = str(exc)
            self.counts.failed_batches += 1
            self._warn("storage", "could not store %d links (%s): nothing of them is acknowledged, each Pi "
                       "sends them again; %d batches failed so far", len(links), exc, self.counts.failed_batches)
            return False
        self.error = None
        self.counts.links += len(links)
        self.counts.readings += len(readings)
        self.counts.events += len(events)
        return True

    def _count(self, links: Iterable[tuple[str, Link]]) -> set[str]:
        """Count stored links in their chains; a node with a link that does not join on has its
        marks read back (another hub may have moved them)."""
        behind: set[str] = set()
        for node, link in links:
            chain = self._chain(node, link.series)
            if not link.start and link.after is not None and (chain.acked is None or link.after > chain.acked):
                behind.add(node)
            if chain.stored(link.after, link.start, link.last):
                self._unsaved[node, link.series] = chain.acked  # type: ignore[assignment]
        moved: set[str] = set()
        for node in behind:
            prefix = mark_name(node, "")
            try:
                marks = self.store.load_marks(prefix)
            except StorageError as exc:
                self._warn("marks", "could not read node %s's marks back (%s)", node, exc)
                continue
            moved |= self._known(node, {name[len(prefix):]: value for name, value in marks.items()})
        return moved

    def _known(self, node: str, marks: Mapping[str, int]) -> set[str]:
        """Marks stored by another hub: a series they move is acknowledged at once, and at its
        new mark once stored here too (when links waiting here joined on it)."""
        moved = set()
        for series, value in marks.items():
            chain = self._chain(node, series)
            if chain.known(value):
                if self._saved(node, series, value):
                    moved.add(node)
                if chain.acked != value:
                    self._unsaved[node, series] = chain.acked  # type: ignore[assignment]
        return moved

    def _save(self) -> set[str]:
        """Raise the marks that moved, in one call; the nodes whose acknowledged marks moved."""
        if not self._unsaved:
            return set()
        try:
            self.store.raise_marks({mark_name(node, series): value for (node, series), value in self._unsaved.items()})
        except StorageError as exc:
            self.error = str(exc)
            self._warn("marks", "could not store the marks (%s): acknowledged once they are", exc)
            return set()
        moved = {node for (node, series), value in self._unsaved.items() if self._saved(node, series, value)}
        self._unsaved.clear()
        return moved

    def _saved(self, node: str, series: str, value: int) -> bool:
        marks = self.saved.setdefault(node, {})
        if value <= marks.get(series, value - 1):
            return False
        marks[series] = value
        return True

    def _chain(self, node: str, series: str) -> SeriesChain:
        chain = self.chains.get((node, series))
        if chain is None:
            chain = self.chains[node, series] = SeriesChain()
        return chain

    def _warn(self, kind: str, message: str, *args: object) -> None:
        now = self.clock()
        if now - self._logged.get(kind, -LOG_EVERY) >= LOG_EVERY:
            self._logged[kind] = now
            log.warning(message, *args)
