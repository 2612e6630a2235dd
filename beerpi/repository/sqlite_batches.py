"""Batches and their notes in SQLite: the tables, and each statement of the contract's batch part.

At most one open batch per chamber is the partial unique index ``batches_open`` (``chamber``
where ``ended IS NULL``): a save that would open a second one fails inside its transaction,
whatever process made it, and raises ``OpenBatchConflict``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from beerpi.batches.model import Batch, BatchNote, OpenBatchConflict, check_batch, check_note, name_key
from beerpi.repository import rollup

TABLES = [
    """CREATE TABLE IF NOT EXISTS batches (
        id TEXT PRIMARY KEY,
        chamber TEXT NOT NULL,
        name TEXT NOT NULL,
        key TEXT NOT NULL,  -- the name, case-folded: what a search looks in (model.name_key)
        style TEXT,
        notes TEXT NOT NULL,
        hydrometer TEXT,
        started INTEGER NOT NULL,  -- Unix milliseconds
        ended INTEGER,  -- Unix milliseconds; NULL while the batch is open
        og REAL,
        fg REAL
    ) WITHOUT ROWID""",
    "CREATE UNIQUE INDEX IF NOT EXISTS batches_open ON batches (chamber) WHERE ended IS NULL",
    "CREATE INDEX IF NOT EXISTS batches_started ON batches (started, id)",
    """CREATE TABLE IF NOT EXISTS batch_notes (
        id TEXT PRIMARY KEY,
        batch TEXT NOT NULL,
        ts INTEGER NOT NULL,  -- Unix milliseconds
        text TEXT NOT NULL,
        gravity REAL
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS batch_notes_batch ON batch_notes (batch, ts, id)",
]

BATCH_COLUMNS = "id, chamber, name, style, notes, hydrometer, started, ended, og, fg"
NOTE_COLUMNS = "id, batch, ts, text, gravity"


def _ms(ts: float | None) -> int | None:
    return None if ts is None else rollup.to_ms(ts)


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else rollup.from_ms(ms)


def save_batch(cursor: sqlite3.Cursor, batch: Batch) -> None:
    """Insert or replace ``batch`` (inside the caller's write transaction)."""
    batch = check_batch(batch)
    row = (batch.id, batch.chamber, batch.name, name_key(batch.name), batch.style, batch.notes, batch.hydrometer,
           _ms(batch.started), _ms(batch.ended), batch.og, batch.fg)
    try:
        cursor.execute(
            "INSERT INTO batches (id, chamber, name, key, style, notes, hydrometer, started, ended, og, fg) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET chamber = excluded.chamber, "
            "name = excluded.name, key = excluded.key, style = excluded.style, notes = excluded.notes, "
            "hydrometer = excluded.hydrometer, started = excluded.started, ended = excluded.ended, "
            "og = excluded.og, fg = excluded.fg", row)
    except sqlite3.IntegrityError as exc:
        if "batches.chamber" not in str(exc):
            raise
        raise OpenBatchConflict(f"the chamber {batch.chamber!r} already has an open batch: end it first") from None


def _batch(row: tuple[Any, ...]) -> Batch:
    batch_id, chamber, name, style, notes, hydrometer, started, ended, og, fg = row
    return Batch(batch_id, chamber, name, rollup.from_ms(started), _seconds(ended), style, notes, hydrometer, og, fg)


def get_batch(cursor: sqlite3.Cursor, batch_id: str) -> Batch | None:
    row = cursor.execute(f"SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?", (batch_id,)).fetchone()
    return None if row is None else _batch(row)


def list_batches(cursor: sqlite3.Cursor, name: str | None, open_only: bool) -> list[Batch]:
    query, params = f"SELECT {BATCH_COLUMNS} FROM batches WHERE 1", []
    if name:
        query += " AND instr(key, ?) > 0"
        params.append(name_key(name))
    if open_only:
        query += " AND ended IS NULL"
    return [_batch(row) for row in cursor.execute(query + " ORDER BY started DESC, id DESC", params)]


def add_note(cursor: sqlite3.Cursor, note: BatchNote) -> None:
    note = check_note(note)
    cursor.execute("INSERT INTO batch_notes (id, batch, ts, text, gravity) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (id) DO NOTHING", (note.id, note.batch, _ms(note.ts), note.text, note.gravity))


def notes_of(cursor: sqlite3.Cursor, batch_id: str) -> list[BatchNote]:
    rows = cursor.execute(f"SELECT {NOTE_COLUMNS} FROM batch_notes WHERE batch = ? ORDER BY ts, id", (batch_id,))
    return [BatchNote(note_id, batch, rollup.from_ms(ts), text, gravity) for note_id, batch, ts, text, gravity in rows]


def delete_batch(cursor: sqlite3.Cursor, batch_id: str) -> bool:
    """Delete the batch and its notes, in the caller's one transaction."""
    cursor.execute("DELETE FROM batch_notes WHERE batch = ?", (batch_id,))
    return cursor.execute("DELETE FROM batches WHERE id = ?", (batch_id,)).rowcount > 0


def delete_note(cursor: sqlite3.Cursor, note_id: str) -> bool:
    return cursor.execute("DELETE FROM batch_notes WHERE id = ?", (note_id,)).rowcount > 0
