"""The one way BeerPi writes to an SQLite file (an immediate transaction, undone on any error),
and the one way it reads several things as one snapshot."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def immediate_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Cursor]:
    """BEGIN IMMEDIATE … COMMIT on ``db`` (opened with isolation_level=None).

    Any exception, from SQLite or not, rolls back and is re-raised as it is, so a failed
    write never leaves the write lock held.
    """
    cursor = db.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")
        yield cursor
        cursor.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.rollback()
        raise
    finally:
        cursor.close()


@contextmanager
def read_transaction(cursor: sqlite3.Cursor) -> Iterator[sqlite3.Cursor]:
    """BEGIN … COMMIT around reads that must see one snapshot of the file (a writer may commit between them)."""
    cursor.execute("BEGIN")
    try:
        yield cursor
    finally:
        cursor.execute("COMMIT")
