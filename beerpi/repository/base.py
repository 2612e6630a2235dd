"""The storage contract every backend fulfils.

The contract is specified by ``tests/repository/test_contract.py``, which runs unchanged
against every backend. Points that hold for all of them:

* Timestamps are float Unix seconds in the API and are kept to the **millisecond**: a
  reading stored at ``ts`` reads back at ``round(ts, 3)`` (MongoDB dates have millisecond
  precision, so SQLite stores integer milliseconds too and both backends agree).
* Writes are idempotent: a reading whose ``(probe, ts)`` is already stored, or an event
  whose ``id`` is, is skipped, so replaying a batch after an outage never duplicates.
* Every failure of the database surfaces as ``StorageError`` saying what to check; after
  ``close()`` every call raises ``Closed``.
* Every database keeps an identity inside itself (``identity()``): a random id written
  once, so what is kept beside a database (the spool, its settings mirror) is bound to
  that database and not merely to its name.
* Methods block: never call them on the IOLoop.
"""

from __future__ import annotations

import itertools
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from beerpi.batches.model import Batch, BatchNote
from beerpi.hardware.probe import Reading
from beerpi.repository.profiles import SavedProfile

_event_sequence = itertools.count()


def new_event_id() -> str:
    """A unique id that sorts in creation order within a process (32 hex digits, like a uuid).

    Events at the same time stamp are returned ordered by id, so a fault and the heater
    switch it caused come back in the order they happened.
    """
    return f"{time.time_ns():016x}{next(_event_sequence) & 0xFFFF:04x}{secrets.token_hex(6)}"


class Identity(NamedTuple):
    """A database's identity: ``value`` is written into it once, at random; ``created`` says
    this process wrote it (the database is new, or older than identities)."""

    value: str
    created: bool = False


def new_identity() -> str:
    """A fresh database identity (never all digits, so SQLite keeps it as text)."""
    return f"beerpi-{secrets.token_hex(16)}"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to control: a heater switch, a fault, a settings change.

    ``detail`` says who or what caused it (JSON-compatible values). ``id`` makes storing
    the same event twice harmless; leave it to the default unless replaying.
    """

    ts: float
    kind: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=new_event_id)


@dataclass(frozen=True, slots=True)
class Bucket:
    """The readings of one probe in ``[ts, ts + width)``: their min, mean, max and count."""

    ts: float
    min: float
    mean: float
    max: float
    count: int


@dataclass(frozen=True, slots=True)
class MinuteRollup:
    """The 1-minute roll-up of one probe: its readings in ``[ts, ts + 60)``, as min, max, sum
    and count. Below ``raw_kept_from()`` these are all that is left of the raw readings."""

    probe: str
    ts: float
    min: float
    max: float
    sum: float
    count: int


class Repository(ABC):
    """Readings, events and settings. Methods may block: never call them on the IOLoop."""

    @abstractmethod
    def ping(self) -> None:
        """Raise StorageError, saying what to check, if the database cannot be used now."""

    @abstractmethod
    def identity(self) -> Identity:
        """The identity kept in the database's metadata, written at random the first time;
        the same for every later call and every later opening of the same database."""

    @abstractmethod
    def add_readings(self, readings: Sequence[Reading]) -> None:
        """Store readings, skipping any whose (probe, ts) is already stored.

        SQLite stores all of them or, on error, none. MongoDB has no transactions on a
        single server: a failed batch may be partly stored, and retrying it completes it
        without duplicates.
        """

    @abstractmethod
    def latest(self) -> list[Reading]:
        """The most recent reading of each probe, ordered by probe id."""

    @abstractmethod
    def readings_between(self, since: float, until: float, probe: str | None = None) -> list[Reading]:
        """Readings with ``since <= ts < until`` (of one probe, or all), ordered by (ts, probe)."""

    @abstractmethod
    def iter_readings(self, since: float | None = None, until: float | None = None,
                      probe: str | None = None) -> Iterator[Reading]:
        """Like ``readings_between`` (open ends allowed), fetched a page at a time."""

    @abstractmethod
    def history(self, probe: str, since: float, until: float, points: int) -> list[Bucket]:
        """At most ``points`` buckets covering ``since <= ts < until``, empty ones left out.

        The bucket width is the first "nice" duration (see ``rollup.NICE_WIDTHS_MS``) that
        needs no more than ``points`` buckets; buckets are aligned to multiples of the width
        since the Unix epoch (so days are UTC days). Computed inside the database. A range
        that starts before ``raw_kept_from()`` gets at least one-minute buckets, and its ends
        below that time widen to whole minutes (``rollup.history_range``).
        """

    @abstractmethod
    def prune_raw(self, before: float, limit: int) -> int:
        """Delete at most ``limit`` raw readings older than ``before``, keeping every roll-up;
        return how many (fewer than ``limit``: nothing older is left).

        ``before`` is rounded down to a whole minute, the finest roll-up, and becomes
        ``raw_kept_from()`` (it never moves back). Below it, ``history`` reads roll-ups only,
        in buckets of whole minutes, so it stays exact over every reading ever stored; and a
        reading older than it is no longer stored (its minute's roll-ups are final, and a
        replay must not count it twice).
        """

    @abstractmethod
    def raw_kept_from(self) -> float | None:
        """The time before which raw readings were deleted by ``prune_raw``; None if never."""

    @abstractmethod
    def iter_minute_rollups(self, until: float) -> Iterator[MinuteRollup]:
        """The 1-minute roll-ups of every probe for minutes starting before ``until``, ordered
        by (ts, probe), fetched a day of them at a time (the days the 1-day roll-up lists)."""

    @abstractmethod
    def add_minute_rollups(self, rows: Sequence[MinuteRollup]) -> None:
        """Store 1-minute roll-ups read from another store, for minutes wholly before
        ``raw_kept_from()``; a minute already stored is left as it is, so adding the same rows
        again changes nothing. Every coarser roll-up over the minutes touched is recomputed
        from the finer levels, so history over them is exact.

        Raises ValueError, storing nothing, for a minute that is not whole, has no readings
        or does not end by ``raw_kept_from()`` (none at all without a boundary): from there
        on the roll-ups are kept from the raw readings. Call ``prune_raw`` first.
        """

    @abstractmethod
    def add_event(self, event: Event) -> None:
        """Store one control event, unless an event with its id is already stored."""

    @abstractmethod
    def events_between(self, since: float, until: float) -> list[Event]:
        """Events with ``since <= ts < until``, ordered by (ts, id)."""

    @abstractmethod
    def load_settings(self) -> dict[str, Any]:
        """The stored settings, or an empty dict on a new installation."""

    @abstractmethod
    def save_settings(self, settings: Mapping[str, Any]) -> None:
        """Store (replace) the given settings keys."""

    @abstractmethod
    def list_profiles(self) -> list[SavedProfile]:
        """Every saved profile, ordered by name without regard to case."""

    @abstractmethod
    def save_profile(self, profile: SavedProfile) -> None:
        """Store a profile, replacing the one whose name differs at most in case (its name is
        then the new one). Raises ConfigError, storing nothing, for a name ``check_name`` refuses."""

    @abstractmethod
    def delete_profile(self, name: str) -> bool:
        """Delete the profile of that name (in any case); False if there was none."""

    @abstractmethod
    def seed_profiles(self, profiles: Sequence[SavedProfile]) -> bool:
        """Once in a database's life, store ``profiles`` (keeping a saved one of the same name) and
        return True; every later call stores nothing and returns False, so a starter the brewer
        deleted stays deleted."""

    @abstractmethod
    def raise_marks(self, marks: Mapping[str, int]) -> None:
        """Raise each named mark (an integer, e.g. how far a hub has stored a series) to the
        given value; a mark already higher stays. Kept across restarts; several processes may
        raise the same mark at once and the highest wins."""

    @abstractmethod
    def load_marks(self, prefix: str = "") -> dict[str, int]:
        """Every mark whose name starts with ``prefix``."""

    @abstractmethod
    def save_batch(self, batch: Batch) -> None:
        """Store a batch, replacing the one with its id. Raises ConfigError for a field
        ``batches.model.check_batch`` refuses, and OpenBatchConflict if it would make a second
        open batch in its chamber (checked atomically by the database); either stores nothing."""

    @abstractmethod
    def get_batch(self, batch_id: str) -> Batch | None:
        """The batch with that id, or None."""

    @abstractmethod
    def list_batches(self, name: str | None = None, open_only: bool = False) -> list[Batch]:
        """The batches newest first (by ``started``, then id): those whose name holds ``name``
        without regard to case, if given; only the open ones (one per chamber at most) if asked."""

    @abstractmethod
    def add_batch_note(self, note: BatchNote) -> None:
        """Store a note, unless a note with its id is stored already (ConfigError, storing nothing,
        for one ``batches.model.check_note`` refuses). The batch is not looked up: the caller's."""

    @abstractmethod
    def notes_of(self, batch_id: str) -> list[BatchNote]:
        """The notes of a batch, ordered by (ts, id)."""

    @abstractmethod
    def delete_batch(self, batch_id: str) -> bool:
        """Delete a batch and its notes (the chamber's readings and events stay); False if there was
        no such batch (its notes, if any, are deleted all the same). Whether an open batch may be
        deleted is the caller's to decide."""

    @abstractmethod
    def delete_batch_note(self, note_id: str) -> bool:
        """Delete one note; False if there was none with that id."""

    @abstractmethod
    def close(self) -> None:
        """Flush and release the database. Further calls raise Closed."""

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def check_limit(limit: int) -> None:
    """``prune_raw``'s limit: 0 or more (SQLite would read a negative one as no limit at all)."""
    if limit < 0:
        raise ValueError(f"prune_raw's limit must be 0 or more, not {limit}")
