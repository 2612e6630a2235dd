"""The local spool: readings, events and settings not yet confirmed by the database.

An append-only SQLite file (``spool-<database>.sqlite3``) owned by the writer thread of
``WriteBehind``. Rows are delivered oldest first and deleted once the database has
confirmed them, so a restart during an outage loses nothing: whatever is left is delivered
before anything new. The file also keeps a mirror of the last settings read from the
database, so the controller starts with the user's target even when the database is
unreachable; it is used only for the database it was read from (spool_binding.py says how
a spool is bound to its database), else the configured settings are.

The spool is bounded by a number of readings. When it is full the oldest readings are
dropped, in chunks of 1 % of the bound so the log is not flooded, with an error in the
log and a ``readings_dropped`` event that travels to the database with the rest.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from beerpi.base.errors import Closed, ConfigError, StorageCorrupt, StorageError
from beerpi.hardware.probe import Reading
from beerpi.repository.base import Event, Identity
from beerpi.repository.files import check_intact, create_private, is_corruption, unavailable
from beerpi.repository.spool_binding import (
    ForeignSpool,
    Owner,
    database_name,
    foreign_reason,
    read_owner,
    remove_read_leftovers,
    same_database,
    spool_path_for,
)
from beerpi.repository.sqlite_tx import immediate_transaction

__all__ = ["Spool", "SettingsChange", "Item", "ForeignSpool", "spool_path_for"]

log = logging.getLogger(__name__)

DEFAULT_MAX_READINGS = 1_000_000
DROP_FRACTION = 0.01  # drop at least this share of the bound at once when full
RESCUE = ("it may hold readings not yet in the database: move it aside to start a new one, and "
          "rescue them with `sqlite3 {path} .recover`")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    ts REAL NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_kind_seq ON pending (kind, seq);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """A ``save_settings`` call waiting to be written."""

    values: Mapping[str, Any]


Item = Reading | Event | SettingsChange


def _encode(item: Item) -> tuple[str, float, str]:
    if isinstance(item, Reading):
        kind, ts = "reading", item.ts
    elif isinstance(item, Event):
        kind, ts = "event", item.ts
    else:
        return "settings", time.time(), json.dumps(dict(item.values))
    payload = {f.name: getattr(item, f.name) for f in fields(item)}
    if kind == "event":
        payload["detail"] = dict(payload["detail"])
    return kind, ts, json.dumps(payload)


def _decode(kind: str, payload: str) -> Item:
    data = json.loads(payload)
    if kind == "reading":
        return Reading(**data)
    if kind == "event":
        return Event(**data)
    return SettingsChange(data)


class Spool:
    """Items waiting for the database, oldest first, in one SQLite file.

    ``target`` is the URL of the database the items are meant for, and ``identity`` the
    identity read from it (None: it could not be read). A spool that still holds items for
    another database raises ForeignSpool, before anything is written to it, rather than
    deliver them to the wrong one; an empty one changes hands, its settings mirror dropped.
    """

    def __init__(self, path: str | os.PathLike[str], max_readings: int = DEFAULT_MAX_READINGS,
                 target: str = "", identity: Identity | None = None) -> None:
        if max_readings < 1:
            raise ConfigError(f"the spool bound must be at least 1 reading, not {max_readings}")
        self.path = str(path)
        self.max_readings = max_readings
        self.name = database_name(target)
        self.identity: str | None = None  # the identity of the database the spool is bound to
        self._db = None
        try:
            if self.path != ":memory:":
                # Read-only first: a damaged spool is named as such and never written to,
                # and one holding items for another database is not written to either.
                absent = [side for side in (Path(f"{self.path}-wal"), Path(f"{self.path}-shm")) if not side.exists()]
                check_intact(Path(self.path), "the spool file", RESCUE.format(path=self.path))
                owner = read_owner(Path(self.path))
                if owner is not None and (reason := foreign_reason(self.path, owner, self.name, identity)):
                    remove_read_leftovers(absent)
                    raise ForeignSpool(reason)
                create_private(Path(self.path))
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                       timeout=0.5)
            # One process at a time: a second BeerPi on the same spool would deliver twice.
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # survives a crash of the process
            self._db.executescript(SCHEMA)
            self._readings = self._db.execute(
                "SELECT count(*) FROM pending WHERE kind = 'reading'").fetchone()[0]
            self._rows = self._db.execute("SELECT count(*) FROM pending").fetchone()[0]
            self._claim(identity)
        except BaseException as exc:
            if self._db is not None:
                self._db.close()
            cause = exc.__cause__ if isinstance(exc, StorageError) else exc
            if isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause):
                raise StorageError(f"the spool {self.path} is in use by another BeerPi process: "
                                   "stop it or give this one another --spool") from exc
            if isinstance(exc, sqlite3.Error) and is_corruption(exc):
                raise StorageCorrupt(f"the spool file {self.path} is corrupt: {exc}; "
                                     f"{RESCUE.format(path=self.path)}; BeerPi will not modify it") from exc
            if isinstance(exc, (sqlite3.Error, OSError)) and not isinstance(exc, StorageError):
                raise unavailable("the spool file", self.path, exc) from exc
            raise
        self._lock = threading.RLock()  # the connection and the counters
        self._closed = False
        self.dropped = 0  # readings dropped because the spool was full, since it was opened

    def _claim(self, identity: Identity | None) -> None:
        """Bind the spool to this database; drop a settings mirror kept for another one."""
        meta = dict(self._db.execute("SELECT key, value FROM meta"))
        owner = Owner(meta.get("target"), meta.get("identity"), self._rows)
        if reason := foreign_reason(self.path, owner, self.name, identity):  # the check before opening raced a writer
            raise ForeignSpool(reason)
        other_name = owner.name is not None and not same_database(owner.name, self.name)
        replaced = identity is not None and owner.identity not in (None, identity.value)
        if replaced and self._rows:
            log.warning("the database %s is a new one (identity %s, the spool was bound to %s): the %d "
                        "items waiting in %s are delivered to it", self.name, identity.value, owner.identity,
                        self._rows, self.path)
        with immediate_transaction(self._db) as cursor:
            if other_name or replaced:
                cursor.execute("DELETE FROM settings")  # another database's settings, never ours
                cursor.execute("DELETE FROM meta WHERE key IN ('mirror_of', 'identity')")
            cursor.execute("INSERT INTO meta (key, value) VALUES ('target', ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (self.name,))
            if identity is not None:
                cursor.execute("INSERT INTO meta (key, value) VALUES ('identity', ?) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (identity.value,))
        self.identity = identity.value if identity is not None else (
            None if other_name or replaced else owner.identity)

    def bind(self, identity: Identity) -> None:
        """Record the identity of the database, read once it could be (the spool had none)."""
        with self._transaction() as cursor:
            cursor.execute("INSERT INTO meta (key, value) VALUES ('identity', ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (identity.value,))
        self.identity = identity.value

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            if self._closed:
                raise Closed("the spool is closed")
            try:
                with immediate_transaction(self._db) as cursor:
                    yield cursor
            except sqlite3.Error as exc:
                raise StorageError(f"cannot write the spool {self.path}: {exc} "
                                   "(check free disk space)") from exc

    @property
    def readings(self) -> int:
        """How many readings are waiting."""
        return self._readings

    def __len__(self) -> int:
        return self._rows

    def append(self, items: Sequence[Item]) -> int:
        """Add ``items`` at the end in one transaction; return the sequence number of the last."""
        rows = [_encode(item) for item in items]
        added = sum(kind == "reading" for kind, _, _ in rows)
        with self._lock:  # the counters change with the rows, whichever thread appends
            with self._transaction() as cursor:
                cursor.executemany("INSERT INTO pending (kind, ts, payload) VALUES (?, ?, ?)", rows)
                for item in items:
                    if isinstance(item, SettingsChange):
                        self._write_mirror(cursor, item.values)
                dropped = self._drop_oldest(cursor, self._readings + added)
                last = cursor.execute("SELECT max(seq) FROM pending").fetchone()[0] or 0
            self._readings += added - dropped
            self._rows += len(rows) - dropped + (1 if dropped else 0)
            self.dropped += dropped
        return last

    def append_durably(self, items: Sequence[Item]) -> int:
        """``append``, synced to the disk before it returns: it survives a power cut."""
        with self._lock:
            if self._closed:
                raise Closed("the spool is closed")
            self._db.execute("PRAGMA synchronous=FULL")
            try:
                return self.append(items)
            finally:
                self._db.execute("PRAGMA synchronous=NORMAL")

    def _drop_oldest(self, cursor: sqlite3.Cursor, total: int) -> int:
        excess = total - self.max_readings
        if excess <= 0:
            return 0
        count = min(max(excess, int(self.max_readings * DROP_FRACTION)), total)
        first, last, dropped = cursor.execute(
            "SELECT min(ts), max(ts), count(*) FROM (SELECT ts FROM pending WHERE kind = 'reading' "
            "ORDER BY seq LIMIT ?)", (count,)).fetchone()
        cursor.execute("DELETE FROM pending WHERE seq IN (SELECT seq FROM pending WHERE kind = 'reading' "
                       "ORDER BY seq LIMIT ?)", (count,))
        now = time.time()
        event = Event(now, "readings_dropped", {
            "count": dropped, "first_ts": first, "last_ts": last, "max_readings": self.max_readings,
            "reason": "the spool is full: the database has been unreachable for too long"})
        cursor.execute("INSERT INTO pending (kind, ts, payload) VALUES (?, ?, ?)", _encode(event))
        log.error("SPOOL FULL: dropped the %d oldest readings (%s to %s) from %s to stay within "
                  "%d readings; check the database connection", dropped, _iso(first), _iso(last),
                  self.path, self.max_readings)
        return dropped

    def head(self, limit: int) -> list[tuple[int, Item]]:
        """The oldest ``limit`` items with their sequence numbers."""
        with self._lock:
            if self._closed:
                raise Closed("the spool is closed")
            try:
                rows = self._db.execute("SELECT seq, kind, payload FROM pending ORDER BY seq LIMIT ?",
                                        (limit,)).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"cannot read the spool {self.path}: {exc}") from exc
        return [(seq, _decode(kind, payload)) for seq, kind, payload in rows]

    def remove_through(self, seq: int) -> None:
        """Forget every item up to and including ``seq``: the database has them."""
        with self._lock:
            with self._transaction() as cursor:
                readings, rows = cursor.execute(
                    "SELECT total(kind = 'reading'), count(*) FROM pending WHERE seq <= ?",
                    (seq,)).fetchone()
                cursor.execute("DELETE FROM pending WHERE seq <= ?", (seq,))
            self._readings -= int(readings)
            self._rows -= rows

    def waiting_settings(self) -> list[dict[str, Any]]:
        """The settings changes in the spool, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT payload FROM pending WHERE kind = 'settings' ORDER BY seq").fetchall()
        return [json.loads(payload) for payload, in rows]

    # -- the settings mirror --------------------------------------------------------------

    def mirror(self) -> dict[str, Any]:
        """The settings mirror as it is, whichever database it was read from."""
        with self._lock:
            return {key: json.loads(value) for key, value in self._db.execute("SELECT key, value FROM settings")}

    def mirror_is_trusted(self) -> bool:
        """Whether the mirror was read from this spool's database (not kept by an older BeerPi,
        nor for another database)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'mirror_of'").fetchone()
        return row is not None and row[0] == self.name

    def trusted_mirror(self) -> dict[str, Any] | None:
        """The last settings read from this spool's database, with the changes made since;
        None if the mirror is not known to be that database's."""
        return self.mirror() if self.mirror_is_trusted() else None

    def replace_mirror(self, settings: Mapping[str, Any]) -> None:
        """Make ``settings``, just read from the database, the whole mirror."""
        with self._transaction() as cursor:
            cursor.execute("DELETE FROM settings")
            self._write_mirror(cursor, settings)
            cursor.execute("INSERT INTO meta (key, value) VALUES ('mirror_of', ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (self.name,))

    def update_mirror(self, settings: Mapping[str, Any]) -> None:
        """Put ``settings``, now stored in the database, into the mirror."""
        with self._transaction() as cursor:
            self._write_mirror(cursor, settings)

    @staticmethod
    def _write_mirror(cursor: sqlite3.Cursor, settings: Mapping[str, Any]) -> None:
        cursor.executemany("INSERT INTO settings (key, value) VALUES (?, ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           [(key, json.dumps(value)) for key, value in settings.items()])

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._db.close()


def _iso(ts: float | None) -> str:
    if ts is None:
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) + " UTC"
