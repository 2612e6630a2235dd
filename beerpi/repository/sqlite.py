"""The embedded SQLite backend: one file, WAL mode, zero set-up.

One writer connection, serialised by a lock; readers take their own connections from a
small pool, and in WAL mode they never block the writer nor wait for it. Roll-ups are
kept by a trigger in the same transaction as the readings, so they are exact; minute
roll-ups copied in from another store are stored with their coarser buckets recomputed,
in one transaction too.

``synchronous=NORMAL`` (the default) is safe against corruption in WAL mode, but a power
cut can lose the last transactions before a checkpoint (typically the last second or so
of readings); ``synchronous=FULL`` (``sqlite:///path?synchronous=full``) loses nothing
that was acknowledged, at the cost of an fsync per write, which wears an SD card faster.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from beerpi.base.errors import Closed, StorageCorrupt, StorageError
from beerpi.batches.model import Batch, BatchNote
from beerpi.hardware.probe import Reading
from beerpi.repository import minutes, rollup, sqlite_batches, sqlite_queries
from beerpi.repository.base import Bucket, Event, Identity, MinuteRollup, Repository, check_limit
from beerpi.repository.files import check_intact, create_private, is_corruption, unavailable
from beerpi.repository.profiles import SavedProfile, profile_key
from beerpi.repository.sqlite_schema import RECOMPUTE, SCHEMA_VERSION, create_schema, migrate
from beerpi.repository.sqlite_tx import immediate_transaction, read_transaction

log = logging.getLogger(__name__)

SYNCHRONOUS = ("normal", "full")
PAGE = 1000  # rows per page of iter_readings
BUSY_TIMEOUT = 5.0  # seconds to wait for another process's write lock
READING_COLUMNS = sqlite_queries.READING_COLUMNS
# Every transaction rewrites whole pages (readings, index, roll-ups): 1 KiB pages write a
# quarter of what SQLite's default 4 KiB do per batch, which is what wears an SD card.
PAGE_SIZE = 1024
RESCUE = ("to start a new database, move it aside (mv {path} {path}.corrupt) and restart BeerPi; "
          "then restore a backup or rescue what is left with `sqlite3 {path}.corrupt .recover`")


class SqliteRepository(Repository):
    """A Repository in one SQLite file (or ``:memory:``), shared safely between threads."""

    def __init__(self, path: str | os.PathLike[str], synchronous: str = "normal") -> None:
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
        self.path = str(path)
        self.synchronous = synchronous
        self._memory = self.path == ":memory:"
        self._lock = threading.Lock()  # the writer connection
        self._pool_lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []
        self._closed = False
        db: sqlite3.Connection | None = None
        try:
            if not self._memory:
                # Read-only first: a damaged file is named as such and never written to.
                check_intact(Path(self.path), "the database file", RESCUE.format(path=self.path))
                create_private(Path(self.path))
            db = self._connect()
            # Only a new file takes it (an existing one keeps its size): see PAGE_SIZE
            db.execute(f"PRAGMA page_size={PAGE_SIZE}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            with immediate_transaction(db):
                migrate(db)
                create_schema(db)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                self._raw_from = sqlite_queries.raw_from(db)
                self._identity = sqlite_queries.identity(db)
        except BaseException as exc:
            if db is not None:
                db.close()
            if isinstance(exc, sqlite3.Error) and is_corruption(exc):
                raise StorageCorrupt(f"the database file {self.path} is corrupt: {exc}; "
                                     f"{RESCUE.format(path=self.path)}; BeerPi will not modify it") from exc
            if isinstance(exc, (sqlite3.Error, OSError)) and not isinstance(exc, StorageError):
                raise unavailable("the database file", self.path, exc) from exc
            raise
        self._db = db

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                               timeout=BUSY_TIMEOUT)

    def _fail(self, exc: sqlite3.Error) -> StorageError:
        hint = "check free disk space and the file's permissions"
        if "locked" in str(exc) or "busy" in str(exc):
            hint = "another program holds the database: check for a second BeerPi or a copy tool"
        return StorageError(f"SQLite error on {self.path}: {exc} ({hint})")

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            if self._closed:
                raise Closed("the repository is closed")
            try:
                with immediate_transaction(self._db) as cursor:
                    yield cursor
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Cursor]:
        if self._memory:  # a private in-memory database exists on one connection only
            with self._lock:
                if self._closed:
                    raise Closed("the repository is closed")
                with self._cursor_on(self._db) as cursor:
                    yield cursor
            return
        db = self._take_reader()
        try:
            with self._cursor_on(db) as cursor:
                yield cursor
        finally:
            with self._pool_lock:
                if self._closed:
                    db.close()
                else:
                    self._readers.append(db)

    def _take_reader(self) -> sqlite3.Connection:
        with self._pool_lock:
            if self._closed:
                raise Closed("the repository is closed")
            if self._readers:
                return self._readers.pop()
        try:
            db = self._connect()
            db.execute("PRAGMA query_only=ON")
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc
        return db

    @contextmanager
    def _cursor_on(self, db: sqlite3.Connection) -> Iterator[sqlite3.Cursor]:
        cursor = db.cursor()
        try:
            yield cursor
        except sqlite3.Error as exc:
            raise self._fail(exc) from exc
        finally:
            cursor.close()

    def ping(self) -> None:
        with self._reading() as cursor:
            cursor.execute("SELECT 1").fetchone()

    def identity(self) -> Identity:
        if self._closed:
            raise Closed("the repository is closed")
        return self._identity

    def add_readings(self, readings: Sequence[Reading]) -> None:
        rows = [(r.probe, rollup.to_ms(r.ts), r.name, r.temperature,
                 None if r.heater is None else int(r.heater)) for r in readings]
        rows = rollup.kept(rows, self._raw_from, lambda row: row[1])
        with self._writing() as cursor:
            # The trigger in sqlite_schema keeps the roll-ups; it fires only for new rows.
            # ON CONFLICT, not OR IGNORE: only a stored (probe, ts) is skipped, a bad value fails.
            cursor.executemany("INSERT INTO readings (probe, ts, name, temperature, heater) "
                               "VALUES (?, ?, ?, ?, ?) ON CONFLICT (probe, ts) DO NOTHING", rows)

    def latest(self) -> list[Reading]:
        # Skip from one probe to the next through the primary key: cheap for any row count.
        query = f"""
            WITH RECURSIVE probes(probe) AS (
                SELECT min(probe) FROM readings
                UNION ALL
                SELECT (SELECT min(probe) FROM readings WHERE probe > probes.probe)
                FROM probes WHERE probes.probe IS NOT NULL)
            SELECT {READING_COLUMNS} FROM probes JOIN readings USING (probe)
            WHERE readings.ts = (SELECT max(ts) FROM readings AS r WHERE r.probe = probes.probe)
            ORDER BY probe"""
        with self._reading() as cursor:
            return [sqlite_queries.reading_of(row) for row in cursor.execute(query)]

    def readings_between(self, since: float, until: float, probe: str | None = None) -> list[Reading]:
        query, params = sqlite_queries.range_query(rollup.bound_ms(since), rollup.bound_ms(until), probe)
        with self._reading() as cursor:
            return [sqlite_queries.reading_of(row) for row in cursor.execute(query + " ORDER BY ts, probe", params)]

    def iter_readings(self, since: float | None = None, until: float | None = None,
                      probe: str | None = None) -> Iterator[Reading]:
        lo = rollup.MIN_MS if since is None else rollup.bound_ms(since)
        hi = rollup.MAX_MS + 1 if until is None else rollup.bound_ms(until)
        query, params = sqlite_queries.range_query(lo, hi, probe)
        after: tuple[int, str] | None = None
        while True:
            page_query, page_params = query, list(params)
            if after is not None:  # keyset paging: no long-lived read transaction
                page_query += " AND ts >= ? AND (ts > ? OR probe > ?)"
                page_params += [after[0], after[0], after[1]]
            with self._reading() as cursor:
                rows = cursor.execute(page_query + " ORDER BY ts, probe LIMIT ?",
                                      page_params + [PAGE]).fetchall()
            for row in rows:
                yield sqlite_queries.reading_of(row)
            if len(rows) < PAGE:
                return
            after = (rows[-1][0], rows[-1][1])

    def history(self, probe: str, since: float, until: float, points: int) -> list[Bucket]:
        with self._reading() as cursor:
            # One read transaction: the pruning boundary and the rows it leaves, seen together
            with read_transaction(cursor):
                raw_from = sqlite_queries.raw_from(cursor)
                query, params = sqlite_queries.history_query(probe, since, until, points, raw_from)
                rows = cursor.execute(query, params).fetchall() if query else []
        return [Bucket(rollup.from_ms(b), low, mean, high, n) for b, low, mean, high, n in rows]

    def prune_raw(self, before: float, limit: int) -> int:
        check_limit(limit)
        boundary = rollup.floor_to(rollup.bound_ms(before), rollup.LEVELS_MS[0])
        with self._writing() as cursor:
            boundary = max(boundary, sqlite_queries.raw_from(cursor) or rollup.MIN_MS)
            cursor.execute("INSERT INTO meta (key, value) VALUES ('raw_kept_from', ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (boundary,))
            self._raw_from = boundary
            # Oldest first, by the ts index; the roll-ups are another table and stay
            cursor.execute("DELETE FROM readings WHERE (probe, ts) IN (SELECT probe, ts FROM readings "
                           "WHERE ts < ? ORDER BY ts LIMIT ?)", (boundary, limit))
            return cursor.rowcount

    def raw_kept_from(self) -> float | None:
        with self._reading() as cursor:
            raw_from = sqlite_queries.raw_from(cursor)
        return None if raw_from is None else rollup.from_ms(raw_from)

    def iter_minute_rollups(self, until: float) -> Iterator[MinuteRollup]:
        hi = rollup.bound_ms(until)
        with self._reading() as cursor:
            days = cursor.execute("SELECT ts, probe FROM rollup_1d WHERE ts < ?", (hi,)).fetchall()
        for lo, end, probes in minutes.day_pages(days, hi):
            with self._reading() as cursor:  # one short read per day: no long-lived transaction
                rows = cursor.execute(
                    "SELECT probe, ts, t_min, t_max, t_sum, n FROM rollup_1m WHERE probe IN "
                    f"({', '.join('?' * len(probes))}) AND ts >= ? AND ts < ? ORDER BY ts, probe",
                    [*probes, lo, end]).fetchall()
            yield from (minutes.minute(*row) for row in rows)

    def add_minute_rollups(self, rows: Sequence[MinuteRollup]) -> None:
        with self._writing() as cursor:
            stored = minutes.checked(rows, sqlite_queries.raw_from(cursor))
            cursor.executemany("INSERT INTO rollup_1m (probe, ts, t_min, t_max, t_sum, n) "
                               "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (probe, ts) DO NOTHING", stored)
            if cursor.rowcount == 0:
                # Every minute was stored already: a second copy changes nothing, while recomputing
                # could change the last bits of sums the trigger added up in another order.
                return
            for probe, (first, last) in minutes.spans((row[0], row[1]) for row in stored).items():
                for coarser, statement in RECOMPUTE.items():  # finest first: each reads the one below
                    cursor.execute(statement, (probe, *minutes.covering(first, last, coarser)))

    def add_event(self, event: Event) -> None:
        with self._writing() as cursor:
            cursor.execute("INSERT INTO events (id, ts, kind, detail) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT (id) DO NOTHING",
                           (event.id, rollup.to_ms(event.ts), event.kind, json.dumps(dict(event.detail))))

    def events_between(self, since: float, until: float) -> list[Event]:
        with self._reading() as cursor:
            rows = cursor.execute("SELECT id, ts, kind, detail FROM events WHERE ts >= ? AND ts < ? "
                                  "ORDER BY ts, id", (rollup.bound_ms(since), rollup.bound_ms(until))).fetchall()
        return [Event(rollup.from_ms(ts), kind, json.loads(detail), event_id)
                for event_id, ts, kind, detail in rows]

    def load_settings(self) -> dict[str, Any]:
        with self._reading() as cursor:
            return {key: json.loads(value) for key, value in cursor.execute("SELECT key, value FROM settings")}

    def save_settings(self, settings: Mapping[str, Any]) -> None:
        rows = [(key, json.dumps(value)) for key, value in settings.items()]
        with self._writing() as cursor:
            cursor.executemany("INSERT INTO settings (key, value) VALUES (?, ?) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value", rows)

    def list_profiles(self) -> list[SavedProfile]:
        with self._reading() as cursor:
            rows = cursor.execute("SELECT name, steps, saved FROM profiles ORDER BY key").fetchall()
        return [SavedProfile(name, tuple(json.loads(steps)), rollup.from_ms(saved)) for name, steps, saved in rows]

    def save_profile(self, profile: SavedProfile) -> None:
        row = sqlite_queries.profile_row(profile)
        with self._writing() as cursor:
            cursor.execute("INSERT INTO profiles (key, name, steps, saved) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT (key) DO UPDATE SET name = excluded.name, steps = excluded.steps, "
                           "saved = excluded.saved", row)

    def delete_profile(self, name: str) -> bool:
        with self._writing() as cursor:
            cursor.execute("DELETE FROM profiles WHERE key = ?", (profile_key(name),))
            return cursor.rowcount > 0

    def seed_profiles(self, profiles: Sequence[SavedProfile]) -> bool:
        rows = [sqlite_queries.profile_row(profile) for profile in profiles]
        with self._writing() as cursor:
            if cursor.execute("SELECT 1 FROM meta WHERE key = 'profiles_seeded'").fetchone() is not None:
                return False
            cursor.executemany("INSERT INTO profiles (key, name, steps, saved) VALUES (?, ?, ?, ?) "
                               "ON CONFLICT (key) DO NOTHING", rows)
            cursor.execute("INSERT INTO meta (key, value) VALUES ('profiles_seeded', 1)")
            return True

    def raise_marks(self, marks: Mapping[str, int]) -> None:
        rows = [(key, int(value)) for key, value in marks.items()]
        with self._writing() as cursor:
            cursor.executemany("INSERT INTO marks (key, value) VALUES (?, ?) "
                               "ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)", rows)

    def load_marks(self, prefix: str = "") -> dict[str, int]:
        with self._reading() as cursor:
            rows = cursor.execute("SELECT key, value FROM marks WHERE substr(key, 1, ?) = ?",
                                  (len(prefix), prefix)).fetchall()
        return dict(rows)

    def save_batch(self, batch: Batch) -> None:
        with self._writing() as cursor:
            sqlite_batches.save_batch(cursor, batch)

    def get_batch(self, batch_id: str) -> Batch | None:
        with self._reading() as cursor:
            return sqlite_batches.get_batch(cursor, batch_id)

    def list_batches(self, name: str | None = None, open_only: bool = False) -> list[Batch]:
        with self._reading() as cursor:
            return sqlite_batches.list_batches(cursor, name, open_only)

    def add_batch_note(self, note: BatchNote) -> None:
        with self._writing() as cursor:
            sqlite_batches.add_note(cursor, note)

    def notes_of(self, batch_id: str) -> list[BatchNote]:
        with self._reading() as cursor:
            return sqlite_batches.notes_of(cursor, batch_id)

    def delete_batch(self, batch_id: str) -> bool:
        with self._writing() as cursor:
            return sqlite_batches.delete_batch(cursor, batch_id)

    def delete_batch_note(self, note_id: str) -> bool:
        with self._writing() as cursor:
            return sqlite_batches.delete_note(cursor, note_id)

    def close(self) -> None:
        with self._lock, self._pool_lock:
            if self._closed:
                return
            self._closed = True
            readers, self._readers = self._readers, []
            for db in readers:
                db.close()
            self._db.close()
