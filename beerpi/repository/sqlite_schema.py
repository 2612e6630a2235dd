"""The SQLite schema, its roll-up trigger, and the upgrade from older versions.

Version 1 (the walking skeleton, ``user_version`` 0) kept float seconds and no keys.
Version 2 keys readings by (probe, integer milliseconds) so a replay cannot duplicate,
gives events an id, and keeps one roll-up table per granularity in ``rollup.LEVELS_MS``.
Version 3 adds ``profiles``, the saved profiles (created, empty, in a version 2 database).
Version 4 adds ``marks`` (Repository.raise_marks), created empty in an older database.
Version 5 adds ``batches`` and ``batch_notes`` (``sqlite_batches``), created empty in an older database.
"""

from __future__ import annotations

import sqlite3

from beerpi.repository import sqlite_batches
from beerpi.repository.rollup import LEVELS_MS, label

SCHEMA_VERSION = 5


def _bucket(column: str, granularity: int) -> str:
    """SQL for the start of the granularity-aligned bucket (flooring negatives too)."""
    return f"{column} - (({column} % {granularity}) + {granularity}) % {granularity}"


TABLES = [
    """CREATE TABLE IF NOT EXISTS readings (
        probe TEXT NOT NULL,
        ts INTEGER NOT NULL,  -- Unix milliseconds
        name TEXT NOT NULL,
        temperature REAL NOT NULL,
        heater INTEGER,  -- 1 on, 0 off, NULL unknown
        PRIMARY KEY (probe, ts)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS readings_ts ON readings (ts, probe)",
    """CREATE TABLE IF NOT EXISTS events (
        id TEXT PRIMARY KEY,
        ts INTEGER NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL  -- JSON
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS events_ts ON events (ts, id)",
    """CREATE TABLE IF NOT EXISTS settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL  -- JSON
    )""",
    """CREATE TABLE IF NOT EXISTS profiles (
        key TEXT PRIMARY KEY,  -- the name, case-folded (profiles.profile_key)
        name TEXT NOT NULL,
        steps TEXT NOT NULL,  -- JSON
        saved INTEGER NOT NULL  -- Unix milliseconds
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS marks (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID""",
    # raw_kept_from: Unix ms before which --keep-raw deleted the raw readings (roll-ups kept);
    # identity: the database's random id (text), see Repository.identity
    # profiles_seeded: 1 once the starter profiles were stored (Repository.seed_profiles)
    """CREATE TABLE IF NOT EXISTS meta (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID""",
] + [
    f"""CREATE TABLE IF NOT EXISTS rollup_{label(g)} (
        probe TEXT NOT NULL,
        ts INTEGER NOT NULL,  -- bucket start, Unix milliseconds
        t_min REAL NOT NULL,
        t_max REAL NOT NULL,
        t_sum REAL NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (probe, ts)
    ) WITHOUT ROWID""" for g in LEVELS_MS
] + sqlite_batches.TABLES

# Fires only for rows actually inserted (ON CONFLICT DO NOTHING skips a replayed reading), and in
# the same transaction, so the roll-ups stay exact.
TRIGGER = "CREATE TRIGGER IF NOT EXISTS readings_rollup AFTER INSERT ON readings BEGIN\n" + "".join(
    f"""    INSERT INTO rollup_{label(g)} (probe, ts, t_min, t_max, t_sum, n)
        VALUES (NEW.probe, {_bucket('NEW.ts', g)}, NEW.temperature, NEW.temperature, NEW.temperature, 1)
        ON CONFLICT (probe, ts) DO UPDATE SET
            t_min = min(t_min, excluded.t_min), t_max = max(t_max, excluded.t_max),
            t_sum = t_sum + excluded.t_sum, n = n + 1;
""" for g in LEVELS_MS) + "END"


# Replaces each `coarser` bucket of a probe in [?, ?) by the sum of its `finer` rows (minute
# roll-ups copied in from another store: their coarse buckets are made exact again).
RECOMPUTE = {coarser: f"""INSERT INTO rollup_{label(coarser)} (probe, ts, t_min, t_max, t_sum, n)
        SELECT probe, {_bucket('ts', coarser)} AS b, min(t_min), max(t_max), sum(t_sum), sum(n)
        FROM rollup_{label(finer)} WHERE probe = ? AND ts >= ? AND ts < ? GROUP BY b
        ON CONFLICT (probe, ts) DO UPDATE SET
            t_min = excluded.t_min, t_max = excluded.t_max, t_sum = excluded.t_sum, n = excluded.n"""
             for finer, coarser in zip(LEVELS_MS, LEVELS_MS[1:])}


def create_schema(db: sqlite3.Connection) -> None:
    """Create whatever is missing (inside the caller's transaction)."""
    for statement in TABLES:
        db.execute(statement)
    db.execute(TRIGGER)


def migrate(db: sqlite3.Connection) -> None:
    """Bring an older database up to SCHEMA_VERSION (inside the caller's transaction)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(f"schema version {version} was written by a newer BeerPi; upgrade BeerPi")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0 and "readings" in tables:
        _from_version_1(db, tables)


def _from_version_1(db: sqlite3.Connection, tables: set[str]) -> None:
    for index in ("readings_probe_ts", "readings_ts", "events_ts"):
        db.execute(f"DROP INDEX IF EXISTS {index}")
    db.execute("ALTER TABLE readings RENAME TO readings_v1")
    if "events" in tables:
        db.execute("ALTER TABLE events RENAME TO events_v1")
    create_schema(db)
    db.execute("INSERT OR IGNORE INTO readings (probe, ts, name, temperature) "
               "SELECT probe, CAST(round(ts * 1000) AS INTEGER), name, temperature "
               "FROM readings_v1 ORDER BY probe, ts")
    db.execute("DROP TABLE readings_v1")
    if "events" in tables:
        db.execute("INSERT INTO events (id, ts, kind, detail) "
                   "SELECT lower(hex(randomblob(16))), CAST(round(ts * 1000) AS INTEGER), kind, detail "
                   "FROM events_v1")
        db.execute("DROP TABLE events_v1")
