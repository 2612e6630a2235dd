"""The embedded SQLite backend: one file, WAL mode, zero set-up."""

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

from ..errors import Closed, StorageError
from ..probe import Reading
from .base import Event, Repository

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    ts REAL NOT NULL,
    probe TEXT NOT NULL,
    name TEXT NOT NULL,
    temperature REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS readings_probe_ts ON readings (probe, ts);
CREATE INDEX IF NOT EXISTS readings_ts ON readings (ts);
CREATE TABLE IF NOT EXISTS events (
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class SqliteRepository(Repository):
    """A Repository in one SQLite file (or ``:memory:``), shared safely between threads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        db = None
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            self._db = db
        except (sqlite3.Error, OSError) as exc:
            if db is not None:
                db.close()
            raise StorageError(f"cannot open the SQLite database {self.path}: {exc} "
                               "(check the path, its permissions and free disk space)") from exc
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def _cursor(self, write: bool = False) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            if self._closed:
                raise Closed("the repository is closed")
            cursor = self._db.cursor()
            try:
                if write:
                    cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                if write:
                    cursor.execute("COMMIT")
            except BaseException as exc:
                if write and self._db.in_transaction:
                    self._db.rollback()
                if isinstance(exc, sqlite3.Error):
                    raise StorageError(f"SQLite error on {self.path}: {exc}") from exc
                raise
            finally:
                cursor.close()

    def add_readings(self, readings: Sequence[Reading]) -> None:
        with self._cursor(write=True) as cursor:
            cursor.executemany(
                "INSERT INTO readings (ts, probe, name, temperature) VALUES (?, ?, ?, ?)",
                [(r.ts, r.probe, r.name, r.temperature) for r in readings])

    def latest(self) -> list[Reading]:
        with self._cursor() as cursor:
            probes = [row[0] for row in cursor.execute("SELECT DISTINCT probe FROM readings ORDER BY probe")]
            rows = [cursor.execute(
                "SELECT ts, probe, name, temperature FROM readings WHERE probe = ? "
                "ORDER BY ts DESC LIMIT 1", (probe,)).fetchone() for probe in probes]
        return [Reading(*row) for row in rows]

    def readings_between(self, since: float, until: float, probe: str | None = None) -> list[Reading]:
        query = "SELECT ts, probe, name, temperature FROM readings WHERE ts >= ? AND ts < ?"
        params: list[Any] = [since, until]
        if probe is not None:
            query += " AND probe = ?"
            params.append(probe)
        with self._cursor() as cursor:
            return [Reading(*row) for row in cursor.execute(query + " ORDER BY ts, probe", params)]

    def add_event(self, event: Event) -> None:
        with self._cursor(write=True) as cursor:
            cursor.execute("INSERT INTO events (ts, kind, detail) VALUES (?, ?, ?)",
                           (event.ts, event.kind, json.dumps(dict(event.detail))))

    def events_between(self, since: float, until: float) -> list[Event]:
        with self._cursor() as cursor:
            rows = cursor.execute("SELECT ts, kind, detail FROM events WHERE ts >= ? AND ts < ? "
                                  "ORDER BY ts, rowid", (since, until)).fetchall()
        return [Event(ts, kind, json.loads(detail)) for ts, kind, detail in rows]

    def load_settings(self) -> dict[str, Any]:
        with self._cursor() as cursor:
            return {key: json.loads(value) for key, value in cursor.execute("SELECT key, value FROM settings")}

    def save_settings(self, settings: Mapping[str, Any]) -> None:
        with self._cursor(write=True) as cursor:
            cursor.executemany("INSERT INTO settings (key, value) VALUES (?, ?) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                               [(key, json.dumps(value)) for key, value in settings.items()])

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._db.close()
